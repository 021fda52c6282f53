"""vde through a real PgBouncer in transaction mode (``tests/pooler.py``).

Behind such a pooler each transaction may run on another server connection.
To make that certain rather than likely, a second client holds a transaction
open (``occupied``), so the pooler must lend the next transaction a server
connection other than the one it lent last.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from bench.pgbouncer import PgBouncer
from tests.pooler import Pooled
from vde.auth.tables import User
from vde.database import connection_pool, make_engine, use_engine
from vde.database.pool_mode import PoolerModeError, connect_options
from vde.mapping import mapping_user_id_for
from vde.testing import ScratchDatabase
from vde.transactions import atomic, run_atomic

BACKEND_PID = "SELECT pg_backend_pid()"


@asynccontextmanager
async def occupied(url: str) -> AsyncIterator[int]:
    """A client through the pooler inside an open transaction: the server
    connection it holds (its pid) is lent to nobody else meanwhile."""
    connection = await asyncpg.connect(
        **connect_options({"dsn": url}, "transaction")
    )
    try:
        async with connection.transaction():
            yield await connection.fetchval(BACKEND_PID)
    finally:
        await connection.close()


async def test_without_the_switch_a_lost_statement_names_the_switch(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    await vde_conn.execute(
        "INSERT INTO vde_users (id, email) VALUES ('u1', 'ada@example.com')"
    )
    url = pgbouncer.url(vde_db.name)
    engine = make_engine(url, pool_mode="session")
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=1):
            owner = await run_atomic(lambda tx: mapping_user_id_for(tx, "u1"))
            async with occupied(url):
                with pytest.raises(PoolerModeError) as caught:
                    await run_atomic(lambda tx: mapping_user_id_for(tx, "u1"))
    message = str(caught.value)
    assert "VDE_POOL_MODE=transaction" in message, message
    assert isinstance(caught.value.__cause__, asyncpg.InvalidSQLStatementNameError)
    assert owner == 1


async def test_without_the_switch_a_piccolo_query_names_it_too(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase
) -> None:
    url = pgbouncer.url(vde_db.name)
    engine = make_engine(url, pool_mode="session")
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=1):
            await User.insert(User(id="u1", email="ada@example.com"))
            assert await User.exists().where(User.id == "u1")
            async with occupied(url):
                with pytest.raises(PoolerModeError, match="VDE_POOL_MODE=transaction"):
                    await User.exists().where(User.id == "u1")


async def test_with_the_switch_the_same_calls_run(
    pooled: Pooled, vde_conn: asyncpg.Connection
) -> None:
    await vde_conn.execute(
        "INSERT INTO vde_users (id, email) VALUES ('u1', 'ada@example.com')"
    )
    first = await run_atomic(lambda tx: mapping_user_id_for(tx, "u1"))
    async with occupied(pooled.url):
        assert await run_atomic(lambda tx: mapping_user_id_for(tx, "u1")) == first
        assert await User.exists().where(User.id == "u1")


async def test_a_unit_of_work_keeps_one_server_connection(pooled: Pooled) -> None:
    async def unit() -> set[int]:
        async with atomic() as tx:
            seen = set()
            for _ in range(5):
                seen.add(await tx.connection.fetchval(BACKEND_PID))
                await User.count()  # a Piccolo query in the same transaction
                await asyncio.sleep(0.01)
            return seen

    results = await asyncio.gather(*(unit() for _ in range(4)))
    assert all(len(seen) == 1 for seen in results), results
    assert len(set().union(*results)) == 4  # four transactions, four servers
