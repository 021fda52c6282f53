"""append_version numbers versions 1, 2, 3, ... even with 16 editors at once."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import ForeignKeyViolationError

from vde.mapping.invariants import version_gaps
from vde.mapping.versions import append_version

EDITORS = 16


async def test_versions_are_numbered_from_one(
    home: Any, vde_conn: asyncpg.Connection
) -> None:
    item = home.item["id"]
    assert await append_version(vde_conn, 1, item, "Ada", "v1") == 1
    assert (
        await append_version(
            vde_conn, 1, item, "Ada", "v2", preview="p", link="l", updated_by="u1"
        )
        == 2
    )
    row = await vde_conn.fetchrow(
        "SELECT * FROM vde_base_item_versions WHERE version_number = 2"
    )
    assert (row["content"], row["preview"], row["link"], row["updated_by"]) == (
        "v2",
        "p",
        "l",
        "u1",
    )


async def test_sixteen_concurrent_editors_get_one_to_sixteen(
    home: Any, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    item = home.item["id"]
    editors = [await vde_db.connect() for _ in range(EDITORS)]
    try:
        numbers = await asyncio.gather(
            *(
                append_version(conn, 1, item, "Ada", f"edit {n}", updated_by=f"e{n}")
                for n, conn in enumerate(editors)
            )
        )
    finally:
        for conn in editors:
            await conn.close()
    assert sorted(numbers) == list(range(1, EDITORS + 1))
    stored = await vde_conn.fetch(
        "SELECT version_number, updated_by FROM vde_base_item_versions "
        "WHERE base_item_id = $1",
        item,
    )
    assert sorted(r["version_number"] for r in stored) == list(range(1, EDITORS + 1))
    by_editor = {r["updated_by"]: r["version_number"] for r in stored}
    assert [by_editor[f"e{n}"] for n in range(EDITORS)] == numbers
    assert await version_gaps(vde_conn) == []


async def test_versions_of_different_items_count_separately(
    home: Any, insert: Any, vde_conn: asyncpg.Connection
) -> None:
    other = await insert("vde_base_items", owner_id=1, title="Notes", content="c")
    await append_version(vde_conn, 1, home.item["id"], "Ada", "v1")
    assert await append_version(vde_conn, 1, other["id"], "Notes", "v1") == 1


async def test_unknown_item_is_refused_by_the_foreign_key(
    home: Any, vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(ForeignKeyViolationError) as caught:
        await append_version(vde_conn, 1, home.item["id"] + 1000, "x", "y")
    assert caught.value.constraint_name == "vde_base_item_versions_base_item_id_fkey"
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_base_item_versions") == 0
