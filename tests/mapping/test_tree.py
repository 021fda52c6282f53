"""The database keeps every map a tree (migration ..._35_14_090003, issue 5).

Each refused write raises the exact asyncpg class, names its rule and leaves the
table as it was; each accepted pattern leaves no tile out of place (checked over
every row by ``vde.mapping.invariants``). Fixtures are in this folder's conftest.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import (
    CheckViolationError,
    ForeignKeyViolationError,
    UniqueViolationError,
)

from tests.mapping.races import wait_until_blocked
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.invariants import tree_violations
from vde.mapping.moves import move_subtree

Row = dict[str, Any]
TILES = "vde_map_items"
WRITERS = 16


@pytest.fixture
async def branch(home: Any, add_tile: Any) -> dict[str, Row]:
    """Map (1, 0): root, '1' with children '1,2' and '1,3' (and '1,2,4'), '5'."""
    one = await add_tile(home.root, 1)
    one_two = await add_tile(one, 2)
    return {
        "root": home.root,
        "1": one,
        "1,2": one_two,
        "1,3": await add_tile(one, 3),
        "1,2,4": await add_tile(one_two, 4),
        "5": await add_tile(home.root, 5),
    }


@pytest.fixture
async def other_root(insert: Any, home: Any) -> Row:
    """The root of a second map of the same owner, (1, 1)."""
    return await insert(
        TILES,
        coord_user_id=1,
        coord_group_id=1,
        item_type="user",
        ref_item_id=home.item["id"],
    )


@pytest.fixture
async def owner_two_root(insert: Any) -> Row:
    """The root of another owner's map, (2, 0), showing that owner's content."""
    item = await insert("vde_base_items", owner_id=2, title="Grace", content="")
    return await insert(
        TILES, coord_user_id=2, item_type="user", ref_item_id=item["id"]
    )


def tile_sql(path: str, parent_id: int, user_id: int = 1) -> tuple[str, list[Any]]:
    sql = (
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
        "ref_item_id) SELECT $1, $2, 'base', $3, ref_item_id FROM vde_map_items "
        "WHERE id = $3"
    )
    return sql, [user_id, path, parent_id]


async def test_parent_in_another_map_is_refused(
    branch: dict[str, Row], other_root: Row, rejects: Any
) -> None:
    sql, args = tile_sql("4", other_root["id"], user_id=1)
    error = await rejects(
        sql,
        *args,
        error=CheckViolationError,
        constraint="vde_map_items_tree_parent",
        tables=TILES,
    )
    assert str(error).startswith("vde_map_items_tree_parent: tile")
    assert error.table_name == TILES


async def test_parent_in_another_owners_map_is_refused_by_the_parent_key(
    branch: dict[str, Row], owner_two_root: Row, home: Any, rejects: Any
) -> None:
    """A tile's parent is its own owner's: (coord_user_id, parent_id) references
    (coord_user_id, id), checked before the tree check runs."""
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
        "ref_item_id) VALUES (1, '4', 'base', $1, $2)",
        owner_two_root["id"],
        home.item["id"],
        error=ForeignKeyViolationError,
        constraint="vde_map_items_parent_id_fkey",
        tables=TILES,
    )


async def test_moving_a_tile_to_another_owner_without_its_children_is_refused(
    branch: dict[str, Row], owner_two_root: Row, rejects: Any
) -> None:
    await rejects(
        "UPDATE vde_map_items SET coord_user_id = 2, parent_id = $2 WHERE id = $1",
        branch["1"]["id"],
        owner_two_root["id"],
        error=ForeignKeyViolationError,
        constraint="vde_map_items_parent_id_fkey",
        tables=TILES,
    )


async def test_path_not_below_the_parent_is_refused(
    branch: dict[str, Row], rejects: Any
) -> None:
    sql, args = tile_sql("5,4", branch["1"]["id"])
    error = await rejects(
        sql,
        *args,
        error=CheckViolationError,
        constraint="vde_map_items_tree_path",
        tables=TILES,
    )
    assert "is not one direction below its parent" in str(error)


async def test_path_two_levels_below_the_parent_is_refused(
    branch: dict[str, Row], rejects: Any
) -> None:
    sql, args = tile_sql("1,6,6", branch["1"]["id"])
    await rejects(
        sql,
        *args,
        error=CheckViolationError,
        constraint="vde_map_items_tree_path",
        tables=TILES,
    )


async def test_user_root_off_the_centre_is_refused(home: Any, rejects: Any) -> None:
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, ref_item_id) "
        "VALUES (3, '2', 'user', $1)",
        home.item["id"],
        error=CheckViolationError,
        constraint="vde_map_items_root_path",
        tables=TILES,
    )


async def test_tile_copied_from_itself_is_refused(
    branch: dict[str, Row], rejects: Any
) -> None:
    await rejects(
        "UPDATE vde_map_items SET origin_id = id WHERE id = $1",
        branch["5"]["id"],
        error=CheckViolationError,
        constraint="vde_map_items_origin_not_self",
        tables=TILES,
    )


async def test_moving_a_tile_without_its_children_is_refused(
    branch: dict[str, Row], rejects: Any
) -> None:
    error = await rejects(
        "UPDATE vde_map_items SET path = '4' WHERE id = $1",
        branch["1"]["id"],
        error=CheckViolationError,
        constraint="vde_map_items_tree_children",
        tables=TILES,
    )
    assert "without its child" in str(error)


async def test_moving_a_tile_to_another_map_without_its_children_is_refused(
    branch: dict[str, Row], other_root: Row, rejects: Any
) -> None:
    await rejects(
        "UPDATE vde_map_items SET coord_group_id = 1, parent_id = $2 WHERE id = $1",
        branch["1"]["id"],
        other_root["id"],
        error=CheckViolationError,
        constraint="vde_map_items_tree_children",
        tables=TILES,
    )


async def test_reparenting_into_another_map_without_moving_is_refused(
    branch: dict[str, Row], other_root: Row, rejects: Any
) -> None:
    await rejects(
        "UPDATE vde_map_items SET parent_id = $2 WHERE id = $1",
        branch["5"]["id"],
        other_root["id"],
        error=CheckViolationError,
        constraint="vde_map_items_tree_parent",
        tables=TILES,
    )


async def test_parent_first_then_children_in_a_second_statement_is_refused(
    branch: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    """The price of a per-statement check (the design chosen, see the migration)."""
    with pytest.raises(CheckViolationError) as caught:
        async with vde_conn.transaction():
            await vde_conn.execute(
                "UPDATE vde_map_items SET path = '4' WHERE path = '1'"
            )
            await vde_conn.execute(
                "UPDATE vde_map_items SET path = '4' || substr(path, 2) "
                "WHERE path LIKE '1,%'"
            )
    assert caught.value.constraint_name == "vde_map_items_tree_children"
    assert (
        await vde_conn.fetchval(
            "SELECT path FROM vde_map_items WHERE id = $1", branch["1"]["id"]
        )
        == "1"
    )


async def test_seed_one_update_move_is_accepted(
    branch: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    """The seed's move: the tile and its subtree rewritten by ONE UPDATE."""
    await vde_conn.execute(
        """
        UPDATE vde_map_items
        SET path = '6' || substr(path, length('1') + 1),
            parent_id = CASE WHEN path = '1' THEN $1 ELSE parent_id END
        WHERE coord_user_id = 1 AND coord_group_id = 0
          AND (path = '1' OR path LIKE '1,%')
        """,
        branch["root"]["id"],
    )
    paths = await vde_conn.fetch("SELECT id, path FROM vde_map_items ORDER BY id")
    assert {r["id"]: r["path"] for r in paths}[branch["1,2,4"]["id"]] == "6,2,4"
    assert await tree_violations(vde_conn) == []


async def test_seed_level_by_level_copy_is_accepted(
    branch: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    """The seed's deep copy: one INSERT per level, parents before children."""
    for length in (1, 3, 5):
        await vde_conn.execute(
            """
            INSERT INTO vde_map_items (coord_user_id, coord_group_id, path,
                item_type, parent_id, origin_id, ref_item_id)
            SELECT 1, 0, '6' || substr(s.path, 2), 'base',
                   coalesce(np.id, $1), s.id, s.ref_item_id
            FROM vde_map_items s
            LEFT JOIN vde_map_items np ON np.coord_user_id = 1
                 AND np.path = '6' || substr(s.path, 2, length(s.path) - 3)
                 AND length(s.path) > 1
            WHERE s.coord_user_id = 1 AND (s.path = '1' OR s.path LIKE '1,%')
              AND length(s.path) = $2
            """,
            branch["root"]["id"],
            length,
        )
    copies = await vde_conn.fetch(
        "SELECT path, origin_id FROM vde_map_items WHERE path LIKE '6%' ORDER BY path"
    )
    assert [r["path"] for r in copies] == ["6", "6,2", "6,2,4", "6,3"]
    assert await tree_violations(vde_conn) == []


@pytest.mark.parametrize(
    ("child_path", "rule"), [("6,1", None), ("5,1", "vde_map_items_tree_path")]
)
async def test_child_of_a_tile_inserted_by_the_same_statement_is_checked(
    branch: dict[str, Row],
    rejects: Any,
    vde_conn: asyncpg.Connection,
    child_path: str,
    rule: str | None,
) -> None:
    """The parent is one of the statement's own rows (as in one COPY of a map)."""
    sql = (
        "INSERT INTO vde_map_items (id, coord_user_id, path, item_type, parent_id, "
        "ref_item_id) SELECT v.id, 1, v.path, 'base', v.parent_id, r.ref_item_id "
        "FROM (VALUES (1000, '6', $1::int), (1001, $2, 1000)) "
        "AS v (id, path, parent_id), vde_map_items r WHERE r.id = $1"
    )
    if rule is not None:
        await rejects(
            sql,
            branch["root"]["id"],
            child_path,
            error=CheckViolationError,
            constraint=rule,
            tables=TILES,
        )
        return
    assert await vde_conn.execute(sql, branch["root"]["id"], child_path) == (
        "INSERT 0 2"
    )
    assert await tree_violations(vde_conn) == []


async def test_content_updates_of_every_tile_are_accepted(
    branch: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    assert (
        await vde_conn.execute("UPDATE vde_map_items SET updated_at = now()")
        == "UPDATE 6"
    )


async def test_insert_below_a_moving_tile_waits_and_sees_the_new_path(
    branch: dict[str, Row], vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    """FOR SHARE on the parent: the insert waits for the move, then is refused."""
    mover = await vde_db.connect()
    inserter = await vde_db.connect()
    try:
        move = mover.transaction()
        await move.start()
        await move_subtree(mover, MapCoordinates(1, 0, "1"), MapCoordinates(1, 0, "4"))
        sql, args = tile_sql("1,6", branch["1"]["id"])
        insert = asyncio.create_task(inserter.execute(sql, *args))
        await wait_until_blocked(vde_conn, inserter)
        await move.commit()
        with pytest.raises(CheckViolationError) as caught:
            await insert
        assert caught.value.constraint_name == "vde_map_items_tree_path"
    finally:
        await mover.close()
        await inserter.close()
    assert await tree_violations(vde_conn) == []


async def test_child_inserted_before_a_move_is_moved_along(
    branch: dict[str, Row], vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    """The move waits for the uncommitted insert, then takes the new child along."""
    mover = await vde_db.connect()
    inserter = await vde_db.connect()
    try:
        adding = inserter.transaction()
        await adding.start()
        sql, args = tile_sql("1,6", branch["1"]["id"])
        await inserter.execute(sql, *args)
        move = asyncio.create_task(
            move_subtree(mover, MapCoordinates(1, 0, "1"), MapCoordinates(1, 0, "4"))
        )
        await wait_until_blocked(vde_conn, mover)
        await adding.commit()
        assert await move == 5
    finally:
        await mover.close()
        await inserter.close()
    paths = {r["path"] for r in await vde_conn.fetch("SELECT path FROM vde_map_items")}
    assert paths == {"", "4", "4,2", "4,3", "4,2,4", "4,6", "5"}
    assert await tree_violations(vde_conn) == []


async def test_one_tile_per_coordinate_under_concurrent_writers(
    home: Any, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    """16 connections place a tile on '3' at once: one wins, 15 are refused."""
    connections = [await vde_db.connect() for _ in range(WRITERS)]
    sql, args = tile_sql("3", home.root["id"])
    try:
        results = await asyncio.gather(
            *(conn.execute(sql, *args) for conn in connections),
            return_exceptions=True,
        )
    finally:
        for conn in connections:
            await conn.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert [r for r in results if not isinstance(r, BaseException)] == ["INSERT 0 1"]
    assert len(errors) == WRITERS - 1
    assert all(type(e) is UniqueViolationError for e in errors), errors
    assert {e.constraint_name for e in errors} == {  # type: ignore[attr-defined]
        "vde_map_items_coordinates_unique"
    }
    assert (
        await vde_conn.fetchval("SELECT count(*) FROM vde_map_items WHERE path = '3'")
        == 1
    )
