"""``python -m bench``: vde's schema against the original app's, on the same data.

Builds two scratch databases on the embedded server (or ``DATABASE_URL``'s),
loads the generated data set into both, runs the workload and prints the table;
raw results go to ``bench/out/`` (git-ignored). The databases are dropped at
the end, also when something fails.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench import citus, compare, designs, operations, report
from bench.databases import load, scratch_sides
from bench.generate import generate
from bench.workload import OPERATIONS
from vde.database import database_url

OUT = Path(__file__).resolve().parent / "out"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def main(
    scale: float, only: set[str] | None, other_designs: bool, on_citus: bool = False
) -> int:
    started = time.perf_counter()
    dataset = generate()
    _log(f"generated {dataset.row_count():,} rows "
         f"({len(dataset.rows['map_items']):,} tiles) "
         f"in {time.perf_counter() - started:.0f}s")
    server = database_url()
    async with scratch_sides(server) as sides:
        load_seconds = await load(dataset, sides)
        _log(f"loaded both databases in {load_seconds:.0f}s")
        conn = await asyncpg.connect(sides[0].url)
        try:
            version = await conn.fetchval("SHOW server_version")
            # Which schema was measured: the migrations on disk at run time.
            migrations = [
                f"{r['app_name']}/{r['name']}"
                for r in await conn.fetch("SELECT app_name, name FROM migration")
            ]
        finally:
            await conn.close()
        results = await compare.run(sides, dataset.facts, scale, only, _log)
        # vde against a trigger-free copy, a closure table and an adjacency list,
        # built from the vde side's rows, before the map operations
        # below change them.
        design_results, page_plans = (
            await designs.run(sides[0].url, dataset.facts, scale, _log)
            if other_designs else ([], {})
        )
        map_results = await operations.run(sides, dataset.facts, scale, only, _log)
    total = time.perf_counter() - started
    table, found = report.table(results), report.targets(results)
    if map_results:
        table += (
            "\n\nMap operations (vde.mapping vs the original app's repositories):\n\n"
        )
        table += operations.table(map_results)
    machine = f"{len(os.sched_getaffinity(0))} cores, PostgreSQL {version}"
    other = (
        f"\n\nvde and other tree designs on the same rows:\n\n"
        f"{designs.report(design_results, page_plans)}"
        if design_results else ""
    )
    if on_citus:  # the same rows on a Citus cluster and on one server
        other += f"\n\nOn Citus (docs/scale-out.md):\n\n{await citus.run(dataset)}"
    summary = (
        f"{table}\n\nTargets:\n{report.target_lines(found)}{other}\n\n"
        f"Machine: {machine}. Load {load_seconds:.0f}s, whole run {total:.0f}s.\n"
        f"vde migrations applied: {', '.join(sorted(migrations))}\n"
    )
    print(summary)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"results-{stamp}.md").write_text(summary)
    (OUT / f"results-{stamp}.json").write_text(json.dumps({
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "machine": machine,
        "vde_migrations": sorted(migrations),
        "load_seconds": load_seconds,
        "total_seconds": total,
        "results": [dataclasses.asdict(r) for r in results],
        "map_operations": [
            {"name": r.name, "size": r.size, "runs": r.runs,
             **{side: {"times_ms": m.times_ms, "statements": sorted(m.statements)}
                for side, m in r.sides.items()}}
            for r in map_results
        ],
        "targets": [dataclasses.asdict(t) for t in found],
        "designs": [
            {"name": r.name, "times_ms": r.times_ms,
             "rows": {d: sorted(n) for d, n in r.rows.items()},
             "seq_scans": r.seq_scans}
            for r in design_results
        ],
        "page_plans": page_plans,
    }, indent=1))
    _log(f"raw results: {OUT}/results-{stamp}.json")
    return 0


def cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the timed runs to do (warm-ups stay)")
    parser.add_argument("--only", action="append", metavar="OPERATION",
                        choices=sorted({op.name for op in OPERATIONS}
                                       | {op.name for op in operations.MAP_OPERATIONS}),
                        help="run only this operation (repeatable)")
    parser.add_argument("--no-designs", action="store_true",
                        help="skip the comparison with other tree designs")
    parser.add_argument("--citus", action="store_true",
                        help="add the Citus section (a cluster on 127.0.0.1:9700)")
    args = parser.parse_args()
    return asyncio.run(main(args.scale, set(args.only) if args.only else None,
                            not args.no_designs, args.citus))


if __name__ == "__main__":
    sys.exit(cli())
