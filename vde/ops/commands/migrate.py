"""``piccolo vde migrate``: ``forwards all``, safe to start from several instances."""

from __future__ import annotations

import sys

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde.ops.migration_lock import migration_lock


async def migrate(timeout: float = 0) -> None:
    """Run every app's pending migrations under vde's migration lock.

    Deploy scripts use this instead of ``piccolo migrations forwards all``: when
    several instances start at once, one migrates and the others wait, then find
    nothing to do. A failed migration is rolled back, stays unrecorded and makes
    the command exit with status 1.

    :param timeout:
        Seconds to wait for another running migrate before giving up (exit
        status 1); 0 waits as long as it takes.
    """
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        sys.exit("vde migrate needs a PostgresEngine as DB in piccolo_conf.py")
    failure = None
    try:
        async with migration_lock(engine, timeout=timeout):
            try:
                result = await run_forwards(app_name="all")
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if not result.success:
                    failure = result.message
    except asyncpg.exceptions.LockNotAvailableError:
        sys.exit(
            f"Another migrate still held the lock after {timeout} s; "
            "try again later or raise --timeout."
        )
    if failure is not None:
        # Piccolo has printed which migration; it was rolled back, earlier ones stay.
        sys.exit(f"Migration failed, rolled back and not recorded: {failure}")
