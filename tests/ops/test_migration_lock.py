"""The migration lock: held on its own connection, released when the block fails."""

from __future__ import annotations

import asyncpg
import pytest

from vde.ops.migration_lock import MIGRATION_LOCK_KEY, migration_lock
from vde.testing import ScratchDatabase

TRY_LOCK = "SELECT pg_try_advisory_lock($1)"


async def test_lock_is_held_inside_and_released_when_the_block_fails(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(RuntimeError, match="half-way"):
        async with migration_lock(vde_db.engine):
            assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is False
            raise RuntimeError("migration failed half-way")
    assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is True


async def test_lock_wait_ends_with_lock_not_available_after_timeout(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    assert await vde_conn.fetchval(TRY_LOCK, MIGRATION_LOCK_KEY) is True
    with pytest.raises(asyncpg.exceptions.LockNotAvailableError):
        async with migration_lock(vde_db.engine, timeout=0.1):
            pytest.fail("got a lock another session holds")
