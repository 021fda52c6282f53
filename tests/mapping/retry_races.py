"""The races of ``races.py`` inside ``run_atomic``, on a pool at a chosen level.

The unit of work takes its snapshot (``Snapshot``); then, on its first attempt
only, the other session commits its write (a child under X, or a change of X);
then the work writes. What each run retried lands in ``retried``; the callers
assert it and what the map holds (tests/mapping/test_isolation_atomic.py on one
server, tests/citus/test_isolation_on_shards.py on a cluster). Both sessions
are the application's DML-only role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from tests.conftest import connect_as
from tests.mapping.races import CHILD, operations
from vde.database import connection_pool, use_engine
from vde.mapping import add_tile
from vde.testing import ScratchDatabase
from vde.transactions import Tx, run_atomic

Row = dict[str, Any]
#: How the work takes its snapshot, at the level given.
Snapshot = Callable[[Tx, str], Awaitable[None]]


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


@asynccontextmanager
async def tables_at(
    vde_db: ScratchDatabase, role: str, level: str
) -> AsyncIterator[PostgresEngine]:
    """The tables on a pool of ``role`` whose transactions start at ``level``
    (``default_transaction_isolation``)."""
    engine = PostgresEngine(config={
        "dsn": vde_db.url,
        "user": role,
        "server_settings": {"default_transaction_isolation": level.lower()},
    })
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=2):
            yield engine


async def snapshot_at(tx: Tx, level: str) -> None:
    """Take the transaction's snapshot (a SELECT: SHOW takes none) and check
    its level."""
    setting = "SELECT current_setting('transaction_isolation')"
    assert await tx.connection.fetchval(setting) == level.lower()


async def change_after_new_child(
    op: str, levels: tuple[str, str], race_map: dict[str, Row],
    vde_db: ScratchDatabase, role: str, snapshot: Snapshot,
    retried: list[Exception],
) -> None:
    """The change of X runs at ``levels[0]``; its first attempt's snapshot
    misses the child the other session (at ``levels[1]``) adds under X."""
    add, change = operations(op, race_map)
    stale, other = levels
    attempts: list[int] = []

    async def work(tx: Tx) -> None:
        attempts.append(len(attempts) + 1)
        await snapshot(tx, stale)
        if len(attempts) == 1:
            await other_session(vde_db, role, other, add)
        await change(tx.connection)

    async with tables_at(vde_db, role, stale):
        await run_atomic(work, on_retry=retried.append)


async def new_child_after_change(
    op: str, levels: tuple[str, str], race_map: dict[str, Row],
    vde_db: ScratchDatabase, role: str, snapshot: Snapshot,
    retried: list[Exception],
) -> None:
    """The child of X is added at ``levels[0]``; its first attempt's snapshot
    misses the other session's change of X (at ``levels[1]``)."""
    _, change = operations(op, race_map)
    stale, other = levels
    attempts: list[int] = []

    async def work(tx: Tx) -> None:
        attempts.append(len(attempts) + 1)
        await snapshot(tx, stale)
        if len(attempts) == 1:
            await other_session(vde_db, role, other, change)
        await add_tile(tx, CHILD, "child", "c")

    async with tables_at(vde_db, role, stale):
        await run_atomic(work, on_retry=retried.append)
