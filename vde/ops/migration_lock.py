"""One migrating process per database: a PostgreSQL advisory lock around ``forwards``.

Piccolo's ``forwards`` reads which migrations ran, runs the others and records
each afterwards; its ``migration`` table has no unique constraint. Two app
instances deploying at once would both run the same migration (the second fails
half-way or records a duplicate). Holding a session-level advisory lock for the
whole run makes the second instance wait, then find nothing left to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine.postgres import PostgresEngine

#: The advisory lock key: the ASCII bytes of ``vde:migr`` as a signed 64-bit
#: integer (``0x7664653a6d696772``). Advisory locks are per database, so
#: migrations of different databases on one server do not wait for each other.
#: ``pg_locks`` shows it as ``classid = 1986291002, objid = 1835624306``.
MIGRATION_LOCK_KEY = int.from_bytes(b"vde:migr", "big")


def lock_key_parts(key: int = MIGRATION_LOCK_KEY) -> tuple[int, int]:
    """``(classid, objid)`` of ``key`` as ``pg_locks`` shows a bigint advisory lock."""
    return key >> 32, key & 0xFFFFFFFF


@asynccontextmanager
async def migration_lock(
    engine: PostgresEngine, timeout: float = 0
) -> AsyncIterator[None]:
    """Hold the migration lock of ``engine``'s database inside the block.

    The lock lives on a connection of its own (not Piccolo's, which may be
    pooled or opened per query), and is released when the block ends, also on
    failure; closing the connection would release it anyway.

    :param timeout: seconds to wait for the lock before giving up with
        ``asyncpg.exceptions.LockNotAvailableError``; 0 waits for ever.
    """
    connection = await engine.get_new_connection()
    try:
        got = await connection.fetchval(
            "SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY
        )
        if not got:
            print("Another `piccolo vde migrate` holds the lock; waiting for it.")
            await connection.execute(f"SET lock_timeout = {int(timeout * 1000)}")
            await connection.execute(
                "SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY
            )
        try:
            yield
        finally:
            if not connection.is_closed():
                await connection.execute(
                    "SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY
                )
    finally:
        await connection.close()
