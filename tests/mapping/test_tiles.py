"""create_map and add_tile: a map's root and its tiles, parents found by coordinates."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.conftest import table_rows
from vde.auth.tables import User
from vde.errors import (
    InvalidArgumentTypeError,
    InvalidMoveError,
    TargetOccupiedError,
    TileNotFoundError,
)
from vde.mapping import MapCoordinates, Tile, add_tile, create_map, tile_at
from vde.mapping.invariants import tree_violations
from vde.transactions import atomic

WATCHED = ("vde_map_items", "vde_base_items", "vde_user_mapping")


@pytest.fixture
async def ada(insert: Any) -> str:
    await insert("vde_users", id="ada", email="ada@example.com")
    return "ada"


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {table: await table_rows(conn, table) for table in WATCHED}


async def test_create_map_makes_owner_content_and_root(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "Ada's map", preview="p")
    owner = await vde_conn.fetchval(
        "SELECT mapping_user_id FROM vde_user_mapping WHERE auth_user_id = $1", ada
    )
    assert isinstance(root, Tile)
    assert (root.coord_user_id, root.coord_group_id, root.path) == (owner, 0, "")
    assert (root.item_type, root.parent, root.origin) == ("user", None, None)
    assert (root.title, root.content, root.preview, root.link) == (
        "Ada",
        "Ada's map",
        "p",
        None,
    )
    assert await tile_at(vde_conn, MapCoordinates.root(owner)) == root


async def test_a_second_map_of_one_user_shares_the_owner_id(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    first = await create_map(vde_conn, ada, "Work", "w")
    second = await create_map(vde_conn, ada, "Home", "h", group_id=1)
    assert first.coord_user_id == second.coord_user_id
    assert (first.coord_group_id, second.coord_group_id) == (0, 1)


async def test_creating_an_existing_map_is_refused_and_writes_nothing(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "a")
    before = await snapshot(vde_conn)
    with pytest.raises(TargetOccupiedError, match=f"user_id={root.coord_user_id}"):
        await create_map(vde_conn, ada, "Again", "b")
    assert await snapshot(vde_conn) == before


async def test_add_tile_finds_its_parent_from_the_coordinates(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "a")
    here = MapCoordinates(root.coord_user_id, 0, "3")
    child = await add_tile(vde_conn, here, "Reading", "books", link="l")
    grandchild = await add_tile(vde_conn, here.child(0), "Detail", "d")
    assert (child.parent, child.item_type, child.path) == (root.id, "base", "3")
    assert (child.title, child.content, child.preview, child.link) == (
        "Reading",
        "books",
        None,
        "l",
    )
    assert (grandchild.parent, grandchild.path) == (child.id, "3,0")
    assert child.ref_item != root.ref_item != grandchild.ref_item
    assert await tile_at(vde_conn, here) == child
    assert await tree_violations(vde_conn) == []


async def test_missing_parent_is_refused_naming_the_coordinates(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "a")
    before = await snapshot(vde_conn)
    target = MapCoordinates(root.coord_user_id, 0, "2,5")
    with pytest.raises(TileNotFoundError, match=r"path='2'.*path='2,5'"):
        await add_tile(vde_conn, target, "Orphan", "o")
    with pytest.raises(TileNotFoundError, match="no tile at"):
        await add_tile(vde_conn, MapCoordinates(999, 0, "1"), "No map", "o")
    assert await snapshot(vde_conn) == before


async def test_taken_place_is_refused_naming_the_coordinates(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "a")
    place = MapCoordinates(root.coord_user_id, 0, "1")
    await add_tile(vde_conn, place, "First", "f")
    before = await snapshot(vde_conn)
    with pytest.raises(TargetOccupiedError, match=r"path='1'"):
        await add_tile(vde_conn, place, "Second", "s")
    assert await snapshot(vde_conn) == before


async def test_bad_input_is_refused_before_any_sql(
    ada: str, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_conn, ada, "Ada", "a")
    before = await snapshot(vde_conn)
    with pytest.raises(InvalidMoveError, match="root position"):
        await add_tile(vde_conn, MapCoordinates.root(root.coord_user_id, 5), "t", "c")
    with pytest.raises(InvalidArgumentTypeError, match="title must be a string"):
        await add_tile(vde_conn, MapCoordinates(root.coord_user_id, 0, "1"), None, "c")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentTypeError, match="coords must be MapCoordinates"):
        await add_tile(vde_conn, "1", "t", "c")  # type: ignore[arg-type]
    assert await snapshot(vde_conn) == before


async def test_add_tile_on_a_pool_commits_on_its_own(
    ada: str, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    root = await create_map(vde_db.engine.pool, ada, "Ada", "a")
    tile = await add_tile(
        vde_db.engine.pool, MapCoordinates(root.coord_user_id, 0, "6"), "t", "c"
    )
    assert await tile_at(vde_conn, MapCoordinates(root.coord_user_id, 0, "6")) == tile


async def test_a_failed_unit_of_work_takes_the_map_and_the_piccolo_insert_back(
    vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(RuntimeError):
        async with atomic() as tx:
            await User.insert(User(id="eve", email="eve@example.com"))
            root = await create_map(tx, "eve", "Eve", "e")
            await add_tile(tx, MapCoordinates(root.coord_user_id, 0, "1"), "t", "c")
            raise RuntimeError("caller gives up")
    for table in ("vde_users", *WATCHED):
        assert await vde_conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
