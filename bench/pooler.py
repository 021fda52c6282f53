"""What running behind a transaction pooler costs: the point queries and a page.

Run ``python -m bench.pooler [--runs N]`` from the repository, with
``DATABASE_URL`` naming a server PgBouncer can reach (as root, the embedded
server is not one: ``bench/pgbouncer.py`` says why). It builds a scratch
database (migrated; a map of 1,555 tiles, a session, 30 LLM jobs, 5 versions
of one item), starts its own PgBouncer in transaction mode in front of the
same server, and times vde's query helpers on a pool (acquire, query,
release per call, as an application does) three ways:

* straight to the server with asyncpg's statement cache (vde's default);
* straight to the server without it (``pool_mode="transaction"``): the price
  of the switch alone;
* through PgBouncer with ``pool_mode="transaction"``: what a deployment
  behind a hosted pooler pays.

The three take turns query by query, so a busy moment of the machine falls on
all of them; each cell is a median in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench import pgbouncer
from vde.auth.queries import session_by_token
from vde.database import connection_pool, database_url, make_engine
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.llm.queries import jobs_of_user
from vde.mapping import MapCoordinates, descendants, tile_at
from vde.mapping.queries import children, map_root, versions

SETUPS = (
    "direct, statement cache",
    "direct, no cache",
    "PgBouncer (transaction), no cache",
)
HOME = MapCoordinates.root(1)
DEPTH = 4  # 6 + 36 + 216 + 1,296 tiles below the root
STEPS = range(1, 7)


async def build(url: str) -> dict[str, Any]:
    """The scratch database's rows; the values the queries look up."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            item = await conn.fetchval(
                "INSERT INTO vde_base_items (owner_id, title, content)"
                " VALUES (1, 't', 'c') "
                "RETURNING id"
            )
            root = await conn.fetchval(
                "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
                "VALUES (1, 'user', $1) RETURNING id",
                item,
            )
            parents = [(root, "")]
            for _ in range(DEPTH):  # parents first: the tree check wants them
                rows = await conn.fetch(
                    "INSERT INTO vde_map_items (coord_user_id, path, item_type, "
                    "parent_id, ref_item_id) SELECT 1, p.path, 'base', p.parent, $3 "
                    "FROM unnest($1::text[], $2::int[]) AS p(path, parent) "
                    "RETURNING id, path",
                    [f"{path},{s}".lstrip(",") for _, path in parents for s in STEPS],
                    [parent for parent, _ in parents for _ in STEPS],
                    item,
                )
                parents = [(row["id"], row["path"]) for row in rows]
            await conn.executemany(
                "INSERT INTO vde_base_item_versions (owner_id, base_item_id, title, "
                "content, version_number) VALUES (1, $1, 't', 'c', $2)",
                [(item, number) for number in range(1, 6)],
            )
            await conn.execute(
                "INSERT INTO vde_users (id, email) VALUES ('u1', 'ada@example.com')"
            )
            await conn.execute(
                "INSERT INTO vde_sessions (id, user_id, token, expires_at) "
                "VALUES ('s1', 'u1', 'token-1', now() + interval '1 day')"
            )
            await conn.executemany(
                "INSERT INTO vde_llm_job_results (id, job_id, user_id, status) "
                "VALUES ($1, $1, 'u1', 'completed')",
                [(f"job-{n}",) for n in range(30)],
            )
        await conn.execute("ANALYZE")
        inner = await conn.fetchval("SELECT id FROM vde_map_items WHERE path = '3,4'")
    finally:
        await conn.close()
    return {"item": item, "inner": inner}


Query = Callable[[asyncpg.Pool], Awaitable[object]]


def queries(facts: dict[str, Any]) -> dict[str, Query]:
    """What is timed: the bench's point queries, and a page of 1,000 tiles."""
    return {
        "root of map": lambda pool: map_root(pool, 1),
        "tile by coordinates": lambda pool: tile_at(pool, HOME.child(3).child(4)),
        "children": lambda pool: children(pool, 1, facts["inner"]),
        "versions of item": lambda pool: versions(pool, 1, facts["item"]),
        "session by token": lambda pool: session_by_token(pool, "token-1"),
        "jobs of user": lambda pool: jobs_of_user(pool, "u1", limit=20),
        "page of 1,000 by depth": lambda pool: descendants(pool, HOME, limit=1000),
    }


async def measure(
    urls: dict[str, tuple[str, str]], facts: dict[str, Any], runs: int
) -> dict[str, dict[str, float]]:
    """Median µs of each query in each setup (``urls``: setup -> (URL, mode))."""
    times: dict[str, dict[str, list[int]]] = {}
    async with contextlib.AsyncExitStack() as stack:
        pools = {}
        for setup, (url, mode) in urls.items():
            engine = make_engine(url, pool_mode=mode)
            pooled = connection_pool(engine, min_size=1, max_size=1)
            pools[setup] = (await stack.enter_async_context(pooled)).pool
        for name, query in queries(facts).items():
            times[name] = {setup: [] for setup in pools}
            for pool in pools.values():  # warm-up: plans, caches, server connections
                for _ in range(10):
                    assert await query(pool)
            for _ in range(runs):
                for setup, pool in pools.items():
                    start = time.perf_counter_ns()
                    await query(pool)
                    times[name][setup].append(time.perf_counter_ns() - start)
    return {
        name: {setup: statistics.median(t) / 1000 for setup, t in by_setup.items()}
        for name, by_setup in times.items()
    }


def table(results: dict[str, dict[str, float]], runs: int) -> str:
    direct, pooled = SETUPS[0], SETUPS[2]
    lines = [
        f"median µs of {runs} runs per cell; vde's helpers on a pool of one connection",
        "",
        "| query | " + " | ".join(SETUPS) + " | PgBouncer / direct cached |",
        "| --- | " + " | ".join("---:" for _ in SETUPS) + " | ---: |",
    ]
    for name, cells in results.items():
        values = " | ".join(f"{cells[setup]:,.0f}" for setup in SETUPS)
        ratio = cells[pooled] / cells[direct]
        lines.append(f"| {name} | {values} | {ratio:.2f}x |")
    return "\n".join(lines)


async def main(runs: int) -> int:
    reason = pgbouncer.unreachable_reason()
    if reason is not None or pgbouncer.binary() is None:
        print(
            f"bench.pooler: {reason or 'pgbouncer is not installed'}", file=sys.stderr
        )
        return 1
    server = database_url()
    name = scratch_name("bench_pooler")
    url = await create_database(server, name)
    try:
        await migrate_database(url)
        facts = await build(url)
        with pgbouncer.running(server) as bouncer:
            urls = {
                SETUPS[0]: (url, "session"),
                SETUPS[1]: (url, "transaction"),
                SETUPS[2]: (bouncer.url(name), "transaction"),
            }
            results = await measure(urls, facts, runs)
        print(f"PostgreSQL {await server_version(url)}, {pgbouncer_version()}\n")
        print(table(results, runs))
    finally:
        await drop_database(server, name)
    return 0


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def pgbouncer_version() -> str:
    program = pgbouncer.binary() or "pgbouncer"
    done = subprocess.run([program, "--version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0] if done.stdout else "PgBouncer"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="timed runs per cell")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.runs)))
