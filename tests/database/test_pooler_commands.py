"""The ``piccolo vde`` commands through a real PgBouncer in transaction mode.

Two ``migrate`` runs at once take turns on the migration lock, which lives in
each migration's transaction, so the pooler keeps it on one server
connection. ``drift`` builds its reference in a scratch database; a pooler that
passes on only the databases it lists (as hosted ones do) cannot reach it, and
the command says to use the direct URL instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bench import pgbouncer as bouncers
from bench.pgbouncer import PgBouncer
from tests.ops.test_migrate_command import (
    MIGRATIONS,
    assert_migrated_like_the_template,
    start_migrate,
    wait_for_waiters,
)
from tests.pooler import Pooled
from vde.database.migration_lock import MIGRATION_LOCK_KEY
from vde.testing import ScratchDatabase
from vde.testing.databases import server_url

REPO = Path(__file__).resolve().parents[2]
WAITING = "Another `piccolo vde migrate` holds the lock; waiting for it."


def piccolo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``piccolo ARGS`` with ``DATABASE_URL=url`` and the switch set."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "VDE_POOL_MODE": "transaction",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "piccolo.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


async def test_two_migrates_through_the_pooler_apply_each_migration_once(
    pgbouncer: PgBouncer,
    vde_empty_url: str,
    vde_template: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VDE_POOL_MODE", "transaction")  # the migrates' environment
    holder = await asyncpg.connect(vde_empty_url)  # direct: a session lock
    try:
        pooled_url = pgbouncer.url(await holder.fetchval("SELECT current_database()"))
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        processes = [start_migrate(pooled_url), start_migrate(pooled_url)]
        try:
            await wait_for_waiters(holder, 2, processes)
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        results = [process.communicate(timeout=300) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], results
    finally:
        await holder.close()
    await assert_migrated_like_the_template(vde_empty_url, vde_template)
    assert sum(stdout.count("ok! ✔️") for stdout, _ in results) == len(MIGRATIONS)
    assert all(WAITING in stdout for stdout, _ in results), results


async def test_drift_runs_through_a_pooler_that_passes_on_every_database(
    pooled: Pooled,
) -> None:
    done = piccolo(pooled.url, "vde", "drift")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No drift: the database matches the migrations of apps" in done.stdout


async def test_drift_through_a_pooler_listing_its_databases_names_the_direct_url(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    with bouncers.running(server_url(), only=[vde_db.name]) as listed:
        done = piccolo(listed.url(vde_db.name), "vde", "drift")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Run this with DATABASE_URL set to the server's direct URL" in output
    made = re.search(r"made the scratch database (vde_drift_\w+)", output)
    assert made, output
    assert not await vde_conn.fetchval(
        "SELECT count(*) FROM pg_database WHERE datname = $1", made.group(1)
    )
