"""copy_subtree: by default each copy shows content of its own, equal to its source."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import table_rows
from vde.errors import InvalidMoveError, TargetOccupiedError, TileNotFoundError
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    descendants,
    tile_at,
    update_content,
)
from vde.mapping.invariants import tree_violations

#: (path, title) of the source subtree under '1'; '1,2' has no preview.
SOURCE = [("1", "top"), ("1,0", "a"), ("1,2", "b"), ("1,2,5", "c")]


@pytest.fixture
async def source(insert: Any, vde_conn: asyncpg.Connection) -> list[Tile]:
    await insert("vde_users", id="ada", email="ada@example.com")
    await insert("vde_users", id="bob", email="bob@example.com")
    root = await create_map(vde_conn, "ada", "Ada", "a")
    await create_map(vde_conn, "bob", "Bob", "b")
    return [
        await add_tile(
            vde_conn,
            MapCoordinates(root.coord_user_id, 0, path),
            title,
            f"{title} body",
            preview=None if path == "1,2" else f"{title} p",
            link=f"https://example.org/{title}",
        )
        for path, title in SOURCE
    ]


def at(tile: Tile, path: str) -> MapCoordinates:
    return MapCoordinates(tile.coord_user_id, tile.coord_group_id, path)


async def test_copies_get_their_own_content_equal_to_the_source(
    source: list[Tile], vde_conn: asyncpg.Connection
) -> None:
    top = source[0]
    copy = await copy_subtree(vde_conn, top, at(top, "4"))
    copies = [copy, *await descendants(vde_conn, at(top, "4"))]
    by_origin = {c.origin: c for c in copies}
    assert set(by_origin) == {t.id for t in source}
    for original in source:
        twin = by_origin[original.id]
        assert twin.path == "4" + original.path[1:]
        assert twin.ref_item != original.ref_item
        assert (twin.title, twin.content, twin.preview, twin.link) == (
            original.title,
            original.content,
            original.preview,
            original.link,
        )
        assert twin.parent == (
            by_origin[original.parent].id
            if original.parent in by_origin
            else original.parent
        )
    assert copy.origin == top.id and copy.path == "4"
    assert await tree_violations(vde_conn) == []


async def test_editing_a_copy_leaves_the_original_alone(
    source: list[Tile], vde_conn: asyncpg.Connection
) -> None:
    copy = await copy_subtree(vde_conn, source[0], at(source[0], "4"))
    await update_content(vde_conn, copy, title="changed")
    original = await tile_at(vde_conn, at(source[0], "1"))
    assert original is not None and original.title == "top"


async def test_shared_content_when_asked(
    source: list[Tile], vde_conn: asyncpg.Connection
) -> None:
    items = await vde_conn.fetchval("SELECT count(*) FROM vde_base_items")
    copy = await copy_subtree(
        vde_conn, source[0], at(source[0], "4"), clone_content=False
    )
    copies = [copy, *await descendants(vde_conn, at(source[0], "4"))]
    assert {c.ref_item for c in copies} == {t.ref_item for t in source}
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_base_items") == items
    await update_content(vde_conn, copy, title="both")
    original = await tile_at(vde_conn, at(source[0], "1"))
    assert original is not None and original.title == "both"


async def test_copy_into_another_owners_map(
    source: list[Tile], vde_conn: asyncpg.Connection
) -> None:
    bob = source[0].coord_user_id + 1
    copy = await copy_subtree(vde_conn, source[0], MapCoordinates(bob, 0, "0"))
    below = await descendants(vde_conn, MapCoordinates(bob, 0, "0"))
    assert [t.path for t in below] == ["0,0", "0,2", "0,2,5"]
    assert copy.coord_user_id == bob
    assert await tree_violations(vde_conn) == []


@pytest.mark.parametrize(
    ("copied", "path", "error", "message"),
    [
        (0, "3,1", TileNotFoundError, r"no tile at .*path='3'"),
        (2, "1,0", TargetOccupiedError, r"path='1,0'.* already holds"),
        (0, "1,2,5,1", InvalidMoveError, "own subtree"),
        (0, "", InvalidMoveError, "root position"),
    ],
    ids=["no parent", "taken", "into itself", "root position"],
)
async def test_refused_copies_write_nothing(
    source: list[Tile],
    vde_conn: asyncpg.Connection,
    copied: int,
    path: str,
    error: type[Exception],
    message: str,
) -> None:
    before = {
        t: await table_rows(vde_conn, t) for t in ("vde_map_items", "vde_base_items")
    }
    with pytest.raises(error, match=message):
        await copy_subtree(vde_conn, source[copied], at(source[0], path))
    for table, rows in before.items():
        assert await table_rows(vde_conn, table) == rows
