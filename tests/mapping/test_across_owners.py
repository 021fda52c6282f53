"""Two owners' maps: a tile shows only its own owner's content, on one server too.

Ada's map holds '1' (with '1,2' below it) and '3'; Bob's map holds its root.
A subtree does not move or swap into another owner's map (InvalidMoveError
before any SQL, nothing changed: copy, then delete); a copy there clones the
content into base items of Bob's, and refuses ``clone_content=False``; a
delete in Ada's map clears ``origin_id`` of the copies in Bob's; ``children``
and ``copies`` read one owner's map.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from tests.conftest import table_rows
from vde.errors import InvalidArgumentError, InvalidMoveError
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    descendants,
    move_subtree,
    queries,
    swap_tiles,
)

TABLES = ("vde_map_items", "vde_base_items", "vde_base_item_versions")


@dataclass(frozen=True)
class Maps:
    ada: Tile
    bob: Tile
    one: Tile
    below: Tile
    three: Tile

    def ada_at(self, path: str) -> MapCoordinates:
        return MapCoordinates(self.ada.coord_user_id, 0, path)

    def bob_at(self, path: str) -> MapCoordinates:
        return MapCoordinates(self.bob.coord_user_id, 0, path)


@pytest.fixture
async def maps(insert: Any, vde_conn: asyncpg.Connection) -> Maps:
    await insert("vde_users", id="ada", email="ada@example.com")
    await insert("vde_users", id="bob", email="bob@example.com")
    ada = await create_map(vde_conn, "ada", "Ada", "a")
    bob = await create_map(vde_conn, "bob", "Bob", "b")
    home = MapCoordinates.root(ada.coord_user_id)
    one = await add_tile(vde_conn, home.child(1), "one", "1")
    below = await add_tile(vde_conn, home.child(1).child(2), "below", "1,2")
    three = await add_tile(vde_conn, home.child(3), "three", "3")
    return Maps(ada, bob, one, below, three)


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {table: await table_rows(conn, table) for table in TABLES}


async def refused_before_any_sql(
    conn: asyncpg.Connection, error: type[Exception], call: Any, match: str
) -> None:
    """``call`` raises exactly ``error``, sends no SQL and changes no row."""
    before = await snapshot(conn)
    sent: list[str] = []
    with conn.query_logger(lambda record: sent.append(record.query)):
        with pytest.raises(error, match=match) as caught:
            await call
        await asyncio.sleep(0)  # loggers are called soon, not at once
    assert type(caught.value) is error
    assert sent == []
    assert await snapshot(conn) == before


@pytest.mark.parametrize("named_by", ["coordinates", "Tile"])
async def test_a_subtree_does_not_move_into_another_owners_map(
    maps: Maps, vde_conn: asyncpg.Connection, named_by: str
) -> None:
    tile = maps.one if named_by == "Tile" else maps.ada_at("1")
    await refused_before_any_sql(
        vde_conn,
        InvalidMoveError,
        move_subtree(vde_conn, tile, maps.bob_at("4")),
        "copy it .*then delete it",
    )


async def test_tiles_of_two_owners_do_not_swap(
    maps: Maps, vde_conn: asyncpg.Connection
) -> None:
    bobs = await add_tile(vde_conn, maps.bob_at("2"), "bob's", "2")
    for a, b in ((maps.one, bobs), (maps.bob_at("2"), maps.ada_at("3"))):
        await refused_before_any_sql(
            vde_conn,
            InvalidMoveError,
            swap_tiles(vde_conn, a, b),
            "copy it .*then delete it",
        )


async def test_a_copy_into_another_owners_map_clones_the_content_for_it(
    maps: Maps, vde_conn: asyncpg.Connection
) -> None:
    bob = maps.bob.coord_user_id
    copy = await copy_subtree(vde_conn, maps.one, maps.bob_at("4"))
    copies = [copy, *await descendants(vde_conn, maps.bob_at("4"))]
    assert [(c.path, c.origin, c.title) for c in copies] == [
        ("4", maps.one.id, "one"),
        ("4,2", maps.below.id, "below"),
    ]
    items = await vde_conn.fetch(
        "SELECT id, owner_id, title FROM vde_base_items WHERE id = ANY($1::int[])",
        [c.ref_item for c in copies],
    )
    assert sorted((r["owner_id"], r["title"]) for r in items) == [
        (bob, "below"),
        (bob, "one"),
    ]
    assert {c.ref_item for c in copies}.isdisjoint(
        {maps.one.ref_item, maps.below.ref_item}
    )
    assert {c.coord_user_id for c in copies} == {bob}


async def test_a_copy_into_another_owners_map_sharing_content_is_refused(
    maps: Maps, vde_conn: asyncpg.Connection
) -> None:
    await refused_before_any_sql(
        vde_conn,
        InvalidArgumentError,
        copy_subtree(vde_conn, maps.one, maps.bob_at("4"), clone_content=False),
        "its own owner's content; .*clone_content=True",
    )


#: The origin foreign key, which a distributed database does not keep.
DROP_ORIGIN_KEY = """
DO $$ DECLARE key text; BEGIN
    SELECT conname INTO STRICT key FROM pg_constraint
    WHERE conrelid = 'vde_map_items'::regclass AND contype = 'f'
      AND pg_get_constraintdef(oid) LIKE 'FOREIGN KEY (origin_id)%';
    EXECUTE format('ALTER TABLE vde_map_items DROP CONSTRAINT %I', key);
END $$
"""


@pytest.mark.parametrize("origin_key", ["kept", "dropped, as distributed"])
async def test_a_delete_clears_the_origin_of_copies_in_another_owners_map(
    maps: Maps, vde_conn: asyncpg.Connection, origin_key: str
) -> None:
    if origin_key != "kept":
        await vde_conn.execute(DROP_ORIGIN_KEY)
    await copy_subtree(vde_conn, maps.one, maps.bob_at("4"))
    await copy_subtree(vde_conn, maps.one, maps.ada_at("5"))
    await delete_subtree(vde_conn, maps.one)
    origins = await vde_conn.fetch(
        "SELECT coord_user_id, path, origin_id FROM vde_map_items "
        "WHERE path LIKE '4%' OR path LIKE '5%' ORDER BY coord_user_id, path"
    )
    ada, bob = maps.ada.coord_user_id, maps.bob.coord_user_id
    assert [tuple(r) for r in origins] == [
        (ada, "5", None),
        (ada, "5,2", None),
        (bob, "4", None),
        (bob, "4,2", None),
    ]


async def test_children_and_copies_are_read_in_one_owners_map(
    maps: Maps, vde_conn: asyncpg.Connection
) -> None:
    ada, bob = maps.ada.coord_user_id, maps.bob.coord_user_id
    in_bobs = await copy_subtree(vde_conn, maps.one, maps.bob_at("4"))
    in_adas = await copy_subtree(vde_conn, maps.one, maps.ada_at("5"))
    assert [t.id for t in await queries.copies(vde_conn, bob, maps.one.id)] == [
        in_bobs.id
    ]
    assert [t.id for t in await queries.copies(vde_conn, ada, maps.one.id)] == [
        in_adas.id
    ]
    children = await queries.children(vde_conn, ada, maps.ada.id)
    assert [t.path for t in children] == ["1", "3", "5"]
    assert await queries.children(vde_conn, bob, maps.ada.id) == []
    assert [t.path for t in await queries.children(vde_conn, bob, maps.bob.id)] == ["4"]
