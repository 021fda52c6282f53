"""delete_subtree: the tiles in one statement, then the content nothing else shows."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from vde.errors import TileNotFoundError
from vde.mapping import (
    DeletedSubtree,
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    tile_at,
    update_content,
)
from vde.mapping.invariants import tree_violations

PATHS = ["1", "1,0", "1,2", "1,2,5", "3"]


@pytest.fixture
async def tiles(insert: Any, vde_conn: asyncpg.Connection) -> dict[str, Tile]:
    await insert("vde_users", id="ada", email="ada@example.com")
    root = await create_map(vde_conn, "ada", "Ada", "a")
    made = {"": root}
    for path in PATHS:
        made[path] = await add_tile(
            vde_conn, MapCoordinates(root.coord_user_id, 0, path), path, "body"
        )
    return made


def at(tile: Tile, path: str) -> MapCoordinates:
    return MapCoordinates(tile.coord_user_id, tile.coord_group_id, path)


async def item_ids(conn: asyncpg.Connection) -> set[int]:
    return {r["id"] for r in await conn.fetch("SELECT id FROM vde_base_items")}


async def test_delete_takes_the_subtree_its_content_and_versions(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    top = tiles["1"]
    await update_content(vde_conn, top, title="edited")
    await update_content(vde_conn, tiles["1,2,5"], title="edited")
    await update_content(vde_conn, tiles["1,2,5"], title="again")
    gone = await delete_subtree(vde_conn, at(top, "1"))
    assert gone == DeletedSubtree(tiles=4, base_items=4, versions=3)
    left = await vde_conn.fetch("SELECT path FROM vde_map_items ORDER BY path")
    assert [r["path"] for r in left] == ["", "3"]
    assert await item_ids(vde_conn) == {tiles[""].ref_item, tiles["3"].ref_item}
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_base_item_versions") == 0
    assert await tree_violations(vde_conn) == []


async def test_content_shown_elsewhere_stays(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    """A shared copy keeps '1,2' and '1,2,5' content alive; '1' and '1,0' go."""
    shared = await copy_subtree(
        vde_conn, tiles["1,2"], at(tiles[""], "4"), clone_content=False
    )
    gone = await delete_subtree(vde_conn, tiles["1"])
    assert gone == DeletedSubtree(tiles=4, base_items=2, versions=0)
    assert {tiles["1,2"].ref_item, tiles["1,2,5"].ref_item} <= await item_ids(vde_conn)
    kept = await tile_at(vde_conn, at(tiles[""], "4"))
    assert kept is not None and kept.id == shared.id and kept.title == "1,2"


async def test_copies_elsewhere_keep_their_content_without_origin(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    copy = await copy_subtree(vde_conn, tiles["1"], at(tiles[""], "4"))
    await delete_subtree(vde_conn, tiles["1"])
    kept = await tile_at(vde_conn, at(tiles[""], "4"))
    assert kept is not None
    assert (kept.id, kept.origin, kept.title) == (copy.id, None, "1")
    below = await vde_conn.fetch(
        "SELECT origin_id FROM vde_map_items WHERE path LIKE '4,%'"
    )
    assert [r["origin_id"] for r in below] == [None, None, None]


async def test_keeping_unused_content_when_asked(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    before = await item_ids(vde_conn)
    gone = await delete_subtree(vde_conn, tiles["1,2"], delete_unused_content=False)
    assert gone == DeletedSubtree(tiles=2)
    assert await item_ids(vde_conn) == before


async def test_deleting_a_root_deletes_the_whole_map(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    gone = await delete_subtree(vde_conn, at(tiles[""], ""))
    assert gone == DeletedSubtree(tiles=6, base_items=6, versions=0)
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 0


async def test_a_missing_tile_is_refused(
    tiles: dict[str, Tile], vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(TileNotFoundError, match="path='6'"):
        await delete_subtree(vde_conn, at(tiles[""], "6"))
    with pytest.raises(TileNotFoundError, match="no tile 999999"):
        await delete_subtree(vde_conn, tiles["1"].model_copy(update={"id": 999999}))
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 6
