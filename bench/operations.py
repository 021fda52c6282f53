"""vde.mapping's operations next to what the original app's repositories did.

Each operation runs on the 574k-tile data set for subtrees of 1 tile (a leaf of
the big map), 259 tiles (a depth-3 tile of the big map) and 20,000 tiles (a
subtree added for this bench under the root of owner 4,999, on both sides).
vde's side calls the Python function (``vde.mapping``) on an asyncpg
connection; the original app's side sends the statements its repositories sent (parent
looked up by coordinates, ``LIKE`` ranges, a swap through the temporary
direction 7, no content cleanup, no history lock). Each run is rolled back.
Statements are counted from asyncpg's query log (transaction control and
asyncpg's own type lookups left out), to show they do not grow with the
subtree, except copy's one per level.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.databases import Side
from bench.generate import BIG_MAP_OWNER, RANDOM_SEED, Facts
from bench.workload import NEW_ID_OFFSET, ORIGINAL_SQL
from vde.mapping import (
    MapCoordinates,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    move_subtree,
    swap_tiles,
    update_content,
)

Case = dict[str, Any]
#: The owner of the map holding two 20,000-tile subtrees ('1' and '2').
BIG_SUBTREE_OWNER = 4_999
BIG_SUBTREE = 20_000
#: The original app's delete of 20,000 tiles cascades row by row over an unindexed
#: parent_id (about 34 ms a tile here: over 10 minutes); it is not run.
SKIP_ORIGINAL = {("delete subtree", "20,000")}


def subtree_paths(top: str, size: int) -> list[str]:
    """``top`` and paths below it (directions 1-6, breadth-first), ``size`` in all."""
    paths, level = [top], [top]
    while len(paths) < size:
        following = []
        for parent in level:
            for step in range(1, 7):
                if len(paths) == size:
                    return paths
                paths.append(f"{parent},{step}")
                following.append(paths[-1])
        level = following
    return paths


#: The base items the big subtrees show, the same ids and rows on both sides,
#: far above the data set's ids: owner 4,999's own (vde's content key).
BIG_SUBTREE_ITEMS = 2_000
FIRST_SUBTREE_ITEM = 10_000_000

_INSERT_ITEMS = """
INSERT INTO {items} ({owner}id, title, content) OVERRIDING SYSTEM VALUE
SELECT {owner_value}$1 + g, 'subtree item ' || g, 'text'
FROM generate_series(1, $2) g
"""

_INSERT_LEVEL = """
INSERT INTO {tiles} (coord_user_id, coord_group_id, path, item_type, parent_id,
                     ref_item_id)
SELECT $1, 0, p.path, 'base', m.id, p.item
FROM unnest($2::text[], $3::int[]) AS p(path, item)
JOIN {tiles} m ON m.coord_user_id = $1 AND m.coord_group_id = 0
 AND m.path = CASE WHEN length(p.path) = 1 THEN '' ELSE left(p.path, -2) END
"""


async def add_big_subtrees(side: Side) -> None:
    """Owner 4,999: a root and two 20,000-tile subtrees, the same on both sides."""
    tiles = side.table("map_items")
    conn = await asyncpg.connect(side.url)
    try:
        vde = side.name == "vde"
        await conn.execute(
            _INSERT_ITEMS.format(
                items=side.table("base_items"),
                owner="owner_id, " if vde else "",
                owner_value=f"{BIG_SUBTREE_OWNER}, " if vde else "",
            ),
            FIRST_SUBTREE_ITEM, BIG_SUBTREE_ITEMS,
        )
        await conn.execute(
            f"INSERT INTO {tiles} (coord_user_id, coord_group_id, path, item_type, "
            "ref_item_id) VALUES ($1, 0, '', 'user', $2)",
            BIG_SUBTREE_OWNER, FIRST_SUBTREE_ITEM + 1,
        )
        paths = subtree_paths("1", BIG_SUBTREE) + subtree_paths("2", BIG_SUBTREE)
        by_length: dict[int, list[str]] = {}
        for path in paths:
            by_length.setdefault(len(path), []).append(path)
        for length in sorted(by_length):
            level = by_length[length]
            items = [
                FIRST_SUBTREE_ITEM + (index * 7_919) % BIG_SUBTREE_ITEMS + 1
                for index, _ in enumerate(level)
            ]
            await conn.execute(
                _INSERT_LEVEL.format(tiles=tiles), BIG_SUBTREE_OWNER, level, items
            )
        await conn.execute(f"ANALYZE {tiles}")
    finally:
        await conn.close()


def _leaf(rng: random.Random, facts: Facts) -> str:
    return rng.choice(facts.big_map_paths(6))


def _place(user: int, path: str) -> MapCoordinates:
    return MapCoordinates(user, 0, path)


def _subtree(size: str) -> Callable[[random.Random, Facts], Case]:
    """A subtree of ``size`` and a free target for it (a centre slot, '0')."""

    def draw(rng: random.Random, facts: Facts) -> Case:
        if size == "20,000":
            return {"user": BIG_SUBTREE_OWNER, "path": "1", "other": "2",
                    "to_path": "0"}
        depth = 6 if size == "1" else 3
        path, other = rng.sample(facts.big_map_paths(depth), 2)
        parent = rng.choice(facts.big_map_paths(depth - 1))
        return {"user": BIG_MAP_OWNER, "path": path, "other": other,
                "to_path": f"{parent},0"}

    return draw


async def _id_at(conn: asyncpg.Connection, side: Side, user: int, path: str) -> int:
    tile_id = await conn.fetchval(
        f"SELECT id FROM {side.table('map_items')} WHERE coord_user_id = $1 "
        "AND coord_group_id = 0 AND path = $2",
        user, path,
    )
    return int(tile_id)


def _parent(path: str) -> str:
    return "" if len(path) == 1 else path[:-2]


# -- the original app's side: the statements its repositories sent ----------
async def original_move(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    parent = await _id_at(conn, side, c["user"], _parent(c["to_path"]))
    await conn.execute(ORIGINAL_SQL["move subtree"], c["user"], 0, c["path"],
                       c["to_path"], parent)


async def original_swap(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    """Through the temporary direction 7 (which vde's paths forbid)."""
    a_parent = await _id_at(conn, side, c["user"], _parent(c["path"]))
    b_parent = await _id_at(conn, side, c["user"], _parent(c["other"]))
    temp = f"{_parent(c['path'])},7" if len(c["path"]) > 1 else "7"
    move = ORIGINAL_SQL["move subtree"]
    await conn.execute(move, c["user"], 0, c["path"], temp, a_parent)
    await conn.execute(move, c["user"], 0, c["other"], c["path"], a_parent)
    await conn.execute(move, c["user"], 0, temp, c["other"], b_parent)


async def original_copy(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    parent = await _id_at(conn, side, c["user"], _parent(c["to_path"]))
    await conn.execute(ORIGINAL_SQL["copy subtree"], c["user"], 0, c["path"], c["user"],
                       0, NEW_ID_OFFSET, c["to_path"], parent)


async def original_delete(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    await conn.execute(ORIGINAL_SQL["delete subtree"], c["user"], 0, c["path"])


async def original_add(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    parent = await _id_at(conn, side, c["user"], _parent(c["to_path"]))
    item = await conn.fetchval(
        "INSERT INTO vde_base_items (title, content) VALUES ($1, $2) RETURNING id",
        "new", "tile",
    )
    await conn.execute(
        f"INSERT INTO {side.table('map_items')} (coord_user_id, coord_group_id, "
        "path, item_type, parent_id, ref_item_id) VALUES ($1, 0, $2, 'base', $3, $4)",
        c["user"], c["to_path"], parent, item,
    )


async def original_edit(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    """Read the tile's item, then max + 1 (no lock), the version, the update."""
    tile = await conn.fetchrow(
        f"SELECT id, ref_item_id FROM {side.table('map_items')} "
        "WHERE coord_user_id = $1 AND coord_group_id = 0 AND path = $2",
        c["user"], c["path"],
    )
    item = await conn.fetchrow("SELECT * FROM vde_base_items WHERE id = $1",
                               tile["ref_item_id"])
    number = await conn.fetchval(
        "SELECT coalesce(max(version_number), 0) + 1 FROM vde_base_item_versions "
        "WHERE base_item_id = $1", item["id"],
    )
    await conn.execute(
        "INSERT INTO vde_base_item_versions (base_item_id, title, content, preview, "
        "link, version_number) VALUES ($1, $2, $3, $4, $5, $6)",
        item["id"], item["title"], item["content"], item["preview"], item["link"],
        number,
    )
    await conn.execute(
        "UPDATE vde_base_items SET content = $2, updated_at = now() WHERE id = $1",
        item["id"], "edited",
    )


async def original_create_map(conn: asyncpg.Connection, side: Side, c: Case) -> None:
    owner = await conn.fetchval(
        f"SELECT mapping_user_id FROM {side.table('user_mapping')} "
        "WHERE auth_user_id = $1", c["auth_user"],
    )
    item = await conn.fetchval(
        "INSERT INTO vde_base_items (title, content) VALUES ('Map', '') RETURNING id"
    )
    await conn.execute(
        f"INSERT INTO {side.table('map_items')} (coord_user_id, coord_group_id, "
        "path, item_type, ref_item_id) VALUES ($1, 0, '', 'user', $2)",
        owner, item,
    )


# -- vde's side: the functions --------------------------------------------------------
def _vde(
    call: Callable[[asyncpg.Connection, Case], Awaitable[Any]],
) -> Callable[[asyncpg.Connection, Side, Case], Awaitable[None]]:
    async def run(conn: asyncpg.Connection, side: Side, c: Case) -> None:
        await call(conn, c)

    return run


def _at(c: Case, key: str = "path") -> MapCoordinates:
    return _place(c["user"], c[key])


VDE: dict[str, Callable[[asyncpg.Connection, Case], Awaitable[Any]]] = {
    "move subtree": lambda conn, c: move_subtree(conn, _at(c), _at(c, "to_path")),
    "swap subtrees": lambda conn, c: swap_tiles(conn, _at(c), _at(c, "other")),
    "copy subtree": lambda conn, c: copy_subtree(conn, _at(c), _at(c, "to_path")),
    "copy subtree, shared content": lambda conn, c: copy_subtree(
        conn, _at(c), _at(c, "to_path"), clone_content=False
    ),
    "delete subtree": lambda conn, c: delete_subtree(conn, _at(c)),
    "add tile": lambda conn, c: add_tile(conn, _at(c, "to_path"), "new", "tile"),
    "update content": lambda conn, c: update_content(conn, _at(c), content="edited"),
    "create map": lambda conn, c: create_map(conn, c["auth_user"], "Map", ""),
}
ORIGINAL_SIDE = {
    "move subtree": original_move,
    "swap subtrees": original_swap,
    "copy subtree": original_copy,
    "copy subtree, shared content": original_copy,
    "delete subtree": original_delete,
    "add tile": original_add,
    "update content": original_edit,
    "create map": original_create_map,
}


@dataclass(frozen=True)
class MapOperation:
    name: str
    size: str
    runs: int
    warmup: int
    draw: Callable[[random.Random, Facts], Case]


def _new_map(rng: random.Random, facts: Facts) -> Case:
    return {"auth_user": f"usr_{rng.randrange(1_002, 20_001):05d}"}


def _tile(rng: random.Random, facts: Facts) -> Case:
    leaf = _leaf(rng, facts)
    return {"user": BIG_MAP_OWNER, "path": leaf, "to_path": f"{leaf},0"}


MAP_OPERATIONS: list[MapOperation] = [
    MapOperation("create map", "-", 40, 5, _new_map),
    MapOperation("add tile", "-", 40, 5, _tile),
    MapOperation("update content", "-", 40, 5, _tile),
    *(
        MapOperation(name, size, runs, warmup, _subtree(size))
        for name in ("move subtree", "swap subtrees", "copy subtree",
                     "copy subtree, shared content")
        for size, runs, warmup in (("1", 20, 4), ("259", 10, 2), ("20,000", 3, 1))
    ),
    # The original app's delete of 259 tiles takes seconds (SKIP_ORIGINAL): fewer
    # runs.
    MapOperation("delete subtree", "1", 10, 2, _subtree("1")),
    MapOperation("delete subtree", "259", 3, 1, _subtree("259")),
    MapOperation("delete subtree", "20,000", 3, 1, _subtree("20,000")),
]


@dataclass
class Measured:
    times_ms: list[float] = field(default_factory=list)
    statements: set[int] = field(default_factory=set)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")


@dataclass
class MapResult:
    name: str
    size: str
    runs: int
    sides: dict[str, Measured]


async def _once(
    conn: asyncpg.Connection, side: Side, op: MapOperation, case: Case
) -> tuple[float, int]:
    statements: list[str] = []

    def record(query: Any) -> None:
        text = query.query.lstrip().upper()
        if "VDE_" in text and not text.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(text)

    run = _vde(VDE[op.name]) if side.name == "vde" else ORIGINAL_SIDE[op.name]
    transaction = conn.transaction()
    await transaction.start()
    conn.add_query_logger(record)
    try:
        started = time.perf_counter()
        await run(conn, side, case)
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return (time.perf_counter() - started) * 1000, len(statements)
    finally:
        conn.remove_query_logger(record)
        await transaction.rollback()


async def run(
    sides: tuple[Side, Side], facts: Facts, scale: float = 1.0,
    only: set[str] | None = None, log: Any = None,
) -> list[MapResult]:
    """Every map operation at every size, the two sides taking turns."""
    for side in sides:
        await add_big_subtrees(side)
    conns = {side.name: await asyncpg.connect(side.url) for side in sides}
    try:
        results = []
        for op in MAP_OPERATIONS:
            if only and op.name not in only:
                continue
            rng = random.Random(f"{RANDOM_SEED}:{op.name}:{op.size}")
            count = op.warmup + max(2, round(op.runs * scale))
            result = MapResult(op.name, op.size, count - op.warmup,
                               {s.name: Measured() for s in sides})
            for i in range(count):
                case = op.draw(rng, facts)
                for side in sides if i % 2 == 0 else tuple(reversed(sides)):
                    if side.name == "original" and (op.name, op.size) in SKIP_ORIGINAL:
                        continue
                    ms, statements = await _once(conns[side.name], side, op, case)
                    if i >= op.warmup:
                        result.sides[side.name].times_ms.append(ms)
                        result.sides[side.name].statements.add(statements)
            results.append(result)
            if log:
                log(f"{op.name} ({op.size}): vde "
                    f"{result.sides['vde'].median_ms:.2f} ms, original "
                    f"{result.sides['original'].median_ms:.2f} ms")
        return results
    finally:
        for conn in conns.values():
            await conn.close()


def table(results: list[MapResult]) -> str:
    lines = [
        "| operation | subtree | runs | vde ms | vde statements | original ms "
        "| original statements | vde/original |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        vde, original = r.sides["vde"], r.sides["original"]
        original_ms = f"{original.median_ms:,.2f}" if original.times_ms else "not run"
        ratio = _ratio(vde.median_ms / original.median_ms) if original.times_ms else "-"
        lines.append(
            f"| {r.name} | {r.size} | {r.runs} | {vde.median_ms:,.2f} "
            f"| {_counts(vde)} | {original_ms} | {_counts(original)} | {ratio} |"
        )
    return "\n".join(lines)


def _counts(measured: Measured) -> str:
    if not measured.statements:
        return "-"
    low, high = min(measured.statements), max(measured.statements)
    return str(low) if low == high else f"{low}-{high}"


def _ratio(value: float) -> str:
    """``0.57x``; below 0.1 as ``1/N``, as the main table writes it."""
    return f"{value:.2f}x" if value >= 0.1 else f"1/{1 / value:,.0f}"
