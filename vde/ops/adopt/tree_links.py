"""Adopt's first planning phase: each tile linked under its parent.

A tile is kept under the tile at its parent path in its own map; a tile whose
last step is no direction waits for ``--repair`` to give it one; anything else
is a decision for the user. ``vde.ops.adopt.tree`` runs the later phases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from vde.mapping.item_types import MapItemType
from vde.mapping.table_names import MAP_ITEMS
from vde.ops.adopt.findings import VALID_STEPS, Finding, Plan, Tile

#: Where a new container goes: (map owner, group, path).
Place = tuple[int, int, str]
#: A node of the planned tree: a tile id, or a new container by its place.
Node = int | Place


@dataclass
class LinkedTree:
    """The tiles as adopt will link them: each kept tile under its parent."""

    by_id: dict[int, Tile]
    #: Item type of each tile kept (lower case), by id.
    types: dict[int, str]
    children: dict[Node, list[Node]] = field(default_factory=lambda: defaultdict(list))
    #: The tile each new container hangs under.
    container_parent: dict[Place, int] = field(default_factory=dict)
    #: Tiles whose last step is no direction: they get the lowest free one.
    movers: set[int] = field(default_factory=set)
    roots: list[int] = field(default_factory=list)


def join_path(prefix: str, step: str) -> str:
    return f"{prefix},{step}" if prefix else step


def link_tiles(tiles: list[Tile], plan: Plan) -> LinkedTree:
    """Each tile's parent in the planned tree: a tile, or a container to make.

    Tiles whose place no rule can explain are refused here and left out.
    """
    tree = LinkedTree({t.id: t for t in tiles}, item_types(tiles, plan))
    at = {(t.user, t.group, t.path): t.id for t in tiles}
    for t in tiles:
        kind = tree.types.get(t.id)
        if kind is None:
            continue
        if t.origin_id == t.id:
            decide(plan, t, "origin is the tile itself", "its origin_id is its own id")
        if kind == MapItemType.USER:
            _link_root(tree, plan, t)
            continue
        if t.parent_id is None:
            decide(
                plan,
                t,
                "tile without a parent",
                f"item type '{MapItemType.BASE}' but no parent: only a map's root "
                "has none",
            )
            continue
        if t.path == "":
            decide(
                plan,
                t,
                "tile at the root path",
                f"item type '{MapItemType.BASE}' at path '', where only a map's "
                "root can be",
            )
            continue
        if not _link_tile(tree, plan, at, t):
            continue
        if t.path.split(",")[-1] not in VALID_STEPS:
            tree.movers.add(t.id)
    return tree


def _link_root(tree: LinkedTree, plan: Plan, t: Tile) -> None:
    if t.parent_id is not None:
        decide(
            plan,
            t,
            "map root with a parent",
            f"item type '{MapItemType.USER}' (a map's root) but parent {t.parent_id}",
        )
    elif t.path != "":
        decide(
            plan,
            t,
            "map root off the root path",
            f"item type '{MapItemType.USER}' (a map's root) must be at path ''",
        )
    else:
        tree.roots.append(t.id)


def _link_tile(tree: LinkedTree, plan: Plan, at: dict[Place, int], t: Tile) -> bool:
    """Hang ``t`` under its parent, a new container or the tile at its
    coordinates' parent; False (refused) when there is none."""
    assert t.parent_id is not None
    parent = tree.by_id[t.parent_id]
    steps = t.path.split(",")
    prefix = ",".join(steps[:-1])
    same_map = (parent.user, parent.group) == (t.user, t.group)
    if same_map and parent.path == prefix:
        tree.children[parent.id].append(t.id)
        return True
    if (
        same_map
        and len(steps) >= 2
        and steps[-2] == "0"
        and parent.path == ",".join(steps[:-2])
        and (t.user, t.group, prefix) not in at
    ):
        key = (t.user, t.group, prefix)
        tree.container_parent[key] = parent.id
        tree.children[key].append(t.id)
        return True
    case = "parent at another path" if same_map else "parent in another map"
    there = at.get((t.user, t.group, prefix))
    if there is None or there == t.id:
        decide(
            plan,
            t,
            case,
            f"its parent is {parent.where()} and no tile is at {prefix!r}"
            " in its own map to take its place",
        )
        return False
    tree.children[there].append(t.id)
    plan.decided.append(
        Finding(
            case,
            MAP_ITEMS,
            (t.id,),
            f"{t.where()}: its parent is {parent.where()}; the "
            f"coordinates win: parent_id {parent.id} -> {there} (the tile "
            f"at {prefix!r} in its own map)",
        )
    )
    return True


def item_types(tiles: list[Tile], plan: Plan) -> dict[int, str]:
    """Each tile's item type in lower case; an unknown one is refused."""
    known = [str(kind) for kind in MapItemType]
    types: dict[int, str] = {}
    upper: dict[str, list[int]] = defaultdict(list)
    for t in tiles:
        lowered = t.item_type.lower()
        if lowered not in known:
            decide(
                plan,
                t,
                "unknown item type",
                f"item type {t.item_type!r} is neither "
                + " nor ".join(f"'{kind}'" for kind in known),
            )
            continue
        if t.item_type != lowered:
            upper[t.item_type].append(t.id)
        types[t.id] = lowered
    for value, ids in sorted(upper.items()):
        plan.repairs.append(
            Finding(
                "item type in upper case",
                MAP_ITEMS,
                tuple(ids),
                f"item_type {value!r} -> {value.lower()!r}",
            )
        )
    return types


def decide(plan: Plan, tile: Tile, case: str, why: str) -> None:
    plan.refused.append(Finding(case, MAP_ITEMS, (tile.id,), f"{tile.where()}: {why}"))
