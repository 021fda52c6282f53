"""Moves, swaps and copies on a distributed database: the single server's tests
(tests/mapping/test_moves.py) rerun here, and the tree rules refusing on the
shards, each named as on one server whatever suffix the shard adds.

The errors come from a worker: a taken slot is ``TargetOccupiedError``, a
tile that joined a moving subtree makes the move run again at READ COMMITTED
(``_retrying_late_children``), and a raw write that breaks the tree is
refused naming the rule.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.mapping.test_moves import (  # noqa: F401 (fixtures and tests rerun)
    big,
    bobs_root,
    other_root,
    test_a_refused_move_runs_again_only_where_a_run_sees_newer_rows,
    test_a_subtree_that_would_not_fit_below_the_target_is_refused,
    test_copy_onto_a_taken_slot_is_refused_naming_the_target,
    test_copy_subtree_copies_level_by_level,
    test_copy_subtree_to_another_map,
    test_impossible_moves_are_refused,
    test_move_and_swap_by_coordinates_and_by_tile,
    test_move_onto_a_taken_slot_is_refused_naming_the_target,
    test_move_subtree_deeper_under_a_sibling,
    test_move_subtree_to_another_map,
    test_moves_inside_a_caller_transaction_roll_back_with_it,
    test_roots_and_nested_tiles_do_not_move_or_swap,
    test_swap_tiles_across_maps_and_depths,
    test_swap_tiles_swaps_their_subtrees,
    test_swap_tiles_when_all_seven_slots_are_taken,
)
from vde.errors import TargetOccupiedError
from vde.mapping import MapCoordinates
from vde.mapping import add_tile as add_tile_op
from vde.mapping.violations import broken_rule

Row = dict[str, Any]
TILE = (
    "INSERT INTO vde_map_items (coord_user_id, coord_group_id, path, item_type, "
    "parent_id, ref_item_id) VALUES (1, $1, $2, 'base', $3, $4)"
)


async def tiles(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(
        "SELECT id, coord_group_id, path, parent_id FROM vde_map_items "
        "WHERE coord_user_id = 1 ORDER BY id"
    )
    return [tuple(row) for row in rows]


async def test_a_taken_slot_on_a_shard_is_target_occupied(
    race_map: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    before = await tiles(vde_conn)
    with pytest.raises(TargetOccupiedError, match="path='1'") as caught:
        await add_tile_op(vde_conn, MapCoordinates(1, 0, "1"), "again", "c")
    # The worker's error names the shard's copy of the constraint.
    assert broken_rule(caught.value.__cause__) == "vde_map_items_coordinates_unique"
    assert await tiles(vde_conn) == before


@pytest.mark.parametrize(
    ("group", "path", "parent", "rule"),
    [
        (0, "5,4", "x", "vde_map_items_tree_path"),  # not one step below X ('1')
        (1, "1,4", "x", "vde_map_items_tree_parent"),  # X is in map (1, 0)
    ],
)
async def test_the_tree_check_refuses_on_a_shard(
    race_map: dict[str, Row],
    vde_conn: asyncpg.Connection,
    group: int,
    path: str,
    parent: str,
    rule: str,
) -> None:
    before = await tiles(vde_conn)
    with pytest.raises(asyncpg.PostgresError) as caught:
        await vde_conn.execute(
            TILE, group, path, race_map[parent]["id"], race_map["item"]["id"]
        )
    assert broken_rule(caught.value) == rule, caught.value
    assert await tiles(vde_conn) == before


async def test_a_parent_moved_without_its_children_is_refused_on_a_shard(
    race_map: dict[str, Row], vde_conn: asyncpg.Connection
) -> None:
    before = await tiles(vde_conn)
    with pytest.raises(asyncpg.PostgresError) as caught:
        await vde_conn.execute(
            "UPDATE vde_map_items SET path = '3' WHERE coord_user_id = 1 AND path = '1'"
        )
    assert broken_rule(caught.value) == "vde_map_items_tree_children", caught.value
    assert await tiles(vde_conn) == before
