"""``piccolo vde migrate`` from two real processes at once: one migrates, one waits.

The race is made certain without sleeping: the test takes the migration lock
itself, starts both processes, waits until PostgreSQL shows both of them queued
on the lock, then releases it so that they compete for it at the same moment.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.postgres import PostgresEngine

from vde.database import use_engine
from vde.database.forwards import (
    apply_migration_in_current_transaction,
    pending_migrations,
)
from vde.database.migration_lock import (
    MIGRATION_LOCK_KEY,
    lock_key_parts,
    lock_migrations,
)
from vde.ops.catalog import as_plain, read_catalog
from vde.testing.databases import (
    server_url,
    with_database,
)

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = [
    path for path in REPO.glob("piccolo_migrations/*/*.py") if path.stem != "__init__"
]


def recorded_of(app_name: str) -> list[str]:
    """``app_name`` once per migration of its: how the migration table lists them."""
    return [app_name] * sum(path.parent.name == app_name for path in MIGRATIONS)

WAITERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2
  AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT back to its default in the child, as a terminal's command has it:
    a pytest started as a shell's background job inherits SIGINT ignored, and a
    Python started so never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_migrate(url: str, *args: str) -> subprocess.Popen[str]:
    """``piccolo vde migrate ARGS`` in the repository with ``DATABASE_URL=url``."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "piccolo.main", "vde", "migrate", *args]
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )


async def wait_for_waiters(
    connection: asyncpg.Connection, count: int, processes: list[subprocess.Popen[str]]
) -> None:
    """Poll ``pg_locks`` until ``count`` sessions queue on the migration lock."""
    for _ in range(2400):  # two minutes on a slow, shared machine
        waiting = await connection.fetchval(WAITERS, *lock_key_parts())
        if waiting == count:
            return
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"migrate ended before the race: {process.communicate()}")
        await asyncio.sleep(0.05)
    pytest.fail(f"{count} processes never queued on the migration lock")


async def assert_migrated_like_the_template(url: str, template_name: str) -> None:
    """Every migration recorded exactly once, and the schema the template has."""
    connection = await asyncpg.connect(url)
    try:
        recorded = await connection.fetch(
            "SELECT app_name, name, count(*) AS times FROM migration"
            " GROUP BY app_name, name"
        )
        catalog = as_plain(await read_catalog(connection))
    finally:
        await connection.close()
    template = await asyncpg.connect(with_database(server_url(), template_name))
    try:
        expected = {
            (row["app_name"], row["name"])
            for row in await template.fetch("SELECT app_name, name FROM migration")
        }
        expected_catalog = as_plain(await read_catalog(template))
    finally:
        await template.close()
    assert expected and {(r["app_name"], r["name"]) for r in recorded} == expected
    assert {row["times"] for row in recorded} == {1}
    assert catalog == expected_catalog


async def race_two_migrates(url: str) -> list[tuple[str, str]]:
    """Start two migrates queued on the lock, release them together; their output."""
    holder = await asyncpg.connect(url)
    try:
        await holder.execute("SET idle_session_timeout = 0")
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        processes = [start_migrate(url), start_migrate(url)]
        try:
            await wait_for_waiters(holder, 2, processes)
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        results = [process.communicate(timeout=300) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], results
    finally:
        await holder.close()
    return results


async def test_two_migrates_at_once_apply_each_migration_once(
    vde_empty_url: str, vde_template: str
) -> None:
    results = await race_two_migrates(vde_empty_url)
    await assert_migrated_like_the_template(vde_empty_url, vde_template)
    # Each migration ran in exactly one of the two processes.
    ran = sum(stdout.count("ok! ✔️") for stdout, _ in results)
    assert ran == len(MIGRATIONS), results


async def test_two_migrates_at_once_survive_the_server_ending_idle_sessions(
    vde_empty_url: str, vde_template: str
) -> None:
    # The old lock sat on an idle connection of its own: the server ended it
    # after 100 ms and the second migrate ran the same migrations at once.
    admin = await asyncpg.connect(vde_empty_url)
    try:
        name = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{name}" SET idle_session_timeout = 100')
    finally:
        await admin.close()
    results = await race_two_migrates(vde_empty_url)
    await assert_migrated_like_the_template(vde_empty_url, vde_template)
    assert sum(stdout.count("ok! ✔️") for stdout, _ in results) == len(MIGRATIONS)


async def test_migrate_gives_up_after_timeout_while_another_holds_the_lock(
    vde_empty_url: str,
) -> None:
    holder = await asyncpg.connect(vde_empty_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        process = start_migrate(vde_empty_url, "--timeout=0.2")
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 1, (stdout, stderr)
        assert "Another migrate still held the lock after 0.2 s" in stderr
        # It gave up before migrating anything, even Piccolo's own table.
        assert await holder.fetchval("SELECT to_regclass('migration')") is None
        assert await holder.fetchval("SELECT to_regclass('vde_users')") is None
    finally:
        await holder.close()


@pytest.mark.parametrize("timeout", ["0.0005", "-1", "inf", "nan", "1e10"])
async def test_migrate_refuses_a_timeout_it_cannot_honour_before_printing(
    vde_empty_url: str, timeout: str
) -> None:
    # lock_timeout counts whole milliseconds, 0 meaning "for ever": 0.5 ms
    # used to wait for ever, and -1 failed only after saying it was waiting.
    holder = await asyncpg.connect(vde_empty_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        process = start_migrate(vde_empty_url, f"--timeout={timeout}")
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, (stdout, stderr)
        assert stdout == ""
        assert "--timeout must be 0 (wait as long as it takes) or seconds" in stderr
        assert await holder.fetchval("SELECT to_regclass('migration')") is None
    finally:
        await holder.close()


# Where a migrate can be stopped, each made certain by a lock another session
# holds once auth's migration is applied: (SQL the holder runs in its
# transaction, what the migrate then waits for in pg_locks, the apps whose
# migrations are recorded afterwards, a table of the migration it was in).
INTERRUPTION_POINTS = {
    "waiting for the migration lock": (
        "SELECT pg_advisory_xact_lock({key})",
        "locktype = 'advisory'",
        recorded_of("auth"),
        "vde_llm_job_results",
    ),
    "inside a migration": (
        # llm's migrations go through; mapping's first one creates foreign
        # keys to vde_users, which need a lock that conflicts with this one.
        "LOCK TABLE vde_users IN ROW EXCLUSIVE MODE",
        "relation = 'vde_users'::regclass",
        [*recorded_of("auth"), *recorded_of("llm")],
        "vde_map_items",
    ),
    "after the migration, recording it": (
        "LOCK TABLE migration IN SHARE MODE",
        "relation = 'migration'::regclass",
        recorded_of("auth"),
        "vde_llm_job_results",
    ),
}

# pg_locks shows every database's locks (other test runs share the server).
HERE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"

BLOCKED = f"""
SELECT count(*) FROM pg_locks
WHERE NOT granted AND pid <> pg_backend_pid() AND {HERE} AND {{}}
"""

TERMINATE_WAITER = f"""
SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE NOT granted AND pid <> pg_backend_pid() AND {HERE} AND {{}}
"""

OTHER_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


async def apply_auth_migration(url: str) -> None:
    """Record and apply auth's migrations only, through the reusable runner."""
    engine = PostgresEngine(config={"dsn": url})
    with use_engine(engine):
        async with engine.transaction():
            await lock_migrations(engine)
            await Migration.create_table(if_not_exists=True)
            auth = [m for m in await pending_migrations() if m[0] == "auth"]
            assert auth
            for migration in auth:
                assert await apply_migration_in_current_transaction(*migration)


async def poll(connection: asyncpg.Connection, sql: str, want: int) -> None:
    for _ in range(1200):  # a minute on a slow, shared machine
        if await connection.fetchval(sql) == want:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never reached {want}: {sql}")


@pytest.mark.parametrize(
    ("point", "signum"),
    [
        ("waiting for the migration lock", signal.SIGKILL),
        ("inside a migration", signal.SIGKILL),
        ("after the migration, recording it", signal.SIGINT),
        ("after the migration, recording it", signal.SIGTERM),
        ("after the migration, recording it", signal.SIGKILL),
        # The server ends the migrate's connection (pg_terminate_backend).
        ("inside a migration", None),
        ("after the migration, recording it", None),
    ],
)
async def test_a_killed_migrate_leaves_each_migration_whole_and_the_next_continues(
    vde_empty_url: str,
    vde_template: str,
    point: str,
    signum: signal.Signals | None,
) -> None:
    await apply_auth_migration(vde_empty_url)
    lock_sql, waiting_for, recorded_apps, unfinished = INTERRUPTION_POINTS[point]
    absent = f"SELECT to_regclass('{unfinished}')"
    holder = await asyncpg.connect(vde_empty_url)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute(lock_sql.format(key=MIGRATION_LOCK_KEY))
        process = start_migrate(vde_empty_url)
        try:
            await poll(holder, BLOCKED.format(waiting_for), 1)
            # Stopped there: nothing of that migration is visible yet.
            assert await holder.fetchval(absent) is None
            if signum is None:
                await holder.execute(TERMINATE_WAITER.format(waiting_for))
            else:
                process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode != 0, (stdout, stderr)
            if signum is None:
                assert "Migration failed, rolled back and not recorded" in stderr
        finally:
            if process.poll() is None:
                process.kill()
            await transaction.rollback()
        # The killed session finishes its statement, finds its client gone and
        # rolls back; only then is the database settled.
        await poll(holder, OTHER_SESSIONS, 0)
        recorded = await holder.fetch("SELECT app_name FROM migration ORDER BY 1")
        assert [row["app_name"] for row in recorded] == recorded_apps
        assert await holder.fetchval("SELECT to_regclass('vde_users')") is not None
        assert await holder.fetchval(absent) is None
    finally:
        await holder.close()

    again = start_migrate(vde_empty_url)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, (stdout, stderr)
    assert stdout.count("ok! ✔️") == len(MIGRATIONS) - len(recorded_apps), stdout
    await assert_migrated_like_the_template(vde_empty_url, vde_template)
