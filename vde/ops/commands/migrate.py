"""``piccolo vde migrate``: ``forwards all``, safe to start from several instances."""

from __future__ import annotations

import sys

from vde.database.embedded.not_running import EmbeddedServerNotRunning
from vde.database.forwards import apply_pending
from vde.database.migration_lock import MigrationLockTimeout, check_timeout
from vde.ops.cli import engine_or_exit


def _announce_wait() -> None:
    print("Another `piccolo vde migrate` holds the lock; waiting for it.", flush=True)


async def migrate(timeout: float = 0) -> None:
    """Run every app's pending migrations, each with its record in one transaction.

    Deploy scripts use this instead of ``piccolo migrations forwards all``: a
    kill or a lost connection leaves each migration applied and recorded, or
    neither, and the next run continues; when several instances start at once,
    each migration runs once. A failed migration is rolled back, stays
    unrecorded and makes the command exit with status 1.

    :param timeout:
        Seconds to wait for another running migrate (per migration) before
        giving up with exit status 1: 0 waits as long as it takes, else at
        least 0.001.
    """
    try:
        check_timeout(timeout)
    except ValueError as exc:
        sys.exit(str(exc))
    engine = engine_or_exit()
    try:
        applied = await apply_pending(engine, timeout=timeout, on_wait=_announce_wait)
    except EmbeddedServerNotRunning as stopped:  # no connection: nothing started
        sys.exit(str(stopped))
    except MigrationLockTimeout:
        sys.exit(
            f"Another migrate still held the lock after {timeout} s; "
            "try again later or raise --timeout."
        )
    except Exception as exc:
        # The migration that failed was rolled back; earlier ones stay applied.
        sys.exit(
            f"\nMigration failed, rolled back and not recorded: "
            f"{type(exc).__name__}: {exc}"
        )
    if applied:
        print(f"Applied {len(applied)} migration(s).")
    else:
        print("No migrations need to be run.")
