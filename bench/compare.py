"""Time each operation on both databases, alternately, and look at its plans.

The machine is shared and noisy (sequential runs drift by 2x), so the two sides
take turns run by run, with the same parameters, and the report uses medians.
Statements go through asyncpg's prepared statements, as repositories send them;
the warm-up runs let PostgreSQL settle on its generic plan where it wants one.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.databases import Side
from bench.generate import Facts
from bench.workload import (
    BULK_COLUMNS,
    BULK_TILES,
    OPERATIONS,
    ORIGINAL_SQL,
    VDE_SQL,
    Case,
    Operation,
    bulk_csv,
)
from vde.testing.plans import literal_of, seq_scanned

#: A Seq Scan on a table above this many rows fails the "index-served" goal.
LARGE_TABLE = 10_000


@dataclass
class SideResult:
    times_ms: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    #: where a Seq Scan on a large table was seen ("plan", "generic plan", "run")
    seq_scans: dict[str, list[str]] = field(default_factory=dict)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


@dataclass
class Result:
    name: str
    kind: str
    sides: dict[str, SideResult]
    mismatches: int = 0

    @property
    def ratio(self) -> float:
        return self.sides["vde"].median_ms / self.sides["original"].median_ms


def _sql(side: Side, op: Operation) -> str:
    return (VDE_SQL if side.name == "vde" else ORIGINAL_SQL)[op.name]


async def _statement(conn: asyncpg.Connection, side: Side, op: Operation,
                     case: Case, data: bytes | None) -> int:
    """Run the operation once; return the rows it read or wrote."""
    if op.kind == "bulk":
        assert data is not None
        await conn.copy_to_table(
            side.table("map_items"), source=io.BytesIO(data),
            columns=list(BULK_COLUMNS), format="csv",
        )
        count = BULK_TILES
    elif op.kind == "write":
        status = await conn.execute(_sql(side, op), *op.args(side.name, case))
        count = int(status.split()[-1])
    else:
        return len(await conn.fetch(_sql(side, op), *op.args(side.name, case)))
    # Deferred checks belong to the write: fire them inside the timed part.
    await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return count


async def _run_once(conn: asyncpg.Connection, side: Side, op: Operation,
                    case: Case) -> tuple[float, int]:
    data = bulk_csv(case) if op.kind == "bulk" else None
    if op.kind in ("point", "read"):
        started = time.perf_counter()
        count = await _statement(conn, side, op, case, data)
        return (time.perf_counter() - started) * 1000, count
    transaction = conn.transaction()
    await transaction.start()
    try:
        started = time.perf_counter()
        count = await _statement(conn, side, op, case, data)
        return (time.perf_counter() - started) * 1000, count
    finally:
        await transaction.rollback()


async def seq_scans_by_plan(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...],
                            large: set[str]) -> dict[str, set[str]]:
    """Large tables read by a Seq Scan in the custom and in the generic plan.

    ``EXPLAIN`` sent with parameters plans with their values; a prepared
    statement under ``force_generic_plan`` shows the plan a parameter-blind
    cache would run (``EXPLAIN (GENERIC_PLAN)`` needs PostgreSQL 16).
    ``vde.testing.plans.explain`` does the same for tests, without arrays.
    """
    await conn.execute(f"PREPARE bench_plan AS {sql}")
    execute = f"EXECUTE bench_plan({', '.join(map(literal_of, args))})"
    found = {}
    try:
        for label, mode in (("plan", "force_custom_plan"),
                            ("generic plan", "force_generic_plan")):
            await conn.execute(f"SET plan_cache_mode = {mode}")
            text = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {execute}")
            found[label] = seq_scanned(json.loads(text)[0]["Plan"]) & large
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE bench_plan")
    return found


async def _plans(conn: asyncpg.Connection, side: Side, op: Operation, case: Case,
                 large: set[str]) -> dict[str, set[str]]:
    """Seq Scans in the custom and in the generic plan of the statement."""
    if op.kind == "bulk":
        return {}
    return await seq_scans_by_plan(conn, _sql(side, op), op.args(side.name, case),
                                   large)


async def _run_seq_scans(conn: asyncpg.Connection, side: Side, op: Operation,
                         case: Case, large: set[str]) -> set[str]:
    """Large tables seq-scanned while the statement ran, triggers included.

    Foreign-key actions run their own queries, invisible in EXPLAIN; the
    transaction's own statistics count their scans too.
    """
    scans = "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
    data = bulk_csv(case) if op.kind == "bulk" else None
    transaction = conn.transaction()
    await transaction.start()
    try:
        before = dict(await conn.fetch(scans))
        await _statement(conn, side, op, case, data)
        after = dict(await conn.fetch(scans))
    finally:
        await transaction.rollback()
    return {t for t in large if after.get(t, 0) > before.get(t, 0)}


async def large_tables(conn: asyncpg.Connection) -> set[str]:
    """The tables of more than ``LARGE_TABLE`` rows (by the planner's estimate)."""
    rows = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relkind = 'r' "
        "AND relnamespace = 'public'::regnamespace AND reltuples > $1",
        LARGE_TABLE,
    )
    return {row["relname"] for row in rows}


async def run(sides: tuple[Side, Side], facts: Facts, scale: float = 1.0,
              only: set[str] | None = None, log: Any = None) -> list[Result]:
    """Every operation, both sides taking turns; plans checked after the timing."""
    conns = {side.name: await asyncpg.connect(side.url) for side in sides}
    try:
        large = {side.name: await large_tables(conns[side.name]) for side in sides}
        results = []
        for op in OPERATIONS:
            if only and op.name not in only:
                continue
            result = Result(op.name, op.kind, {s.name: SideResult() for s in sides})
            started = time.perf_counter()
            cases = op.cases(facts, scale)
            if op.kind in ("point", "read"):
                # An untimed pass over every parameter first: otherwise the side
                # whose pages happen to be in shared buffers wins by 5-10%.
                for case in cases:
                    for side in sides:
                        await _run_once(conns[side.name], side, op, case)
            for i, case in enumerate(cases):
                counts = {}
                for side in sides if i % 2 == 0 else tuple(reversed(sides)):
                    ms, count = await _run_once(conns[side.name], side, op, case)
                    counts[side.name] = count
                    if i >= op.warmup:
                        result.sides[side.name].times_ms.append(ms)
                        result.sides[side.name].rows.append(count)
                if len(set(counts.values())) > 1:
                    result.mismatches += 1
            last = cases[-1]
            for side in sides:
                conn, found = conns[side.name], large[side.name]
                scans = await _plans(conn, side, op, last, found)
                scans["run"] = await _run_seq_scans(conn, side, op, last, found)
                result.sides[side.name].seq_scans = {
                    where: sorted(tables) for where, tables in scans.items() if tables
                }
            results.append(result)
            if log:
                log(f"{op.name}: vde {result.sides['vde'].median_ms:.3f} ms, "
                    f"original {result.sides['original'].median_ms:.3f} ms "
                    f"({time.perf_counter() - started:.0f}s)")
        return results
    finally:
        for conn in conns.values():
            await conn.close()
