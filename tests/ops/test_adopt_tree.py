"""How adopt plans the tiles (``vde.ops.adopt.tree``), case by case, in memory."""

from __future__ import annotations

from vde.ops.adopt.findings import Container, Plan, Tile, TileFix
from vde.ops.adopt.tree import plan_tiles


def tile(
    id: int, path: str, parent: int | None, kind: str = "base", user: int = 1
) -> Tile:
    return Tile(id, user, 0, path, kind, parent, None)


ROOT = tile(1, "", None, "user")


def planned(*tiles: Tile) -> Plan:
    plan = Plan()
    plan_tiles([ROOT, *tiles], plan, next_tile=100, next_base=500)
    return plan


def cases(findings: list) -> list[tuple[str, tuple]]:  # type: ignore[type-arg]
    return [(f.case, f.ids) for f in findings]


def test_composition_children_of_the_root_get_a_container_at_0() -> None:
    plan = planned(tile(2, "0,3", 1), tile(3, "0,5", 1))
    assert plan.containers == [Container(100, 500, 1, 0, "0", 1)]
    assert plan.tile_fixes == {
        2: TileFix("0,3", 100, "base"),
        3: TileFix("0,5", 100, "base"),
    }
    assert cases(plan.repairs) == [("composition container", (2, 3))]
    assert not plan.decided and not plan.refused


def test_an_out_of_range_step_takes_the_lowest_free_direction_then_0() -> None:
    siblings = [tile(10 + d, str(d), 1) for d in range(1, 7)]
    plan = planned(*siblings, tile(20, "7", 1), tile(21, "7,2", 20))
    assert plan.tile_fixes[20] == TileFix("0", 1, "base")
    assert plan.tile_fixes[21] == TileFix("0,2", 20, "base")
    assert cases(plan.decided) == [("direction outside 0-6", (20, 21))]


def test_no_free_direction_is_refused() -> None:
    full = [tile(10 + d, str(d), 1) for d in range(7)]
    plan = planned(*full, tile(20, "-1", 1))
    assert cases(plan.refused) == [("no free direction", (20,))]
    assert 20 not in plan.tile_fixes


def test_a_trailing_comma_is_an_empty_step_and_moves() -> None:
    plan = planned(tile(2, "1", 1), tile(3, "1,", 2))
    assert plan.tile_fixes == {3: TileFix("1,1", 2, "base")}
    assert cases(plan.decided) == [("trailing comma in path", (3,))]


def test_an_out_of_range_composition_child_moves_below_its_container() -> None:
    plan = planned(tile(2, "1", 1), tile(3, "1,0,9", 2))
    assert plan.containers == [Container(100, 500, 1, 0, "1,0", 2)]
    assert plan.tile_fixes == {3: TileFix("1,0,1", 100, "base")}


def test_a_parent_elsewhere_gives_way_to_the_tile_at_the_coordinates() -> None:
    other_root = tile(50, "", None, "user", user=2)
    plan = planned(
        tile(2, "1", 1), tile(3, "1,4", 1), other_root, tile(51, "2", 1, user=2)
    )
    assert plan.tile_fixes == {
        3: TileFix("1,4", 2, "base"),
        51: TileFix("2", 50, "base"),
    }
    assert cases(plan.decided) == [
        ("parent at another path", (3,)),
        ("parent in another map", (51,)),
    ]


def test_a_parent_elsewhere_without_a_tile_at_the_coordinates_is_refused() -> None:
    plan = planned(tile(3, "1,4", 1))
    assert cases(plan.refused) == [("parent at another path", (3,))]


def test_roots_and_item_types_that_break_the_rules_are_refused() -> None:
    plan = planned(
        tile(2, "1", 1, kind="folder"),
        tile(3, "2", 1, kind="user"),
        tile(4, "3", None),
        tile(5, "", 1),
    )
    assert cases(plan.refused) == [
        ("unknown item type", (2,)),
        ("map root with a parent", (3,)),
        ("tile without a parent", (4,)),
        ("tile at the root path", (5,)),
    ]


def test_upper_case_item_types_are_lowered() -> None:
    plan = planned(tile(2, "1", 1, kind="BASE"))
    assert plan.tile_fixes == {2: TileFix("1", 1, "base")}
    assert cases(plan.repairs) == [("item type in upper case", (2,))]
