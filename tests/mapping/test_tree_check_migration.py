"""The tree check's migrations and their backwards twins, through the CLI.

Backwards must leave the function and triggers exactly as the migrations before
it made them: compared with a database migrated only up to the previous one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import CheckViolationError

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
#: The shard-safe check (dynamic statements on the relation fired on).
ON_SHARD = "2026-12-03T13:16:37:000000"
#: Static on the table itself, the shard-safe check on any other relation.
BY_RELATION = "2026-12-03T17:10:00:000000"
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
        url,
        "migrations",
        "backwards",
        "mapping",
        f"--migration_id={migration_id}",
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


async def test_choosing_by_relation_forwards_and_backwards_restores_the_shard_check(
    vde_empty_url: str,
) -> None:
    piccolo(vde_empty_url, "migrations", "forwards", "all")
    after, after_triggers, settings = await tree_objects(vde_empty_url)
    assert "IF TG_TABLE_NAME = 'vde_map_items' THEN" in after
    assert "plan_cache_mode=force_generic_plan" in settings

    backwards(vde_empty_url, BY_RELATION)
    restored = await tree_objects(vde_empty_url)
    before = await objects_up_to(ON_SHARD)

    assert restored == before
    assert "TG_TABLE_NAME = 'vde_map_items'" not in before[0]
    assert after_triggers == before[1]
    piccolo(vde_empty_url, "migrations", "forwards", "mapping")
    assert await tree_objects(vde_empty_url) == (after, after_triggers, settings)


async def nested_statements(conn: asyncpg.Connection, sql: str) -> list[str]:
    """The statements ``sql`` ran inside functions (triggers), from auto_explain."""
    notices: list[str] = []
    conn.add_log_listener(lambda _, message: notices.append(message.message))
    await conn.execute(
        "LOAD 'auto_explain';"
        " SET auto_explain.log_min_duration = 0;"
        " SET auto_explain.log_nested_statements = on;"
        " SET auto_explain.log_level = notice"
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.execute("SET auto_explain.log_min_duration = -1")
    return [text for text in notices if "Query Text:" in text]


async def test_on_one_server_the_check_reads_the_table_by_static_statements(
    vde_conn: asyncpg.Connection, home: Any, add_tile: Any
) -> None:
    one = await add_tile(home.root, 1)
    statements = await nested_statements(
        vde_conn,
        f"INSERT INTO vde_map_items (coord_user_id, coord_group_id, path, item_type,"
        f" parent_id, ref_item_id) VALUES (1, 0, '1,2', 'base', {one['id']},"
        f" {home.item['id']})",
    )
    joined = "\n".join(statements)
    # The parent written by the static statement, by id, not a dynamic one.
    assert "UPDATE public.vde_map_items p SET updated_at = p.updated_at" in joined
    assert "WHERE p.id = ANY(ARRAY(SELECT DISTINCT c.parent_id" in joined
    assert "format(" not in joined and "%1$s" not in joined
    assert "p.coord_user_id = ANY($1)" not in joined

    leaf = await add_tile(home.root, 4)
    moved = await nested_statements(
        vde_conn, f"UPDATE vde_map_items SET path = '3' WHERE id = {leaf['id']}"
    )
    with_children = "\n".join(moved)
    assert "FROM public.vde_map_items c WHERE c.parent_id = p.id" in with_children
    assert "c.parent_id = ANY($2)" not in with_children


async def test_on_one_server_the_static_check_still_refuses(
    vde_conn: asyncpg.Connection, home: Any, add_tile: Any
) -> None:
    one = await add_tile(home.root, 1)
    await add_tile(one, 2)
    with pytest.raises(CheckViolationError) as refused:
        await vde_conn.execute(
            "UPDATE vde_map_items SET path = '3' WHERE id = $1", one["id"]
        )
    assert refused.value.constraint_name == "vde_map_items_tree_children"
    assert (
        await vde_conn.fetchval(
            "SELECT path FROM vde_map_items WHERE id = $1", one["id"]
        )
        == "1"
    )
