"""``piccolo vde drift`` as CI or cron runs it: a process, judged by its exit status."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from vde.testing import ScratchDatabase
from vde.testing.databases import drop_database, server_url

REPO = Path(__file__).resolve().parents[2]


def start_drift(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(
        [sys.executable, "-m", "piccolo.main", "vde", "drift"], cwd=REPO, env=env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def drift(url: str) -> subprocess.CompletedProcess[str]:
    """Run the command; ``args`` of the result is its process id."""
    with start_drift(url) as process:
        stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.pid, process.returncode, stdout, stderr)


async def scratch_databases_left(connection: asyncpg.Connection, pid: int) -> int:
    """Databases named as drift's scratch ones, by the process ``pid``."""
    return await connection.fetchval(
        "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
        f"vde\\_drift\\_{pid}\\_%",
    )


async def test_drift_exits_0_on_a_migrated_database(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    done = drift(vde_db.url)
    assert done.returncode == 0, done
    assert "No drift" in done.stdout
    assert await scratch_databases_left(vde_conn, pid=done.args) == 0


async def test_drift_exits_1_naming_each_hand_made_change(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    await vde_conn.execute(
        """DROP INDEX vde_map_items_roots;
           ALTER TABLE vde_users ALTER COLUMN email_verified SET DEFAULT true"""
    )
    done = drift(vde_db.url)
    assert done.returncode == 1, done
    assert done.stdout.splitlines()[-2:] == [
        "missing index vde_map_items_roots on vde_map_items",
        "default of vde_users.email_verified: expected false, found true",
    ]
    assert (
        "2 difference(s) from the migrations of apps auth, mapping, llm, vde"
        in done.stderr
    )
    assert await scratch_databases_left(vde_conn, pid=done.args) == 0


async def test_drift_exits_1_on_disabled_triggers_public_grant_and_unlogged(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    await vde_conn.execute(
        """ALTER TABLE vde_map_items DISABLE TRIGGER vde_map_items_tree_insert;
           GRANT SELECT ON vde_accounts TO PUBLIC;
           ALTER TABLE vde_llm_job_results SET UNLOGGED"""
    )
    done = drift(vde_db.url)
    assert done.returncode == 1, done
    assert done.stdout.splitlines()[-3:] == [
        "persistence of table vde_llm_job_results: expected logged, found UNLOGGED",
        "state of trigger vde_map_items_tree_insert on vde_map_items:"
        " expected enabled, found disabled",
        "privileges on table vde_accounts: extra grant PUBLIC SELECT",
    ]
    assert "No drift" not in done.stdout


async def test_a_killed_runs_scratch_database_goes_with_the_next_run(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    killed = start_drift(vde_db.url)
    try:
        deadline = time.monotonic() + 120
        while not await scratch_databases_left(vde_conn, killed.pid):
            assert killed.poll() is None, killed.communicate()
            assert time.monotonic() < deadline, "no scratch database appeared"
            await asyncio.sleep(0.02)
        killed.send_signal(signal.SIGKILL)  # no finally block runs
    finally:
        killed.kill()
        killed.communicate()
    try:
        # The server ends the dead client's session once it is idle again.
        while await vde_conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1",
            f"vde\\_drift\\_{killed.pid}\\_%",
        ):
            assert time.monotonic() < deadline, "the killed run's session stays"
            await asyncio.sleep(0.05)
        assert await scratch_databases_left(vde_conn, killed.pid) == 1

        done = drift(vde_db.url)
        assert done.returncode == 0, done
        assert await scratch_databases_left(vde_conn, killed.pid) == 0
        assert await scratch_databases_left(vde_conn, done.args) == 0
    finally:  # without the sweep (or if it failed) nothing else would drop it
        leftovers = await vde_conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            f"vde\\_drift\\_{killed.pid}\\_%",
        )
        for (name,) in leftovers:
            await drop_database(server_url(), name)
