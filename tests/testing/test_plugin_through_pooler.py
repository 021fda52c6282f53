"""A downstream project's tests through a transaction pooler: ``DATABASE_URL``
names PgBouncer (transaction mode) and ``VDE_POOL_MODE=transaction`` is set.

The plugin makes, migrates, clones and drops its databases through the pooler;
the template is cloned only once the pooler's own server connections to it are
gone (``vde.database.scratch.end_idle_sessions``).
"""

from __future__ import annotations

from pathlib import Path

from bench.pgbouncer import PgBouncer
from tests.test_readme_examples import example, run, subprocess_env

UNITS_OF_WORK = '''
import asyncio

from vde.auth.tables import User
from vde.mapping import MapCoordinates, add_tile, create_map
from vde.transactions import run_atomic


async def test_units_of_work_at_once(vde_db, vde_conn):
    await User.insert(User(id="u1", email="ada@example.com"))
    root = await run_atomic(lambda tx: create_map(tx, "u1", "Ada", "Ada's map"))
    home = MapCoordinates.root(root.coord_user_id)
    await asyncio.gather(*(
        run_atomic(lambda tx, step=step: add_tile(tx, home.child(step), "t", ""))
        for step in range(1, 7)
    ))
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 7


async def test_the_next_test_gets_a_fresh_copy(vde_db, vde_conn):
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 0
    assert await User.count() == 0
'''


def test_a_downstream_suite_runs_through_the_pooler(
    pgbouncer: PgBouncer, tmp_path: Path
) -> None:
    (tmp_path / "conftest.py").write_text(example("downstream-conftest"))
    (tmp_path / "piccolo_conf.py").write_text(example("downstream-piccolo-conf"))
    (tmp_path / "pytest.ini").write_text(example("downstream-pytest-ini"))
    (tmp_path / "test_through_the_pooler.py").write_text(UNITS_OF_WORK)
    output = run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=subprocess_env(
            DATABASE_URL=pgbouncer.url("postgres"), VDE_POOL_MODE="transaction"
        ),
    )
    assert "2 passed" in output
