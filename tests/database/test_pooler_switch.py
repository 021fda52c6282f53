"""With only ``VDE_POOL_MODE=transaction`` and a pooled ``DATABASE_URL``, an
application lives a map's whole life and runs 16 writers at once; without the
switch it stops at the first lost statement with an error naming it.

The application (``tests/database/pooler_app.py``) runs in a process of its
own, as deployed: ``piccolo_conf.DB`` from the environment, on a pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from bench.pgbouncer import PgBouncer
from tests.database import pooler_app
from tests.pooler import Pooled
from vde.mapping.invariants import tree_violations
from vde.testing import ScratchDatabase

REPO = Path(__file__).resolve().parents[2]


def run_app(url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "VDE_POOL_MODE", "PICCOLO_CONF")
    }
    env.update(DATABASE_URL=url, PYTHONIOENCODING="utf-8", **extra)
    return subprocess.run(
        [sys.executable, "-m", "tests.database.pooler_app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def expected_paths() -> list[str]:
    slots = range(pooler_app.WRITERS * pooler_app.TILES_PER_WRITER)
    return sorted(f"{1 + slot % 6},{1 + slot // 6}" for slot in slots)


async def test_with_only_the_switch_an_application_works_through_the_pooler(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    done = run_app(pgbouncer.url(vde_db.name), VDE_POOL_MODE="transaction")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["life"] == pooler_app.LIFE_SUMMARY
    assert found["added"] == expected_paths()
    edited = await vde_conn.fetchval(
        "SELECT count(*) FROM vde_map_items m JOIN vde_base_items b "
        "ON b.id = m.ref_item_id WHERE b.content = 'edited'"
    )
    assert edited == len(expected_paths())
    assert await tree_violations(vde_conn) == []


async def test_without_the_switch_the_application_is_told_to_set_it(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase
) -> None:
    done = run_app(pgbouncer.url(vde_db.name))
    assert done.returncode == 1, done.stdout
    assert "vde.database.pool_mode.PoolerModeError" in done.stderr, done.stderr
    assert "Set VDE_POOL_MODE=transaction" in done.stderr.splitlines()[-1]


async def test_a_maps_whole_life_in_this_process_through_the_pooler(
    pooled: Pooled, vde_conn: asyncpg.Connection
) -> None:
    assert await pooler_app.map_life("ada") == pooler_app.LIFE_SUMMARY
    assert await tree_violations(vde_conn) == []
