"""The workload: the original app's queries and four tree writes, in two shapes.

Each operation has vde's SQL (docs/schema.md's "Query shapes": prefix as a range on the
``COLLATE "C"`` path, depth from ``length(path)``, page of tiles first and then
the join, roots through the partial index) and the original app's SQL (``path LIKE $1 ||
',%'``, depth from ``string_to_array``). Both run with the same parameters,
drawn from a ``random.Random`` whose seed is the operation's name.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bench.generate import (
    BASE_ITEMS,
    BIG_MAP_OWNER,
    RANDOM_SEED,
    Facts,
    hex_tree,
)
from vde.auth import queries as auth
from vde.llm import queries as llm
from vde.mapping import queries as mapping
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.tables import MapItem
from vde.sql import select_list

Kind = Literal["point", "read", "write", "bulk"]
Case = dict[str, Any]

#: Offset added to ids of tiles a write creates (rolled back, never kept).
NEW_ID_OFFSET = 10_000_000
#: Tiles in the map the bulk-load operation copies in.
BULK_TILES = 20_000
#: The original app's names for the tables whose names vde changed.
_ORIGINAL_NAMES = {
    "vde_api_keys": "apikey",
    "vde_sessions": "sessions",
    "vde_llm_job_results": "llm_job_results",
}


def _without_column(sql: str, column: str) -> str:
    """``sql`` with ``column`` taken out of its select list."""
    trimmed = sql.replace(f", {column}", "", 1)
    assert trimmed != sql, f"{column} is not in the select list of {sql!r}"
    return trimmed


def _original_tables(sql: str) -> str:
    for vde_name, original_name in _ORIGINAL_NAMES.items():
        sql = sql.replace(f"FROM {vde_name}\n", f"FROM {original_name}\n")
    return sql


#: vde's content join: a tile shows its own owner's base item.
_OWNER_JOIN = "ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id"


def _without_owner_join(sql: str) -> str:
    """``sql`` joining content by item id alone: the original app's base items
    have no owner (an id names one item in the whole database). The tile
    filters stay, owner included, so both sides return the same tiles."""
    trimmed = sql.replace(_OWNER_JOIN, "ON b.id = m.ref_item_id", 1)
    assert trimmed != sql, f"no owner join in {sql!r}"
    return trimmed


# -- vde's shapes: the SQL vde ships (vde.<app>.queries); writes as the original's
VDE_SQL: dict[str, str] = {
    "root of map": mapping.MAP_ROOT_SQL,
    "roots of user": mapping.MAP_ROOTS_SQL,
    "tile by coordinates": mapping.TILE_AT_SQL,
    "descendants": mapping.DESCENDANTS_SQL,
    "descendants, 2 generations": mapping.DESCENDANTS_SQL,
    "children": mapping.CHILDREN_SQL,
    "copies of tile": mapping.COPIES_SQL,
    "versions of item": mapping.VERSIONS_SQL,
    "api key by key": auth.API_KEY_BY_HASH_SQL,
    "session by token": auth.SESSION_BY_TOKEN_SQL,
    "jobs of user": llm.JOBS_OF_USER_SQL,
    "delete subtree": """
        DELETE FROM vde_map_items
        WHERE coord_user_id = $1 AND coord_group_id = $2
          AND path >= $3 AND path < $3 || '-'
    """,
    "copy subtree": """
        INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path,
                                   item_type, origin_id, parent_id, ref_item_id)
        SELECT id + $6, $4, $5, $7 || substr(path, length($3) + 1), 'base', id,
               CASE WHEN path = $3 THEN $8 ELSE parent_id + $6 END, ref_item_id
        FROM vde_map_items
        WHERE coord_user_id = $1 AND coord_group_id = $2
          AND path >= $3 AND path < $3 || '-'
        ORDER BY length(path), path
    """,
    "move subtree": """
        UPDATE vde_map_items
        SET path = $4 || substr(path, length($3) + 1),
            parent_id = CASE WHEN path = $3 THEN $5 ELSE parent_id END,
            updated_at = now()
        WHERE coord_user_id = $1 AND coord_group_id = $2
          AND path >= $3 AND path < $3 || '-'
    """,
}

# -- the original app's shapes ---------------------------------------------------
_ORIGINAL_DEPTH = "array_length(string_to_array({}, ','), 1)"
_ORIGINAL_TILES = f"""
    SELECT {select_list(MapItem, "m")}, b.title, b.content, b.preview, b.link
    FROM vde_map_items m JOIN vde_base_items b ON b.id = m.ref_item_id
    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2
      AND m.path LIKE $3 || ',%'
"""
ORIGINAL_SQL: dict[str, str] = {
    # Same statement (the original app's table names): only the schema differs.
    "session by token": _original_tables(VDE_SQL["session by token"]),
    # Same statement, content joined by item id (no owner in the original's keys).
    **{
        name: _without_owner_join(VDE_SQL[name])
        for name in (
            "root of map", "roots of user", "tile by coordinates", "children",
            "copies of tile",
        )
    },
    # The original app's versions have no owner: the item id alone (one argument).
    "versions of item": _without_column(
        mapping.VERSIONS_SQL.replace(
            "WHERE owner_id = $1 AND base_item_id = $2", "WHERE base_item_id = $1"
        ),
        "owner_id",
    ),
    # The original app's apikey has no config_id (better-auth 1.7's).
    "api key by key": _original_tables(
        _without_column(auth.API_KEY_BY_HASH_SQL, "config_id")
    ),
    # The original app ordered by time only; vde breaks ties by id.
    "jobs of user": """
        SELECT * FROM llm_job_results WHERE user_id = $1
        ORDER BY created_at DESC LIMIT $2
    """,
    "descendants": f"""{_ORIGINAL_TILES}
        ORDER BY {_ORIGINAL_DEPTH.format("m.path")}, m.path, m.id
    """,
    "descendants, 2 generations": f"""{_ORIGINAL_TILES}
          AND {_ORIGINAL_DEPTH.format("m.path")} <= {_ORIGINAL_DEPTH.format("$3")} + $4
        ORDER BY {_ORIGINAL_DEPTH.format("m.path")}, m.path, m.id
    """,
    **{
        name: VDE_SQL[name].replace(
            "AND path >= $3 AND path < $3 || '-'",
            "AND (path = $3 OR path LIKE $3 || ',%')",
        )
        for name in ("delete subtree", "copy subtree", "move subtree")
    },
}


@dataclass(frozen=True)
class Operation:
    """One line of the report: what runs, how often, with which parameters."""

    name: str
    kind: Kind
    runs: int
    warmup: int
    draw: Callable[[random.Random, Facts], Case]
    vde_args: Callable[[Case], tuple[Any, ...]]
    #: the original app's parameters where its statement takes others (default: vde's)
    original_args: Callable[[Case], tuple[Any, ...]] | None = None

    def args(self, side: str, case: Case) -> tuple[Any, ...]:
        if side == "original" and self.original_args is not None:
            return self.original_args(case)
        return self.vde_args(case)

    def cases(self, facts: Facts, scale: float = 1.0) -> list[Case]:
        """Parameters of every run (warm-up first), the same on every bench run."""
        rng = random.Random(f"{RANDOM_SEED}:{self.name}")
        count = self.warmup + max(3, round(self.runs * scale))
        return [self.draw(rng, facts) for _ in range(count)]


def _big(path: str) -> Case:
    return {"user": BIG_MAP_OWNER, "group": 0, "path": path}


def _big_at(depth: int) -> Callable[[random.Random, Facts], Case]:
    return lambda rng, facts: _big(rng.choice(facts.big_map_paths(depth)))


def _any_map(rng: random.Random, facts: Facts) -> Case:
    if rng.random() < 0.5:
        return {"user": BIG_MAP_OWNER, "group": 0}
    owner, group, _ = rng.choice(facts.small_maps)
    return {"user": owner, "group": group}


def _any_tile(rng: random.Random, facts: Facts) -> Case:
    if rng.random() < 0.5:
        return _big(rng.choice(list(facts.big_map)))
    owner, group, path = rng.choice(list(facts.small_map_ids))
    return {"user": owner, "group": group, "path": path}


#: Tiles of the big map above its last level (ids 1..n, breadth-first).
_INNER_TILES = len(hex_tree(10**9, depth=5))


def _inner_tile(rng: random.Random, facts: Facts) -> Case:
    """A big-map tile that has children (depth 0-5), with its owner."""
    return {"user": BIG_MAP_OWNER, "id": rng.randrange(1, _INNER_TILES + 1)}


def _copied_tile(rng: random.Random, facts: Facts) -> Case:
    """A big-map tile that small maps copied, with the owner of one copy: vde
    finds copies per owner (the owner's maps hold them)."""
    owner, origin = rng.choice(facts.copied_origins)
    return {"user": owner, "id": origin}


def _big_map_item(rng: random.Random, facts: Facts) -> Case:
    """A base item of the big map's owner: the big map's tile ``k`` shows item
    ``k`` and has the lowest ids, so its owner keeps items 1..(its tiles)."""
    return {"user": BIG_MAP_OWNER, "id": rng.randrange(1, len(facts.big_map) + 1)}


def _copy_target(rng: random.Random, facts: Facts) -> Case:
    """A depth-3 big-map subtree, copied to the free centre slot of another
    depth-3 tile of the big map (depths 4-7, as a leaf of a small map would).

    The copied tiles keep their content (``ref_item_id``), and a tile shows only
    its own owner's content (vde's key (``coord_user_id``, ``ref_item_id``) ->
    base item (``owner_id``, ``id``)): on vde's side a copy to another owner's
    map needs copies of the content as well, work the original app's statement
    does not do. So the copy stays with the big map's owner, whose one map is
    the big map, and both sides insert the same tiles under the same parent.
    """
    source, target = rng.sample(facts.big_map_paths(3), 2)
    case = _big(source)
    case.update(
        to_user=BIG_MAP_OWNER, to_group=0, to_path=f"{target},0",
        to_parent=facts.big_map[target],
    )
    return case


def _move_target(rng: random.Random, facts: Facts) -> Case:
    """A depth-3 big-map subtree, moved to the free centre slot of a depth-2 tile."""
    case = _big(rng.choice(facts.big_map_paths(3)))
    parent = rng.choice(facts.big_map_paths(2))
    case.update(to_path=f"{parent},0", to_parent=facts.big_map[parent])
    return case


def bulk_map(rng: random.Random, facts: Facts) -> Case:
    """A new map of the big map's owner, in a group of its own.

    A tile shows its own owner's content (vde's content key): the new tiles
    show the first ``BULK_TILES`` base items, each of which the big map's
    owner holds (its lowest-id tile is in the big map).
    """
    return {"user": BIG_MAP_OWNER, "group": rng.randrange(5_000, 20_000),
            "first_id": facts.next_tile_id + NEW_ID_OFFSET}


def bulk_csv(case: Case) -> bytes:
    """The new map's tiles as CSV (ids given, so parents are known in advance)."""
    first = case["first_id"]
    lines = []
    for index, (path, parent) in enumerate(hex_tree(BULK_TILES)):
        parent_id = "" if parent < 0 else str(first + parent)  # empty: NULL
        item_type = "base" if path else "user"
        ref_item = index % BASE_ITEMS + 1
        lines.append(
            f'{first + index},{case["user"]},{case["group"]},"{path}",'
            f"{item_type},{parent_id},{ref_item}\n"
        )
    return "".join(lines).encode()


BULK_COLUMNS = (
    "id", "coord_user_id", "coord_group_id", "path", "item_type", "parent_id",
    "ref_item_id",
)


def _coords(case: Case) -> tuple[Any, ...]:
    return (case["user"], case["group"], case["path"])


def _owned(case: Case) -> tuple[Any, ...]:
    """vde's (owner, id) of a tile or base item (vde.mapping.queries)."""
    return (case["user"], case["id"])


def _descendants(generations: int | None) -> Callable[[Case], tuple[Any, ...]]:
    """vde's parameters: the path range and the length bound, no page limit."""

    def args(case: Case) -> tuple[Any, ...]:
        coords = MapCoordinates(case["user"], case["group"], case["path"])
        lower, upper = coords.descendant_bounds()
        limit = coords.descendant_length_limit(generations)
        return (case["user"], case["group"], lower, upper, limit, None, 0)

    return args


OPERATIONS: list[Operation] = [
    Operation("root of map", "point", 500, 20, _any_map,
              lambda c: (c["user"], c["group"])),
    Operation("roots of user", "read", 500, 20,
              lambda rng, facts: {"user": rng.randrange(1, 1002)},
              lambda c: (c["user"],)),
    Operation("tile by coordinates", "point", 500, 20, _any_tile, _coords),
    Operation("descendants", "read", 60, 10, _big_at(3), _descendants(None),
              _coords),
    Operation("descendants, 2 generations", "read", 60, 10,
              lambda rng, facts: _big(rng.choice(
                  facts.big_map_paths(1) + facts.big_map_paths(2))),
              _descendants(2), lambda c: (*_coords(c), 2)),
    Operation("children", "point", 500, 20, _inner_tile, _owned),
    Operation("copies of tile", "read", 60, 10, _copied_tile, _owned),
    Operation("versions of item", "point", 500, 20, _big_map_item, _owned,
              lambda c: (c["id"],)),
    Operation("api key by key", "read", 200, 10,
              lambda rng, facts: {"key": rng.choice(facts.api_keys)},
              lambda c: (c["key"],)),
    Operation("session by token", "point", 500, 20,
              lambda rng, facts: {"token": rng.choice(facts.session_tokens)},
              lambda c: (c["token"],)),
    Operation("jobs of user", "point", 500, 20,
              lambda rng, facts: {"user": rng.choice(facts.user_ids)},
              lambda c: (c["user"], 20)),
    Operation("delete subtree", "write", 7, 1, _big_at(3), _coords),
    Operation("bulk load 20k-tile map", "bulk", 10, 1, bulk_map, lambda c: ()),
    Operation("copy subtree", "write", 20, 6, _copy_target,
              lambda c: (*_coords(c), c["to_user"], c["to_group"], NEW_ID_OFFSET,
                         c["to_path"], c["to_parent"])),
    Operation("move subtree", "write", 20, 6, _move_target,
              lambda c: (*_coords(c), c["to_path"], c["to_parent"])),
]
