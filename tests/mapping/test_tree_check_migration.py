"""The tree check's migration (issue 14) and its backwards twin, through the CLI.

Backwards must leave the function and triggers exactly as the migrations before
it made them: compared with a database migrated only up to the previous one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from vde.ops.catalog import read_catalog, read_functions
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)

REPO = Path(__file__).resolve().parents[2]
TREE_CHECK = "2026-12-01T03:45:01:000000"
#: The mapping migration right before it.
PREVIOUS = "2026-12-01T03:45:00:000000"
FUNCTION = "vde_map_items_tree_check()"


def piccolo(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "piccolo.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def tree_objects(url: str) -> tuple[str, dict[str, str], list[str]]:
    """The function's definition, the table's triggers and the function's settings."""
    conn = await asyncpg.connect(url)
    try:
        functions = await read_functions(conn)
        triggers = (await read_catalog(conn))["vde_map_items"].triggers
        config = await conn.fetchval(
            "SELECT proconfig FROM pg_proc WHERE proname = 'vde_map_items_tree_check'"
        )
    finally:
        await conn.close()
    return functions[FUNCTION], triggers, list(config)


async def test_tree_check_pins_its_search_path_and_backwards_restores_the_previous(
    vde_empty_url: str,
) -> None:
    piccolo(vde_empty_url, "migrations", "forwards", "all")
    after, after_triggers, settings = await tree_objects(vde_empty_url)
    assert "search_path=pg_catalog, pg_temp" in settings
    assert {"enable_seqscan=off", "enable_nestloop=off"} <= set(settings)

    piccolo(
        vde_empty_url,
        "migrations",
        "backwards",
        "mapping",
        f"--migration_id={TREE_CHECK}",
        "--auto_agree",
    )
    restored = await tree_objects(vde_empty_url)

    server, name = server_url(), scratch_name("tree_previous")
    previous_url = await create_database(server, name)
    try:
        piccolo(previous_url, "migrations", "forwards", "auth")
        piccolo(
            previous_url,
            "migrations",
            "forwards",
            "mapping",
            f"--migration_id={PREVIOUS}",
        )
        before = await tree_objects(previous_url)
    finally:
        await drop_database(server, name)

    assert restored == before
    assert after != before[0]
    assert after_triggers == before[1]
