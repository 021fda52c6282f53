"""``piccolo vde migrate`` from two real processes at once: one migrates, one waits.

The race is made certain without sleeping: the test takes the migration lock
itself, starts both processes, waits until PostgreSQL shows both of them queued
on the lock, then releases it so that they compete for it at the same moment.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from vde.ops.catalog import as_plain, read_catalog
from vde.ops.migration_lock import MIGRATION_LOCK_KEY, lock_key_parts
from vde.testing.scratch import (
    server_url,
    with_database,
)

REPO = Path(__file__).resolve().parents[2]

WAITERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2
  AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def start_migrate(url: str, *args: str) -> subprocess.Popen[str]:
    """``piccolo vde migrate ARGS`` in the repository with ``DATABASE_URL=url``."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "piccolo.main", "vde", "migrate", *args]
    return subprocess.Popen(
        command, cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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


async def test_two_migrates_at_once_apply_each_migration_once(
    vde_empty_url: str, vde_template: str
) -> None:
    holder = await asyncpg.connect(vde_empty_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        processes = [start_migrate(vde_empty_url), start_migrate(vde_empty_url)]
        try:
            await wait_for_waiters(holder, 2, processes)
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        results = [process.communicate(timeout=300) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], results

        recorded = await holder.fetch(
            "SELECT app_name, name, count(*) AS times FROM migration"
            " GROUP BY app_name, name"
        )
        catalog = as_plain(await read_catalog(holder))
    finally:
        await holder.close()

    template = await asyncpg.connect(with_database(server_url(), vde_template))
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
    # One process ran the migrations; the other waited, then had nothing to do.
    outputs = sorted(stdout for stdout, _ in results)
    ran = [out for out in outputs if "Running" in out]
    idle = [out for out in outputs if "Running" not in out]
    assert len(ran) == 1 and len(idle) == 1, outputs
    nothing_to_do = idle[0].count("No migrations need to be run")
    assert nothing_to_do == idle[0].count("already complete") >= 3, idle[0]


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
        # It gave up before migrating anything. (Piccolo's CLI creates its own
        # empty ``migration`` table at start-up, before any command runs.)
        assert await holder.fetch("SELECT * FROM migration") == []
        assert await holder.fetchval("SELECT to_regclass('vde_users')") is None
    finally:
        await holder.close()
