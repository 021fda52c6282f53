"""Planning the tiles: vde's tree rules against what the original app left.

vde refuses a tile whose parent is not in its map or not one step above it. The
original app wrote three kinds of tile that break this, and adopt treats them
differently: a composition child at ``P,0,d`` with no tile at ``P,0`` gets a new
container there (lossless); a tile whose last step is outside 0-6 (or empty: a
trailing comma) is moved by ``--repair`` to the lowest free direction under the
same parent, its subtree following; anything else (a parent in another map, a
parent at another path) is left for the user to decide.
"""

from __future__ import annotations

from collections import defaultdict

from vde.ops.adopt.findings import (
    CONTAINER_TITLE,
    FREE_ORDER,
    VALID_STEPS,
    Container,
    Finding,
    Plan,
    Tile,
    TileFix,
)

T = "vde_map_items"

#: A node of the planned tree: a tile id, or a new container by (user, group, path).
Node = int | tuple[int, int, str]


def _join(prefix: str, step: str) -> str:
    return f"{prefix},{step}" if prefix else step


def plan_tiles(tiles: list[Tile], plan: Plan, next_tile: int, next_base: int) -> None:
    by_id = {t.id: t for t in tiles}
    at = {(t.user, t.group, t.path): t.id for t in tiles}
    types = _item_types(tiles, plan)

    # Structural parent of each tile: a tile id, or a container key.
    children: dict[Node, list[Node]] = defaultdict(list)
    container_parent: dict[tuple[int, int, str], int] = {}
    movers: set[int] = set()
    roots: list[int] = []
    for t in tiles:
        kind = types.get(t.id)
        if kind is None:
            continue
        if t.origin_id == t.id:
            _decide(plan, t, "origin is the tile itself", "its origin_id is its own id")
        if kind == "user":
            if t.parent_id is not None:
                _decide(
                    plan,
                    t,
                    "map root with a parent",
                    f"item type 'user' (a map's root) but parent {t.parent_id}",
                )
            elif t.path != "":
                _decide(
                    plan,
                    t,
                    "map root off the root path",
                    "item type 'user' (a map's root) must be at path ''",
                )
            else:
                roots.append(t.id)
            continue
        if t.parent_id is None:
            _decide(
                plan,
                t,
                "tile without a parent",
                "item type 'base' but no parent: only a map's root has none",
            )
            continue
        if t.path == "":
            _decide(
                plan,
                t,
                "tile at the root path",
                "item type 'base' at path '', where only a map's root can be",
            )
            continue
        parent = by_id[t.parent_id]
        steps = t.path.split(",")
        prefix = ",".join(steps[:-1])
        if (parent.user, parent.group) == (t.user, t.group) and parent.path == prefix:
            children[parent.id].append(t.id)
        elif (
            (parent.user, parent.group) == (t.user, t.group)
            and len(steps) >= 2
            and steps[-2] == "0"
            and parent.path == ",".join(steps[:-2])
            and (t.user, t.group, prefix) not in at
        ):
            key = (t.user, t.group, prefix)
            container_parent[key] = parent.id
            children[key].append(t.id)
        else:
            case = (
                "parent at another path"
                if (parent.user, parent.group) == (t.user, t.group)
                else "parent in another map"
            )
            there = at.get((t.user, t.group, prefix))
            if there is None or there == t.id:
                _decide(
                    plan,
                    t,
                    case,
                    f"its parent is {parent.where()} and no tile is at {prefix!r}"
                    " in its own map to take its place",
                )
                continue
            children[there].append(t.id)
            plan.decided.append(
                Finding(
                    case,
                    T,
                    (t.id,),
                    f"{t.where()}: its parent is {parent.where()}; the "
                    f"coordinates win: parent_id {parent.id} -> {there} (the tile "
                    f"at {prefix!r} in its own map)",
                )
            )
        if steps[-1] not in VALID_STEPS:
            movers.add(t.id)

    containers: dict[tuple[int, int, str], Container] = {}
    for n, key in enumerate(sorted(container_parent)):
        containers[key] = Container(
            id=next_tile + n,
            base_item_id=next_base + n,
            coord_user_id=key[0],
            coord_group_id=key[1],
            path=key[2],
            parent_id=container_parent[key],
        )
        children[container_parent[key]].append(key)

    new_path: dict[int, str] = {}
    new_parent: dict[int, int] = {}
    placed: list[Container] = []
    queue: list[tuple[Node, str]] = [(root, "") for root in sorted(roots)]
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
            placed.append(container)
            db_id = container.id
        else:
            new_path[node] = path
            db_id = node
        kids = children.get(node, [])
        occupied = {"0" for kid in kids if isinstance(kid, tuple)}
        occupied |= {
            by_id[kid].path.split(",")[-1]
            for kid in kids
            if isinstance(kid, int) and kid not in movers
        }
        for kid in sorted(kids, key=lambda k: (isinstance(k, tuple), str(k))):
            if isinstance(kid, tuple):
                queue.append((kid, _join(path, "0")))
                continue
            tile = by_id[kid]
            step = tile.path.split(",")[-1]
            if kid in movers:
                free = [d for d in FREE_ORDER if d not in occupied]
                if not free:
                    _decide(
                        plan,
                        tile,
                        "no free direction",
                        f"its step {step!r} is outside 0-6 and all seven "
                        "directions under its parent are taken",
                    )
                    continue
                step = free[0]
                occupied.add(step)
            new_parent[kid] = db_id
            queue.append((kid, _join(path, step)))

    for tile in tiles:
        if tile.id not in new_path:
            continue
        parent_id = new_parent.get(tile.id, tile.parent_id)
        kind = types[tile.id]
        if (new_path[tile.id], parent_id, kind) != (
            tile.path,
            tile.parent_id,
            tile.item_type,
        ):
            plan.tile_fixes[tile.id] = TileFix(new_path[tile.id], parent_id, kind)
    plan.containers = sorted(placed, key=lambda c: c.id)
    for key, container in containers.items():
        adopted = _tile_ids(children[key])
        paths = ", ".join(f"{k} at {by_id[k].path!r}" for k in adopted)
        final = next((c.path for c in placed if c.id == container.id), key[2])
        plan.repairs.append(
            Finding(
                "composition container",
                T,
                tuple(adopted),
                f"new tile {container.id} at map {key[0]}/{key[1]} path {final!r} "
                f"(parent tile {container.parent_id}) showing new base item "
                f"{container.base_item_id} {CONTAINER_TITLE!r} with content ''; "
                f"it becomes the parent of {paths} (was tile {container.parent_id})",
            )
        )
    for tile in tiles:
        if tile.id not in movers or tile.id not in new_path:
            continue
        below = _subtree(tile.id, children)
        step = tile.path.split(",")[-1]
        case = "trailing comma in path" if step == "" else "direction outside 0-6"
        moved = f", with its subtree: tiles {below}" if below else ""
        plan.decided.append(
            Finding(
                case,
                T,
                (tile.id, *below),
                f"{tile.where()}: path {tile.path!r} -> {new_path[tile.id]!r}"
                f" (lowest free direction under tile {tile.parent_id}){moved}",
            )
        )


def _item_types(tiles: list[Tile], plan: Plan) -> dict[int, str]:
    types: dict[int, str] = {}
    upper: dict[str, list[int]] = defaultdict(list)
    for t in tiles:
        lowered = t.item_type.lower()
        if lowered not in ("user", "base"):
            _decide(
                plan,
                t,
                "unknown item type",
                f"item type {t.item_type!r} is neither 'user' nor 'base'",
            )
            continue
        if t.item_type != lowered:
            upper[t.item_type].append(t.id)
        types[t.id] = lowered
    for value, ids in sorted(upper.items()):
        plan.repairs.append(
            Finding(
                "item type in upper case",
                T,
                tuple(ids),
                f"item_type {value!r} -> {value.lower()!r}",
            )
        )
    return types


def _decide(plan: Plan, tile: Tile, case: str, why: str) -> None:
    plan.refused.append(Finding(case, T, (tile.id,), f"{tile.where()}: {why}"))


def _tile_ids(nodes: list[Node]) -> list[int]:
    ids: list[int] = []
    for node in nodes:
        if isinstance(node, int):
            ids.append(node)
    return sorted(ids)


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
