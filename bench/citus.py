"""``python -m bench.citus``: vde's queries and map operations on a Citus
cluster beside one PostgreSQL server, on the same 574k-tile data set.

Two databases get the bench's rows (``bench.generate``) the way ``python -m
bench`` loads vde's side: one on the server of ``DATABASE_URL`` (or the
embedded one), one on the Citus coordinator at 127.0.0.1:9700 (started with
``../shared/citus/cluster.sh``, see docs/scale-out.md), which ``piccolo vde
distribute --apply`` then spreads over the workers (32 shards a table).
Each read and map operation runs ``RUNS`` times on each, every run rolled
back; one more run on the cluster is logged by ``vde.testing.citus`` for the
shard groups and nodes its statements reached. The write that reaches every
node, ``delete_subtree``'s origin clearing, is timed alone too. Both
databases are dropped at the end. ``python -m bench --citus`` adds the table
to the main report.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.databases import _finish, copy_into_vde
from bench.generate import BIG_MAP_OWNER, RANDOM_SEED, Dataset, Facts, generate
from bench.operations import VDE, _subtree, _tile
from vde.database import database_url
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.mapping import MapCoordinates, descendants, history, neighbourhood, queries
from vde.mapping import tile_at as tile_at_op
from vde.mapping.deletes import CLEAR_ORIGINS_SQL
from vde.ops.distribute import distribute
from vde.testing.citus import shard_log

COORDINATOR = "postgresql://postgres@127.0.0.1:9700/{}"
TOOLS = Path(
    os.environ.get(
        "VDE_CITUS_TOOLS", Path(__file__).resolve().parents[2] / "shared" / "citus"
    )
)
RUNS = 15
Call = Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[Any]]


def _big(c: dict[str, Any], key: str = "path") -> MapCoordinates:
    return MapCoordinates(BIG_MAP_OWNER, 0, c[key])


def _inner(rng: random.Random, facts: Facts) -> dict[str, Any]:
    return {"path": rng.choice(facts.big_map_paths(3))}


#: (name, size, what to draw, the call): reads first, then the map operations.
CASES: list[tuple[str, str, Callable[[random.Random, Facts], dict[str, Any]], Call]] = [
    ("tile_at", "-", _inner, lambda conn, c: tile_at_op(conn, _big(c))),
    (
        "descendants, a page of 50",
        "259",
        _inner,
        lambda conn, c: descendants(conn, _big(c), limit=50),
    ),
    ("descendants", "259", _inner, lambda conn, c: descendants(conn, _big(c))),
    (
        "neighbourhood (2 generations)",
        "43",
        _inner,
        lambda conn, c: neighbourhood(conn, _big(c)),
    ),
    (
        "children",
        "6",
        _inner,
        lambda conn, c: queries.children(conn, BIG_MAP_OWNER, c["id"]),
    ),
    ("history", "-", _inner, lambda conn, c: history(conn, _big(c))),
    *((name, "-", _tile, VDE[name]) for name in ("add tile", "update content")),
    *(
        (name, size, _subtree(size), VDE[name])
        for name in (
            "move subtree",
            "swap subtrees",
            "copy subtree",
            "copy subtree, shared content",
            "delete subtree",
        )
        for size in ("1", "259")
    ),
]


@dataclass
class Row:
    name: str
    size: str
    times: dict[str, list[float]] = field(default_factory=dict)
    groups: int = 0  # most shard groups one statement reached
    nodes: int = 0
    statements: int = 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cluster(*args: str) -> None:
    subprocess.run(
        [str(TOOLS / "cluster.sh"), "/var/tmp/citus-shared", *args],
        check=True,
        capture_output=True,
        text=True,
    )


async def _load(url: str, dataset: Dataset, citus: bool) -> float:
    """vde's side of ``bench.databases.load``, then distribute on the cluster."""
    started = time.perf_counter()
    side = await copy_into_vde(url, dataset)
    await _finish(side, [])
    if citus:
        await distribute(url, apply=True)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("VACUUM (ANALYZE)")
        finally:
            await conn.close()
    return time.perf_counter() - started


async def _once(conn: asyncpg.Connection, call: Call, case: dict[str, Any]) -> float:
    transaction = conn.transaction()
    await transaction.start()
    try:
        started = time.perf_counter()
        await call(conn, case)
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return (time.perf_counter() - started) * 1000
    finally:
        await transaction.rollback()


async def _case_ids(conn: asyncpg.Connection, case: dict[str, Any]) -> None:
    case["id"] = await conn.fetchval(
        "SELECT id FROM vde_map_items WHERE coord_user_id = $1 AND coord_group_id = 0"
        " AND path = $2",
        BIG_MAP_OWNER,
        case["path"],
    )


async def measure(urls: dict[str, str], facts: Facts, runs: int = RUNS) -> list[Row]:
    conns = {name: await asyncpg.connect(url) for name, url in urls.items()}
    rows = []
    try:
        for name, size, draw, call in CASES:
            rng = random.Random(f"{RANDOM_SEED}:{name}:{size}")
            row = Row(name, size, {side: [] for side in conns})
            for i in range(runs + 2):  # two warm-ups
                case = draw(rng, facts)
                await _case_ids(conns["PostgreSQL 15"], case)
                for side, conn in conns.items():
                    ms = await _once(conn, call, case)
                    if i >= 2:
                        row.times[side].append(ms)
            async with shard_log(conns["Citus"]) as log:
                await _once(conns["Citus"], call, case)
            reached = log.reaching_shards()
            row.statements = len(reached)
            row.groups = max((len(t.groups) for t in reached), default=0)
            row.nodes = max((len(t.nodes) for t in reached), default=0)
            rows.append(row)
            _log(
                f"{name} ({size}): "
                + ", ".join(
                    f"{s} {statistics.median(t):.2f} ms" for s, t in row.times.items()
                )
            )
        rows.extend(await _clearing(conns, runs))
    finally:
        for conn in conns.values():
            await conn.close()
    return rows


async def _clearing(conns: dict[str, asyncpg.Connection], runs: int) -> list[Row]:
    """The origin clearing alone, for 1 and 259 deleted tiles."""
    rows = []
    for size in (1, 259):
        ids = await conns["Citus"].fetchval(
            "SELECT array_agg(id) FROM (SELECT id FROM vde_map_items "
            "WHERE coord_user_id = $1 LIMIT $2) t",
            BIG_MAP_OWNER,
            size,
        )

        async def clear(
            conn: asyncpg.Connection, _: dict[str, Any], ids: list[int] = ids
        ) -> None:
            await conn.execute(CLEAR_ORIGINS_SQL, ids)

        row = Row(
            "origin clearing alone (every node)",
            str(size),
            {side: [] for side in conns},
        )
        for i in range(runs + 2):
            for side, conn in conns.items():
                ms = await _once(conn, clear, {})
                if i >= 2:
                    row.times[side].append(ms)
        async with shard_log(conns["Citus"]) as log:
            await _once(conns["Citus"], clear, {})
        (touched,) = log.reaching_shards()
        row.statements, row.groups, row.nodes = (
            1,
            len(touched.groups),
            len(touched.nodes),
        )
        rows.append(row)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| operation | tiles | PostgreSQL 15 (ms) | Citus (ms) | statements on shards "
        "| most shard groups per statement | nodes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        one, citus = (
            statistics.median(row.times[s]) for s in ("PostgreSQL 15", "Citus")
        )
        lines.append(
            f"| {row.name} | {row.size} | {one:.2f} | {citus:.2f} | {row.statements} "
            f"| {row.groups} | {row.nodes} |"
        )
    return "\n".join(lines)


async def run(dataset: Dataset | None = None, runs: int = RUNS) -> str:
    """Load both databases, measure, drop them; the section of the report."""
    dataset = dataset or generate()
    server = database_url()
    single = scratch_name("bench_single")
    # On a shared cluster: a name of the caller's (``VDE_CITUS_DB_PREFIX``).
    prefix = os.environ.get("VDE_CITUS_DB_PREFIX", "vde_citus_")
    spread = f"{prefix}bench_{os.getpid()}"
    urls = {"PostgreSQL 15": "", "Citus": COORDINATOR.format(spread)}
    try:
        urls["PostgreSQL 15"] = await create_database(server, single)
        _cluster("createdb", spread)
        seconds = {}
        for side, url in urls.items():
            seconds[side] = await _load(url, dataset, citus=side == "Citus")
            _log(f"loaded {side} in {seconds[side]:.0f}s")
        rows = await measure(urls, dataset.facts, runs)
    finally:
        await drop_database(server, single)
        _cluster("dropdb", spread)
    tiles = len(dataset.rows["map_items"])
    return (
        f"{table(rows)}\n\n{tiles:,} tiles; load (COPY, migrations, and on Citus "
        f"distribute over 2 workers, 32 shards a table): PostgreSQL 15 "
        f"{seconds['PostgreSQL 15']:.0f}s, Citus {seconds['Citus']:.0f}s. "
        f"Medians of {runs} runs, each rolled back."
    )


if __name__ == "__main__":
    print(asyncio.run(run()))
