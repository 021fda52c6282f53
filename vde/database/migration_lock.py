"""One migrating transaction per database: a transaction-level advisory lock.

Piccolo's ``forwards`` reads which migrations ran, runs the others and records
each afterwards; its ``migration`` table has no unique constraint. The lock is
taken inside the very transaction that applies a migration and records it, so
it lives and dies with that work: a killed client or a connection the server
ends (``idle_session_timeout``, a proxy) releases it only together with the
rollback of what it protected. A lock on a connection of its own could vanish
while the migration it guards still runs. Its functions are named with their
schema: a function of schema public that fits the argument better is never
chosen instead.
"""

from __future__ import annotations

import math

import asyncpg
from piccolo.engine.postgres import PostgresEngine

#: The advisory lock key: the ASCII bytes of ``vde:migr`` as a signed 64-bit
#: integer (``0x7664653a6d696772``). Advisory locks are per database, so
#: migrations of different databases on one server do not wait for each other.
#: ``pg_locks`` shows it as ``classid = 1986291002, objid = 1835624306``.
MIGRATION_LOCK_KEY = int.from_bytes(b"vde:migr", "big")

#: PostgreSQL's largest ``lock_timeout``: 2^31 - 1 milliseconds (about 24.8 days).
MAX_TIMEOUT = (2**31 - 1) / 1000


class MigrationLockTimeout(TimeoutError):
    """Another process held the migration lock for longer than the timeout."""


def lock_key_parts(key: int = MIGRATION_LOCK_KEY) -> tuple[int, int]:
    """``(classid, objid)`` of ``key`` as ``pg_locks`` shows a bigint advisory lock."""
    return key >> 32, key & 0xFFFFFFFF


def check_timeout(timeout: float) -> int:
    """``timeout`` (seconds) as ``lock_timeout`` milliseconds; ValueError if unusable.

    ``lock_timeout`` counts whole milliseconds and reads 0 as "no limit", so a
    shorter wait than 1 ms would silently become an endless one.
    """
    if not math.isfinite(timeout) or not (
        timeout == 0 or 0.001 <= timeout <= MAX_TIMEOUT
    ):
        raise ValueError(
            "--timeout must be 0 (wait as long as it takes) or seconds from "
            f"0.001 to {MAX_TIMEOUT}, not {timeout}"
        )
    return math.ceil(timeout * 1000)


async def lock_migrations(engine: PostgresEngine, timeout: float = 0) -> bool:
    """Take the migration lock in ``engine``'s current transaction; True if it waited.

    The lock is released by the transaction's commit or rollback, nothing else.
    Call it first in the transaction that applies (and records) migrations.

    :param timeout: seconds to wait for another holder before giving up with
        :class:`MigrationLockTimeout`; 0 waits for ever.
    """
    milliseconds = check_timeout(timeout)
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("lock_migrations() needs an open engine.transaction()")
    connection = transaction.connection
    if await connection.fetchval(
        "SELECT pg_catalog.pg_try_advisory_xact_lock($1)", MIGRATION_LOCK_KEY
    ):
        return False
    # Only the wait is bounded: the migration's own statements keep the
    # session's lock_timeout.
    saved = await connection.fetchval(
        "SELECT pg_catalog.current_setting('lock_timeout')"
    )
    await connection.execute(
        "SELECT pg_catalog.set_config('lock_timeout', $1, true)", f"{milliseconds}ms"
    )
    try:
        await connection.execute(
            "SELECT pg_catalog.pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY
        )
    except asyncpg.exceptions.LockNotAvailableError as exc:
        raise MigrationLockTimeout(
            f"another process held the migration lock for over {timeout} s"
        ) from exc
    await connection.execute(
        "SELECT pg_catalog.set_config('lock_timeout', $1, true)", saved
    )
    return True
