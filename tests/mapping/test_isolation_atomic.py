"""``run_atomic`` on a pool whose transactions run at REPEATABLE READ or SERIALIZABLE.

The map and the interleavings are those of ``tests/mapping/races.py``. The unit
of work takes its snapshot; then, on its first attempt only, the other session
commits its write (a child under X, or a change of X); then the work writes.
At REPEATABLE READ and SERIALIZABLE the first attempt fails with
serialization_failure and ``run_atomic`` runs the work again, with a snapshot
that shows the other's commit; at READ COMMITTED each statement sees it at
once. Both sessions are the application's DML-only role.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine

from tests.conftest import connect_as
from tests.mapping.races import (
    AFTER,
    AFTER_CHILD,
    CHILD,
    LEVEL_IDS,
    LEVELS,
    OPS,
    RC,
    SWAP_THEN_CHILD_UNDER_Y,
    X,
    operations,
    paths,
)
from vde.database import connection_pool, use_engine
from vde.errors import TileNotFoundError
from vde.mapping import add_tile
from vde.testing import ScratchDatabase
from vde.transactions import Tx, run_atomic

Row = dict[str, Any]


async def other_session(
    vde_db: ScratchDatabase, role: str, level: str,
    work: Callable[[asyncpg.Connection], Awaitable[Any]],
) -> None:
    """``work`` in a transaction of its own at ``level``, committed."""
    conn = await connect_as(vde_db, role)
    try:
        isolation = level.lower().replace(" ", "_")
        async with conn.transaction(isolation=isolation):
            await work(conn)
    finally:
        await conn.close()


@pytest.fixture
def pool_at(vde_db: ScratchDatabase, dml_role: str) -> Any:
    """``async with pool_at(level):`` the tables on a pool of the app role whose
    transactions start at ``level`` (``default_transaction_isolation``)."""

    def at(level: str) -> Any:
        engine = PostgresEngine(config={
            "dsn": vde_db.url,
            "user": dml_role,
            "server_settings": {"default_transaction_isolation": level.lower()},
        })
        return _tables_on(engine)

    return at


@asynccontextmanager
async def _tables_on(engine: PostgresEngine) -> AsyncIterator[PostgresEngine]:
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=2):
            yield engine


async def snapshot_at(tx: Tx, level: str) -> None:
    """Take the transaction's snapshot (a SELECT: SHOW takes none) and check
    its level."""
    setting = "SELECT current_setting('transaction_isolation')"
    assert await tx.connection.fetchval(setting) == level.lower()


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("op", OPS)
async def test_change_of_x_is_run_again_with_the_new_child(
    op: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,
    pool_at: Any,
    vde_conn: asyncpg.Connection,
) -> None:
    add, change = operations(op, race_map)
    stale, other = levels
    attempts: list[int] = []
    retried: list[Exception] = []

    async def work(tx: Tx) -> None:
        attempts.append(len(attempts) + 1)
        await snapshot_at(tx, stale)
        if len(attempts) == 1:
            await other_session(vde_db, dml_role, other, add)
        await change(tx.connection)

    async with pool_at(stale):
        await run_atomic(work, on_retry=retried.append)

    expected = [] if stale == RC else [asyncpg.exceptions.SerializationError]
    assert [type(error) for error in retried] == expected
    assert await paths(vde_conn) == AFTER_CHILD[op]


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("op", OPS)
async def test_new_child_of_x_is_run_again_after_the_change(
    op: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,
    pool_at: Any,
    vde_conn: asyncpg.Connection,
) -> None:
    _, change = operations(op, race_map)
    stale, other = levels
    attempts: list[int] = []
    retried: list[Exception] = []

    async def work(tx: Tx) -> None:
        attempts.append(len(attempts) + 1)
        await snapshot_at(tx, stale)
        if len(attempts) == 1:
            await other_session(vde_db, dml_role, other, change)
        await add_tile(tx, CHILD, "child", "c")

    async with pool_at(stale):
        if op == "swap":  # on its new snapshot the child finds Y at '1'
            await run_atomic(work, on_retry=retried.append)
        else:
            gone = re.escape(f"no tile at {X} to be")
            with pytest.raises(TileNotFoundError, match=gone):
                await run_atomic(work, on_retry=retried.append)

    expected = [] if stale == RC else [asyncpg.exceptions.SerializationError]
    assert [type(error) for error in retried] == expected
    assert await paths(vde_conn) == (
        SWAP_THEN_CHILD_UNDER_Y if op == "swap" else AFTER[op]
    )
