"""vde against the other ways to store a tree, on the same rows.

Run: ``python -m bench`` (a section after the original-schema comparison) or
``python -m bench.designs [--scale F]`` alone (its own scratch database, loaded
with the bench's data set and dropped at the end). Four designs in one
database, built from vde's rows (``bench/designs_sql.py``): vde as migrated, a
trigger-free copy of vde's table, a closure table and an adjacency list. The
designs take turns run by run with the same tiles, statements go through
asyncpg's prepared statements, writes are rolled back (with ``SET CONSTRAINTS
ALL IMMEDIATE`` inside the timed part), and the report gives medians.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench import designs_sql as sql
from bench.compare import large_tables, seq_scans_by_plan
from bench.designs_report import report
from bench.designs_results import DESIGNS, DesignResult
from bench.generate import BIG_MAP_OWNER, RANDOM_SEED, Facts
from bench.workload import BULK_COLUMNS, BULK_TILES, bulk_csv, bulk_map
from vde.database import database_url
from vde.mapping import queries
from vde.mapping.coordinates import MapCoordinates
from vde.testing.plans import literal_of, nodes

Case = dict[str, Any]
#: A design's way to run an operation: statements, each with its arguments.
Steps = list[tuple[str, Callable[[Case], tuple[Any, ...]]]]


@dataclass(frozen=True)
class Op:
    name: str
    kind: str  # read, write, bulk
    runs: int
    warmup: int
    draw: Callable[[random.Random, Facts], Case]
    steps: dict[str, Steps]
    plan_mode: str | None = None  # force_custom_plan / force_generic_plan

    def cases(self, facts: Facts, scale: float) -> list[Case]:
        rng = random.Random(f"{RANDOM_SEED}:designs:{self.name}")
        count = self.warmup + max(3, round(self.runs * scale))
        return [self.draw(rng, facts) for _ in range(count)]


def _root(rng: random.Random, facts: Facts) -> Case:
    return {"id": facts.big_map[""], "path": ""}


def _at_depth(depth: int) -> Callable[[random.Random, Facts], Case]:
    def draw(rng: random.Random, facts: Facts) -> Case:
        path = rng.choice(facts.big_map_paths(depth))
        return {"id": facts.big_map[path], "path": path}

    return draw


def _move(rng: random.Random, facts: Facts) -> Case:
    """A depth-3 subtree (259 tiles) to the free centre slot of a depth-2 tile."""
    case = _at_depth(3)(rng, facts)
    parent = rng.choice(facts.big_map_paths(2))
    case.update(to_path=f"{parent},0", to_parent=facts.big_map[parent])
    return case


def _page_args(limit: int | None) -> Callable[[Case], tuple[Any, ...]]:
    def args(case: Case) -> tuple[Any, ...]:
        coords = MapCoordinates(BIG_MAP_OWNER, 0, case["path"])
        lower, upper = coords.descendant_bounds()
        return (BIG_MAP_OWNER, 0, lower, upper, coords.descendant_length_limit(None),
                limit, 0)

    return args


def _ancestor_paths(case: Case) -> tuple[Any, ...]:
    coords: MapCoordinates | None = MapCoordinates(BIG_MAP_OWNER, 0, case["path"])
    paths = []
    while coords is not None and (coords := coords.parent) is not None:
        paths.append(coords.path)
    return (BIG_MAP_OWNER, 0, paths)


def _coords(case: Case) -> tuple[Any, ...]:
    return (BIG_MAP_OWNER, 0, case["path"])


def _vde_move(case: Case) -> tuple[Any, ...]:
    return (BIG_MAP_OWNER, 0, case["path"], case["to_path"], case["to_parent"])


def _id(case: Case) -> tuple[Any, ...]:
    return (case["id"],)


def _owner_and_id(case: Case) -> tuple[Any, ...]:
    """vde's children query names the map's owner: its shard, on Citus."""
    return (BIG_MAP_OWNER, case["id"])


def _page(name: str, mode: str) -> Op:
    return Op(
        name, "read", 40, 8, _root,
        {
            "vde": [(queries.DESCENDANTS_PAGE_SQL, _page_args(1000))],
            "closure table": [(sql.CL_DESCENDANTS, lambda c: (c["id"], 1000))],
            "adjacency list": [(sql.ADJ_DESCENDANTS, lambda c: (c["id"], 1000))],
        },
        plan_mode=mode,
    )


OPS: list[Op] = [
    _page("page of 1,000 by depth (custom plan)", "force_custom_plan"),
    _page("page of 1,000 by depth (generic plan)", "force_generic_plan"),
    Op("small subtree (258 tiles)", "read", 60, 10, _at_depth(3), {
        "vde": [(queries.DESCENDANTS_SQL, _page_args(None))],
        "closure table": [(sql.CL_DESCENDANTS, lambda c: (c["id"], None))],
        "adjacency list": [(sql.ADJ_DESCENDANTS, lambda c: (c["id"], None))],
    }),
    Op("children", "read", 300, 20, _at_depth(4), {
        "vde": [(queries.CHILDREN_SQL, _owner_and_id)],
        "closure table": [(sql.CL_CHILDREN, _owner_and_id)],
        "adjacency list": [(sql.ADJ_CHILDREN, _id)],
    }),
    Op("ancestors (of a depth-6 tile)", "read", 300, 20, _at_depth(6), {
        "vde": [(sql.VDE_ANCESTORS, _ancestor_paths)],
        "closure table": [(sql.CL_ANCESTORS, _id)],
        "adjacency list": [(sql.ADJ_ANCESTORS, _id)],
    }),
    Op("move a 259-tile subtree", "write", 30, 6, _move, {
        "vde": [(sql.VDE_MOVE, _vde_move)],
        "trigger-free copy": [(sql.on_free(sql.VDE_MOVE), _vde_move)],
        "trigger-free, no depth index": [
            (sql.on_free(sql.VDE_MOVE, "plain_map_items"), _vde_move)],
        "closure table": [
            (sql.CL_MOVE[0],
             lambda c: (c["id"], c["to_parent"], c["path"], c["to_path"])),
            (sql.CL_MOVE[1], _id),
            (sql.CL_MOVE[2], lambda c: (c["id"], c["to_parent"])),
        ],
        "adjacency list": [(sql.ADJ_MOVE, lambda c: (c["id"], c["to_parent"], 0))],
    }),
    Op("delete a 259-tile subtree", "write", 15, 3, _at_depth(3), {
        "vde": [(sql.VDE_DELETE, _coords)],
        "trigger-free copy": [(sql.on_free(sql.VDE_DELETE), _coords)],
        "trigger-free, no depth index": [
            (sql.on_free(sql.VDE_DELETE, "plain_map_items"), _coords)],
        "closure table": [(sql.CL_DELETE, _id)],
        "adjacency list": [(sql.ADJ_DELETE, _id)],
    }),
    Op("update 259 tiles' updated_at (no tree column)", "write", 30, 6,
       _at_depth(3), {
        "vde": [(sql.VDE_TOUCH, _coords)],
        "trigger-free copy": [(sql.on_free(sql.VDE_TOUCH), _coords)],
    }),
    Op("bulk load of a 20,000-tile map (one COPY)", "bulk", 8, 1, bulk_map, {
        "vde": [("vde_map_items", lambda c: ())],
        "trigger-free copy": [("free_map_items", lambda c: ())],
        "trigger-free, no depth index": [("plain_map_items", lambda c: ())],
    }),
]


async def _statements(conn: asyncpg.Connection, op: Op, design: str,
                      case: Case) -> int:
    count = 0
    for text, args in op.steps[design]:
        if op.kind == "bulk":
            await conn.copy_to_table(text, source=io.BytesIO(bulk_csv(case)),
                                     columns=list(BULK_COLUMNS), format="csv")
            count += BULK_TILES
        elif op.kind == "write":
            status = await conn.execute(text, *args(case))
            count += int(status.split()[-1])
        else:
            count += len(await conn.fetch(text, *args(case)))
    if op.kind != "read":
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return count


async def _run_once(conn: asyncpg.Connection, op: Op, design: str,
                    case: Case) -> tuple[float, int]:
    if op.kind == "read":
        started = time.perf_counter()
        count = await _statements(conn, op, design, case)
        return (time.perf_counter() - started) * 1000, count
    transaction = conn.transaction()
    await transaction.start()
    try:
        started = time.perf_counter()
        count = await _statements(conn, op, design, case)
        return (time.perf_counter() - started) * 1000, count
    finally:
        await transaction.rollback()


async def _plan_scans(conn: asyncpg.Connection, op: Op, design: str, case: Case,
                      large: set[str]) -> set[str]:
    """Large tables read by a Seq Scan in the custom or the generic plan."""
    if op.kind == "bulk":
        return set()
    found: set[str] = set()
    for text, args in op.steps[design]:
        by_plan = await seq_scans_by_plan(conn, text, args(case), large)
        found = found.union(*by_plan.values())
    return found


async def page_plans(conn: asyncpg.Connection, facts: Facts) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of vde's page of 1,000: the index scan's line."""
    lines = {}
    args = _page_args(1000)({"path": ""})
    values = ", ".join(map(literal_of, args))
    await conn.execute(f"PREPARE page_plan AS {queries.DESCENDANTS_PAGE_SQL}")
    try:
        for mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            text = await conn.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
                f"EXECUTE page_plan({values})")
            plan = json.loads(text)[0]
            scans = [n for n in nodes(plan["Plan"]) if n.get("Index Name")
                     == "vde_map_items_depth_order"]
            sorts = [n for n in nodes(plan["Plan"]) if "Sort" in n["Node Type"]]
            scan = scans[0]
            sorted_rows = ", ".join(f"{n['Actual Rows']:.0f}" for n in sorts)
            lines[mode] = (
                f"{scan['Node Type']} using {scan['Index Name']}: "
                f"rows {scan['Actual Rows']:.0f}, "
                f"shared hit {scan.get('Shared Hit Blocks', 0)} "
                f"read {scan.get('Shared Read Blocks', 0)}; "
                f"whole statement {plan['Execution Time']:.2f} ms, "
                f"shared hit {plan['Plan'].get('Shared Hit Blocks', 0)}; "
                f"sorts: {len(sorts)} (rows sorted: {sorted_rows or '-'})"
            )
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE page_plan")
    return lines


async def build(url: str, log: Callable[[str], None]) -> None:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await conn.execute(sql.DROP)
        for statement in sql.BUILD:
            await conn.execute(statement)
        log(f"designs built in {time.perf_counter() - started:.0f}s")
    finally:
        await conn.close()


async def run(url: str, facts: Facts, scale: float = 1.0,
              log: Callable[[str], None] = print) -> tuple[list[DesignResult],
                                                           dict[str, str]]:
    """Build the designs next to vde's table, time every operation, drop them."""
    await build(url, log)
    conn = await asyncpg.connect(url)
    try:
        large = await large_tables(conn)
        results = []
        for op in OPS:
            started = time.perf_counter()
            result = DesignResult(op.name, op.kind)
            designs = [d for d in DESIGNS if d in op.steps]
            if op.plan_mode:
                await conn.execute(f"SET plan_cache_mode = {op.plan_mode}")
            cases = op.cases(facts, scale)
            if op.kind == "read":  # warm every page the runs will touch
                for case in cases:
                    for design in designs:
                        await _run_once(conn, op, design, case)
            for i, case in enumerate(cases):
                order = designs[i % len(designs):] + designs[:i % len(designs)]
                for design in order:
                    ms, count = await _run_once(conn, op, design, case)
                    if i >= op.warmup:
                        result.times_ms.setdefault(design, []).append(ms)
                        result.rows.setdefault(design, set()).add(count)
            if op.plan_mode:
                await conn.execute("RESET plan_cache_mode")
            for design in designs:
                scans = await _plan_scans(conn, op, design, cases[-1], large)
                if scans:
                    result.seq_scans[design] = sorted(scans)
            results.append(result)
            log(f"{op.name}: " + ", ".join(
                f"{d} {result.median(d):.3f} ms" for d in designs
                if result.median(d) is not None
            ) + f" ({time.perf_counter() - started:.0f}s)")
        plans = await page_plans(conn, facts)
        return results, plans
    finally:
        try:
            await conn.execute(sql.DROP)
        finally:
            await conn.close()


async def main(scale: float) -> int:
    from bench.databases import load, scratch_sides
    from bench.generate import generate

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    dataset = generate()
    async with scratch_sides(database_url()) as sides:
        await load(dataset, sides)
        results, plans = await run(sides[0].url, dataset.facts, scale, log)
    print(report(results, plans))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.designs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    sys.exit(asyncio.run(main(parser.parse_args().scale)))
