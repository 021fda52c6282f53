"""The tree check's migrations and their backwards twins, through the CLI.

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
#: A new child writes its parent's row (REPEATABLE READ), after TREE_CHECK.
PARENT_WRITE = "2026-12-03T10:05:46:407712"
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


async def objects_up_to(migration_id: str) -> tuple[str, dict[str, str], list[str]]:
    """tree_objects of a new database migrated up to ``migration_id``."""
    server, name = server_url(), scratch_name("tree_previous")
    url = await create_database(server, name)
    try:
        piccolo(url, "migrations", "forwards", "auth")
        piccolo(
            url, "migrations", "forwards", "mapping", f"--migration_id={migration_id}"
        )
        return await tree_objects(url)
    finally:
        await drop_database(server, name)


def backwards(url: str, migration_id: str) -> None:
    """Undo the mapping migrations from ``migration_id`` on, that one included."""
    piccolo(
        url, "migrations", "backwards", "mapping", f"--migration_id={migration_id}",
        "--auto_agree",
    )


async def test_tree_check_pins_its_search_path_and_backwards_restores_the_previous(
    vde_empty_url: str,
) -> None:
    piccolo(vde_empty_url, "migrations", "forwards", "all")
    after, after_triggers, settings = await tree_objects(vde_empty_url)
    assert "search_path=pg_catalog, pg_temp" in settings
    assert {"enable_seqscan=off", "enable_nestloop=off"} <= set(settings)

    backwards(vde_empty_url, TREE_CHECK)
    restored = await tree_objects(vde_empty_url)
    before = await objects_up_to(PREVIOUS)

    assert restored == before
    assert after != before[0]
    assert after_triggers == before[1]


async def test_parent_write_forwards_and_backwards_restores_the_previous(
    vde_empty_url: str,
) -> None:
    piccolo(vde_empty_url, "migrations", "forwards", "all")
    after, after_triggers, settings = await tree_objects(vde_empty_url)
    assert "enable_bitmapscan=off" in settings  # parents written in id order
    assert "search_path=pg_catalog, pg_temp" in settings
    assert "SET updated_at = p.updated_at" in after  # the write of each parent

    backwards(vde_empty_url, PARENT_WRITE)
    restored = await tree_objects(vde_empty_url)
    before = await objects_up_to(TREE_CHECK)

    assert restored == before
    assert "enable_bitmapscan=off" not in before[2]
    assert after_triggers == before[1]
    # And forwards again makes the same function.
    piccolo(vde_empty_url, "migrations", "forwards", "mapping")
    assert await tree_objects(vde_empty_url) == (after, after_triggers, settings)
