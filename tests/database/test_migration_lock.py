"""The migration lock: held by the transaction that migrates, and only by it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from vde.database.migration_lock import (
    MIGRATION_LOCK_KEY,
    MigrationLockTimeout,
    check_timeout,
    lock_key_parts,
    lock_migrations,
)
from vde.testing import ScratchDatabase

TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
WAITERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    "AND classid = $1 AND objid = $2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def test_lock_lives_and_dies_with_the_transaction_that_took_it(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    engine = vde_db.engine
    with pytest.raises(RuntimeError, match="half-way"):
        async with engine.transaction():
            assert await lock_migrations(engine) is False
            assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is False
            raise RuntimeError("migration failed half-way")
    assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is True


async def test_lock_needs_an_open_transaction(vde_db: ScratchDatabase) -> None:
    with pytest.raises(RuntimeError, match="needs an open engine.transaction"):
        await lock_migrations(vde_db.engine)


async def test_lock_wait_ends_after_timeout_and_keeps_the_sessions_lock_timeout(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is True
    engine = vde_db.engine
    with pytest.raises(MigrationLockTimeout, match="over 0.1 s"):
        async with engine.transaction():
            await lock_migrations(engine, timeout=0.1)
    # Waited, got it: the migration's statements keep the session's setting.
    async with engine.transaction() as transaction:
        await transaction.connection.execute("SET LOCAL lock_timeout = '7s'")
        waiting = asyncio.create_task(lock_migrations(engine, timeout=60))
        for _ in range(1200):
            if await vde_conn.fetchval(WAITERS, *lock_key_parts()):
                break
            await asyncio.sleep(0.05)
        await vde_conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        assert await waiting is True
        setting = await transaction.connection.fetchval("SHOW lock_timeout")
        assert setting == "7s"


@pytest.mark.parametrize(
    ("seconds", "milliseconds"), [(0, 0), (0.001, 1), (0.0015, 2), (2.5, 2500)]
)
def test_timeout_in_whole_milliseconds(seconds: float, milliseconds: int) -> None:
    assert check_timeout(seconds) == milliseconds


@pytest.mark.parametrize("seconds", [0.0005, -1, float("inf"), float("nan"), 3_000_000])
def test_timeout_that_lock_timeout_cannot_express_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="--timeout must be 0"):
        check_timeout(seconds)
