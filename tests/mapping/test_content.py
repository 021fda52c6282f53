"""update_content and history: only the given fields change; version N is the
content before edit N, so version 1 is the first content."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from vde.errors import InvalidArgumentError, InvalidArgumentTypeError, TileNotFoundError
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    create_map,
    history,
    tile_at,
    update_content,
)
from vde.mapping.invariants import version_gaps

EDITORS = 16


@pytest.fixture
async def tile(insert: Any, vde_conn: asyncpg.Connection) -> Tile:
    await insert("vde_users", id="ada", email="ada@example.com")
    root = await create_map(vde_conn, "ada", "Ada", "a")
    return await add_tile(
        vde_conn,
        MapCoordinates(root.coord_user_id, 0, "1"),
        "v1 title",
        "v1 body",
        preview="v1 preview",
        link="v1 link",
    )


def place(tile: Tile) -> MapCoordinates:
    return MapCoordinates(tile.coord_user_id, tile.coord_group_id, tile.path)


async def test_an_edit_changes_only_the_given_fields(
    tile: Tile, vde_conn: asyncpg.Connection
) -> None:
    edited = await update_content(vde_conn, place(tile), content="v2 body", link=None)
    assert (edited.title, edited.content, edited.preview, edited.link) == (
        "v1 title",
        "v2 body",
        "v1 preview",
        None,
    )
    assert edited.id == tile.id and edited.ref_item == tile.ref_item
    assert await tile_at(vde_conn, place(tile)) == edited


async def test_history_holds_the_content_before_each_edit_newest_first(
    tile: Tile, vde_conn: asyncpg.Connection
) -> None:
    assert await history(vde_conn, tile) == []
    await update_content(vde_conn, tile, title="v2 title", updated_by="bob")
    await update_content(vde_conn, tile, content="v3 body", updated_by="cy")
    versions = await history(vde_conn, place(tile))
    assert [v.version_number for v in versions] == [2, 1]
    assert [(v.title, v.content, v.updated_by) for v in versions] == [
        ("v2 title", "v1 body", "cy"),
        ("v1 title", "v1 body", "bob"),
    ]
    assert (versions[1].preview, versions[1].link) == ("v1 preview", "v1 link")
    now = await tile_at(vde_conn, place(tile))
    assert now is not None and (now.title, now.content) == ("v2 title", "v3 body")


async def test_sixteen_concurrent_editors_get_versions_one_to_sixteen(
    tile: Tile, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    editors = [await vde_db.connect() for _ in range(EDITORS)]
    try:
        await asyncio.gather(
            *(
                update_content(conn, tile, content=f"edit {n}", updated_by=f"e{n}")
                for n, conn in enumerate(editors)
            )
        )
    finally:
        for conn in editors:
            await conn.close()
    versions = await history(vde_conn, tile)
    assert [v.version_number for v in versions] == list(range(EDITORS, 0, -1))
    assert versions[-1].content == "v1 body"
    # each version holds what the previous editor wrote: no edit was lost
    contents = [v.content for v in reversed(versions)][1:]
    now = await tile_at(vde_conn, place(tile))
    assert now is not None
    assert sorted([*contents, now.content]) == sorted(
        f"edit {n}" for n in range(EDITORS)
    )
    assert await version_gaps(vde_conn) == []


async def test_every_tile_showing_the_item_shows_the_edit(
    tile: Tile, insert: Any, vde_conn: asyncpg.Connection
) -> None:
    twin = await insert(
        "vde_map_items",
        coord_user_id=tile.coord_user_id,
        path="2",
        item_type="base",
        parent_id=tile.parent,
        ref_item_id=tile.ref_item,
    )
    await update_content(vde_conn, tile, title="shared")
    seen = await tile_at(vde_conn, MapCoordinates(tile.coord_user_id, 0, "2"))
    assert seen is not None and (seen.id, seen.title) == (twin["id"], "shared")


async def test_refusals_write_nothing(tile: Tile, vde_conn: asyncpg.Connection) -> None:
    before = await vde_conn.fetch("SELECT * FROM vde_base_items ORDER BY id")
    with pytest.raises(InvalidArgumentError, match="at least one"):
        await update_content(vde_conn, tile)
    with pytest.raises(InvalidArgumentTypeError, match="title must be a string"):
        await update_content(vde_conn, tile, title=None)  # type: ignore[arg-type]
    with pytest.raises(TileNotFoundError, match="path='5'"):
        await update_content(
            vde_conn, MapCoordinates(tile.coord_user_id, 0, "5"), title="x"
        )
    with pytest.raises(TileNotFoundError, match="no tile 999999"):
        gone = tile.model_copy(update={"id": 999999})
        await update_content(vde_conn, gone, title="x")
    with pytest.raises(TileNotFoundError):
        await history(vde_conn, MapCoordinates(tile.coord_user_id, 0, "5"))
    assert await vde_conn.fetch("SELECT * FROM vde_base_items ORDER BY id") == before
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_base_item_versions") == 0


async def test_an_edit_in_a_failed_unit_of_work_rolls_back(
    tile: Tile, vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(RuntimeError):
        async with vde_conn.transaction():
            await update_content(vde_conn, tile, title="gone")
            raise RuntimeError("caller gives up")
    assert await history(vde_conn, tile) == []
    now = await tile_at(vde_conn, place(tile))
    assert now is not None and now.title == "v1 title"
