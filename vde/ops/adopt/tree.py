"""Planning the tiles: vde's tree rules against what the original app left.

vde refuses a tile whose parent is not in its map or not one step above it. The
original app wrote three kinds of tile that break this, and adopt treats them
differently: a composition child at ``P,0,d`` with no tile at ``P,0`` gets a new
container there (lossless); a tile whose last step is outside 0-6 (or empty: a
trailing comma) is moved by ``--repair`` to the lowest free direction under the
same parent, its subtree following; anything else (a parent in another map, a
parent at another path) is left for the user to decide. docs/adopt.md tells
the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vde.mapping.table_names import MAP_ITEMS
from vde.ops.adopt.findings import (
    CONTAINER_TITLE,
    FREE_ORDER,
    Container,
    Finding,
    Plan,
    Tile,
    TileFix,
)
from vde.ops.adopt.tree_links import (
    LinkedTree,
    Node,
    Place,
    decide,
    join_path,
    link_tiles,
)


@dataclass
class _Placed:
    """Where the walk from the roots puts each tile and container."""

    path: dict[int, str] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)


def plan_tiles(tiles: list[Tile], plan: Plan, next_tile: int, next_base: int) -> None:
    """Fill ``plan`` with what adopting ``tiles`` changes, decides and refuses.

    New containers take tile ids from ``next_tile`` and base item ids from
    ``next_base`` on. Four phases: link each tile to its parent, make the
    containers, walk the trees from their roots to place every tile, and
    write down what changes.
    """
    tree = link_tiles(tiles, plan)
    containers = _make_containers(tree, next_tile, next_base)
    placed = _place(tree, containers, plan)
    _record(tiles, tree, containers, placed, plan)


def _make_containers(
    tree: LinkedTree, next_tile: int, next_base: int
) -> dict[Place, Container]:
    """A container for each place that needs one, numbered in place order."""
    containers: dict[Place, Container] = {}
    for n, key in enumerate(sorted(tree.container_parent)):
        containers[key] = Container(
            id=next_tile + n,
            base_item_id=next_base + n,
            coord_user_id=key[0],
            coord_group_id=key[1],
            path=key[2],
            parent_id=tree.container_parent[key],
        )
        tree.children[tree.container_parent[key]].append(key)
    return containers


def _place(tree: LinkedTree, containers: dict[Place, Container], plan: Plan) -> _Placed:
    """Walk each tree from its root, breadth first, giving every node its path.

    A container takes its parent's centre (0); a mover the lowest free
    direction left under its parent (refused when all seven are taken).
    """
    placed = _Placed()
    queue: list[tuple[Node, str]] = [(root, "") for root in sorted(tree.roots)]
    while queue:
        node, path = queue.pop(0)
        if isinstance(node, tuple):
            container = containers[node]
            container = Container(
                container.id,
                container.base_item_id,
                container.coord_user_id,
                container.coord_group_id,
                path,
                container.parent_id,
            )
            placed.containers.append(container)
            db_id = container.id
        else:
            placed.path[node] = path
            db_id = node
        kids = tree.children.get(node, [])
        occupied = {"0" for kid in kids if isinstance(kid, tuple)}
        occupied |= {
            tree.by_id[kid].path.split(",")[-1]
            for kid in kids
            if isinstance(kid, int) and kid not in tree.movers
        }
        for kid in sorted(kids, key=lambda k: (isinstance(k, tuple), str(k))):
            if isinstance(kid, tuple):
                queue.append((kid, join_path(path, "0")))
                continue
            tile = tree.by_id[kid]
            step = tile.path.split(",")[-1]
            if kid in tree.movers:
                free = [d for d in FREE_ORDER if d not in occupied]
                if not free:
                    decide(
                        plan,
                        tile,
                        "no free direction",
                        f"its step {step!r} is outside 0-6 and all seven "
                        "directions under its parent are taken",
                    )
                    continue
                step = free[0]
                occupied.add(step)
            placed.parent[kid] = db_id
            queue.append((kid, join_path(path, step)))
    return placed


def _record(
    tiles: list[Tile],
    tree: LinkedTree,
    containers: dict[Place, Container],
    placed: _Placed,
    plan: Plan,
) -> None:
    """Write into ``plan`` the tiles that change, the containers and the moves."""
    for tile in tiles:
        if tile.id not in placed.path:
            continue
        parent_id = placed.parent.get(tile.id, tile.parent_id)
        kind = tree.types[tile.id]
        if (placed.path[tile.id], parent_id, kind) != (
            tile.path,
            tile.parent_id,
            tile.item_type,
        ):
            plan.tile_fixes[tile.id] = TileFix(placed.path[tile.id], parent_id, kind)
    plan.containers = sorted(placed.containers, key=lambda c: c.id)
    for key, container in containers.items():
        adopted = _tile_ids(tree.children[key])
        paths = ", ".join(f"{k} at {tree.by_id[k].path!r}" for k in adopted)
        final = next(
            (c.path for c in placed.containers if c.id == container.id), key[2]
        )
        plan.repairs.append(
            Finding(
                "composition container",
                MAP_ITEMS,
                tuple(adopted),
                f"new tile {container.id} at map {key[0]}/{key[1]} path {final!r} "
                f"(parent tile {container.parent_id}) showing new base item "
                f"{container.base_item_id} {CONTAINER_TITLE!r} with content ''; "
                f"it becomes the parent of {paths} (was tile {container.parent_id})",
            )
        )
    for tile in tiles:
        if tile.id not in tree.movers or tile.id not in placed.path:
            continue
        below = _subtree(tile.id, tree.children)
        step = tile.path.split(",")[-1]
        case = "trailing comma in path" if step == "" else "direction outside 0-6"
        moved = f", with its subtree: tiles {below}" if below else ""
        plan.decided.append(
            Finding(
                case,
                MAP_ITEMS,
                (tile.id, *below),
                f"{tile.where()}: path {tile.path!r} -> {placed.path[tile.id]!r}"
                f" (lowest free direction under tile {tile.parent_id}){moved}",
            )
        )


def _tile_ids(nodes: list[Node]) -> list[int]:
    return sorted(node for node in nodes if isinstance(node, int))


def _subtree(node: Node, children: dict[Node, list[Node]]) -> list[int]:
    """The tiles below ``node`` (through new containers too)."""
    found: list[int] = []
    stack = [node]
    while stack:
        for kid in children.get(stack.pop(), []):
            if isinstance(kid, int):
                found.append(kid)
            stack.append(kid)
    return sorted(found)
