"""move_subtree, swap_tiles and copy_subtree keep every map a tree, in one call.

Tiles are named by coordinates here (``at(row)``), by ``Tile`` at the end.

A 40-tile subtree is moved, swapped and copied; afterwards every tile is where
its old path says (translated) and no row of the table is out of place.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import UniqueViolationError

from vde.errors import TargetOccupiedError, TargetTooDeepError, TreeError
from vde.mapping import copy_subtree, move_subtree, swap_tiles, tile_at
from vde.mapping.coordinates import MAX_DEPTH, MapCoordinates
from vde.mapping.invariants import tree_violations
from vde.mapping.moves import RACE_ATTEMPTS, _retrying_late_children
from vde.mapping.violations import broken_rule

Row = dict[str, Any]
TILES = "vde_map_items"
SUBTREE = 40


async def grow(add_tile: Any, top: Row, size: int) -> list[Row]:
    """``top`` and tiles below it, breadth-first, until there are ``size``."""
    tiles, frontier = [top], [top]
    while len(tiles) < size:
        parent = frontier.pop(0)
        for step in range(7):
            if len(tiles) == size:
                break
            child = await add_tile(parent, step)
            tiles.append(child)
            frontier.append(child)
    return tiles


async def places(conn: asyncpg.Connection) -> dict[int, tuple[int, int, str]]:
    rows = await conn.fetch(
        "SELECT id, coord_user_id, coord_group_id, path FROM vde_map_items"
    )
    return {r["id"]: (r["coord_user_id"], r["coord_group_id"], r["path"]) for r in rows}


def at(row: Row) -> MapCoordinates:
    """Where ``row`` was written (tiles are named by coordinates or ``Tile``)."""
    return MapCoordinates.from_row(row)


def moved(path: str, old: str, new: str) -> str:
    return new + path[len(old):]


@pytest.fixture
async def big(home: Any, add_tile: Any) -> list[Row]:
    """A 40-tile subtree under '1' (depth 3) in map (1, 0)."""
    return await grow(add_tile, await add_tile(home.root, 1), SUBTREE)


@pytest.fixture
async def other_root(insert: Any, home: Any) -> Row:
    """The root of map (1, 1): another map of the same owner."""
    return await insert(
        TILES,
        coord_user_id=1,
        coord_group_id=1,
        item_type="user",
        ref_item_id=home.item["id"],
    )


@pytest.fixture
async def bobs_root(insert: Any) -> Row:
    """The root of map (2, 0): another owner's map, showing its own content."""
    item = await insert(
        "vde_base_items", owner_id=2, title="Bob", content="Bob's map"
    )
    return await insert(
        TILES, coord_user_id=2, item_type="user", ref_item_id=item["id"]
    )


async def test_move_subtree_to_another_position(
    big: list[Row], vde_conn: asyncpg.Connection
) -> None:
    before = await places(vde_conn)
    count = await move_subtree(vde_conn, at(big[0]), MapCoordinates(1, 0, "4"))
    assert count == SUBTREE
    after = await places(vde_conn)
    for tile in big:
        assert after[tile["id"]] == (1, 0, moved(before[tile["id"]][2], "1", "4"))
    assert await tree_violations(vde_conn) == []


async def test_move_subtree_deeper_under_a_sibling(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    sibling = await add_tile(home.root, 2)
    await move_subtree(vde_conn, at(big[0]), MapCoordinates(1, 0, "2,5"))
    row = await vde_conn.fetchrow(
        "SELECT path, parent_id FROM vde_map_items WHERE id = $1", big[0]["id"]
    )
    assert (row["path"], row["parent_id"]) == ("2,5", sibling["id"])
    assert await tree_violations(vde_conn) == []


async def test_move_subtree_to_another_map(
    big: list[Row], other_root: Row, vde_conn: asyncpg.Connection
) -> None:
    before = await places(vde_conn)
    await move_subtree(vde_conn, at(big[0]), MapCoordinates(1, 1, "3"))
    after = await places(vde_conn)
    for tile in big:
        assert after[tile["id"]] == (1, 1, moved(before[tile["id"]][2], "1", "3"))
    parent = await vde_conn.fetchval(
        "SELECT parent_id FROM vde_map_items WHERE id = $1", big[0]["id"]
    )
    assert parent == other_root["id"]
    assert await tree_violations(vde_conn) == []


async def test_swap_tiles_swaps_their_subtrees(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    other = await grow(add_tile, await add_tile(home.root, 5), 4)
    before = await places(vde_conn)
    assert await swap_tiles(vde_conn, at(big[0]), at(other[0])) == SUBTREE + 4
    after = await places(vde_conn)
    for tile in big:
        assert after[tile["id"]][2] == moved(before[tile["id"]][2], "1", "5")
    for tile in other:
        assert after[tile["id"]][2] == moved(before[tile["id"]][2], "5", "1")
    assert await tree_violations(vde_conn) == []


async def test_swap_tiles_when_all_seven_slots_are_taken(
    home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    """No free slot to park a tile in: one UPDATE swaps both subtrees."""
    slots = [await add_tile(home.root, step) for step in range(7)]
    below = await add_tile(slots[2], 6)
    await swap_tiles(vde_conn, at(slots[2]), at(slots[6]))
    after = await places(vde_conn)
    assert after[slots[2]["id"]][2] == "6"
    assert after[slots[6]["id"]][2] == "2"
    assert after[below["id"]][2] == "6,6"
    assert await tree_violations(vde_conn) == []


async def test_swap_tiles_across_maps_and_depths(
    big: list[Row], other_root: Row, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    far = await add_tile(await add_tile(other_root, 0), 3)
    await swap_tiles(vde_conn, at(big[0]), at(far))
    after = await places(vde_conn)
    assert after[big[0]["id"]] == (1, 1, "0,3")
    assert after[big[-1]["id"]][:2] == (1, 1)
    assert after[far["id"]] == (1, 0, "1")
    assert await tree_violations(vde_conn) == []


async def test_moves_inside_a_caller_transaction_roll_back_with_it(
    big: list[Row], vde_conn: asyncpg.Connection
) -> None:
    before = await places(vde_conn)
    with pytest.raises(RuntimeError):
        async with vde_conn.transaction():
            await move_subtree(vde_conn, at(big[0]), MapCoordinates(1, 0, "4"))
            raise RuntimeError("caller gives up")
    assert await places(vde_conn) == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (MapCoordinates(1, 0, "1,2,3"), "own subtree"),
        (MapCoordinates(1, 0, "6,6"), "no tile at"),
        (MapCoordinates(1, 0, ""), "map root position"),
    ],
    ids=["into itself", "no parent there", "root position"],
)
async def test_impossible_moves_are_refused(
    big: list[Row], vde_conn: asyncpg.Connection, target: MapCoordinates,
    message: str,
) -> None:
    before = await places(vde_conn)
    with pytest.raises(TreeError, match=message):
        await move_subtree(vde_conn, at(big[0]), target)
    assert await places(vde_conn) == before


async def test_roots_and_nested_tiles_do_not_move_or_swap(
    big: list[Row], home: Any, vde_conn: asyncpg.Connection
) -> None:
    with pytest.raises(TreeError, match="root of map"):
        await move_subtree(vde_conn, at(home.root), MapCoordinates(1, 0, "4"))
    with pytest.raises(TreeError, match="other's subtree"):
        await swap_tiles(vde_conn, at(big[0]), at(big[5]))


async def test_move_onto_a_taken_slot_is_refused_naming_the_target(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    await add_tile(home.root, 4)
    before = await places(vde_conn)
    with pytest.raises(TargetOccupiedError, match="path='4'") as caught:
        await move_subtree(vde_conn, at(big[0]), MapCoordinates(1, 0, "4"))
    assert isinstance(caught.value.__cause__, UniqueViolationError)
    assert await places(vde_conn) == before



async def test_copy_onto_a_taken_slot_is_refused_naming_the_target(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    await add_tile(home.root, 4)
    before = await places(vde_conn)
    with pytest.raises(TargetOccupiedError, match="path='4'"):
        await copy_subtree(vde_conn, at(big[0]), MapCoordinates(1, 0, "4"))
    assert await places(vde_conn) == before


async def test_a_subtree_that_would_not_fit_below_the_target_is_refused(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    """The deepest moved or copied tile would get a path over 255 characters."""
    deepest = home.root
    for _ in range(MAX_DEPTH - 1):  # a chain of centre tiles down to depth 127
        deepest = await add_tile(deepest, 0)
    target = MapCoordinates(1, 0, deepest["path"]).child(0)  # 255 characters
    before = await places(vde_conn)
    for helper in (move_subtree, copy_subtree):
        with pytest.raises(TargetTooDeepError):
            await helper(vde_conn, at(big[0]), target)
        assert await places(vde_conn) == before
    with pytest.raises(TargetTooDeepError):
        await swap_tiles(vde_conn, at(big[0]), at(deepest))
    assert await places(vde_conn) == before

async def test_copy_subtree_copies_level_by_level(
    big: list[Row], vde_conn: asyncpg.Connection
) -> None:
    before = await places(vde_conn)
    copy = await copy_subtree(
        vde_conn, at(big[0]), MapCoordinates(1, 0, "3"), clone_content=False
    )
    copies = await vde_conn.fetch(
        "SELECT c.id, c.path, c.origin_id, c.ref_item_id, o.ref_item_id AS source_ref "
        "FROM vde_map_items c JOIN vde_map_items o "
        "ON o.coord_user_id = c.coord_user_id AND o.id = c.origin_id"
    )
    assert len(copies) == SUBTREE
    assert {c["origin_id"] for c in copies} == {t["id"] for t in big}
    for c in copies:
        assert c["path"] == moved(before[c["origin_id"]][2], "1", "3")
        assert c["ref_item_id"] == c["source_ref"]
    assert copy.id in {c["id"] for c in copies}
    assert await places(vde_conn) | before == await places(vde_conn)
    assert await tree_violations(vde_conn) == []


async def test_copy_subtree_to_another_map(
    big: list[Row], bobs_root: Row, vde_conn: asyncpg.Connection
) -> None:
    await copy_subtree(vde_conn, at(big[0]), MapCoordinates(2, 0, "0"))
    count = await vde_conn.fetchval(
        "SELECT count(*) FROM vde_map_items WHERE coord_user_id = 2 AND path <> ''"
    )
    assert count == SUBTREE
    assert await tree_violations(vde_conn) == []


async def test_move_and_swap_by_coordinates_and_by_tile(
    big: list[Row], home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    other = await add_tile(home.root, 5)
    assert await move_subtree(vde_conn, MapCoordinates(1, 0, "1"),
                              MapCoordinates(1, 0, "4")) == SUBTREE
    moved_top = await tile_at(vde_conn, MapCoordinates(1, 0, "4"))
    assert moved_top is not None and moved_top.id == big[0]["id"]
    stale = moved_top.model_copy(update={"path": "1"})  # read before a move
    assert await swap_tiles(vde_conn, stale, MapCoordinates(1, 0, "5")) == SUBTREE + 1
    after = await places(vde_conn)
    assert (after[big[0]["id"]], after[other["id"]]) == ((1, 0, "5"), (1, 0, "4"))
    assert await tree_violations(vde_conn) == []


async def test_a_target_too_deep_for_the_subtree_is_refused_before_writing(
    home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> None:
    """A 3-level subtree cannot go where its deepest path would pass 255 chars."""
    tile, chain = home.root, []
    for _ in range(126):  # paths up to 251 characters
        tile = await add_tile(tile, 1)
        chain.append(tile)
    top = await add_tile(home.root, 2)
    await add_tile(await add_tile(top, 3), 4)  # '2' with depth 3: path '2,3,4'
    before = await places(vde_conn)
    deep = MapCoordinates(1, 0, chain[-1]["path"] + ",0")  # 253 chars: fits alone
    with pytest.raises(TargetTooDeepError, match="257 characters"):
        await move_subtree(vde_conn, at(top), deep)
    with pytest.raises(TargetTooDeepError):
        await copy_subtree(vde_conn, at(top), deep)
    assert await places(vde_conn) == before


@pytest.mark.parametrize(
    ("isolation", "runs"),
    [
        ("read_committed", RACE_ATTEMPTS),
        ("repeatable_read", 1),
        ("serializable", 1),
    ],
)
async def test_a_refused_move_runs_again_only_where_a_run_sees_newer_rows(
    vde_conn: asyncpg.Connection, race_map: dict[str, Row], isolation: str, runs: int
) -> None:
    # Only READ COMMITTED gives each run a newer snapshot, which may show the
    # tile that joined the subtree; at the other levels a run again sees the
    # same rows and is refused the same way.
    calls = 0

    async def move_without_child(conn: asyncpg.Connection) -> int:
        nonlocal calls
        calls += 1
        status = await conn.execute(
            f"UPDATE {TILES} SET path = '3' WHERE coord_user_id = 1 AND path = '1'"
        )
        return int(status.split()[-1])

    async with vde_conn.transaction(isolation=isolation):
        with pytest.raises(asyncpg.CheckViolationError) as refused:
            await _retrying_late_children(vde_conn, move_without_child)
        # The rule's name, also from a shard (tests/citus reruns this).
        assert broken_rule(refused.value) == "vde_map_items_tree_children"
    assert calls == runs
    assert (await places(vde_conn))[race_map["x"]["id"]] == (1, 0, "1")
