"""What one point query (a tile by id) costs through Piccolo, with and without a pool.

Run ``python -m bench.pool`` from the repository (``DATABASE_URL`` or the embedded
server). It builds a scratch database (migrated, a few hundred tiles), times the
same query three ways and prints the median of each in microseconds:

* Piccolo without a pool: every query opens and closes its own connection;
* Piccolo inside :func:`vde.database.connection_pool` (one pooled connection);
* asyncpg through its own pool (acquire, query, release per call), which is
  what Piccolo's pool does underneath, minus Piccolo;
* raw asyncpg on one connection with the statement prepared once: the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg

from vde.database import connection_pool, database_url, make_engine, use_engine
from vde.database.forwards import migrate_database
from vde.database.scratch import (
    create_database,
    drop_database,
    scratch_name,
)
from vde.mapping.tables import MapItem

POINT_QUERY = "SELECT * FROM vde_map_items WHERE id = $1"


async def build_map(url: str, tiles: int) -> list[int]:
    """A root and ``tiles`` children (paths '1'..'6', '1,1'...); their ids."""
    conn = await asyncpg.connect(url)
    try:
        item = await conn.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content)"
            " VALUES (1, 't', 'c') RETURNING id"
        )
        root = await conn.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
            "VALUES (1, 'user', $1) RETURNING id",
            item,
        )
        ids = {"": root}
        paths = [
            ",".join(map(str, steps))
            for depth in (1, 2, 3, 4)
            for steps in itertools.product(range(1, 7), repeat=depth)
        ][:tiles]
        for path in paths:  # parents first: a tile is one step below its parent
            ids[path] = await conn.fetchval(
                "INSERT INTO vde_map_items (coord_user_id, path, item_type, "
                "parent_id, ref_item_id) VALUES (1, $1, 'base', $2, $3) RETURNING id",
                path,
                ids[path[:-2]],
                item,
            )
        await conn.execute("ANALYZE vde_map_items")
        return list(ids.values())
    finally:
        await conn.close()


async def median_us(
    query: Callable[[int], Awaitable[object]], ids: list[int], runs: int
) -> float:
    """Median wall time of ``query(id)`` in microseconds, after a short warm-up."""
    for tile_id in ids[:20]:
        await query(tile_id)
    times = []
    for tile_id in itertools.islice(itertools.cycle(ids), runs):
        start = time.perf_counter_ns()
        row = await query(tile_id)
        times.append(time.perf_counter_ns() - start)
        assert row is not None
    return statistics.median(times) / 1000


async def measure(url: str, ids: list[int], runs: int) -> dict[str, float]:
    async def piccolo(tile_id: int) -> object:
        return await MapItem.select().where(MapItem.id == tile_id).first()

    results = {}
    engine = make_engine(url)
    with use_engine(engine):
        results["Piccolo, no pool (new connection per query)"] = await median_us(
            piccolo, ids, runs
        )
        async with connection_pool(engine, min_size=1, max_size=1):
            results["Piccolo, connection_pool()"] = await median_us(piccolo, ids, runs)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:

        async def pooled(tile_id: int) -> object:
            async with pool.acquire() as connection:
                return await connection.fetchrow(POINT_QUERY, tile_id)

        results["asyncpg, pool (acquire per query)"] = await median_us(
            pooled, ids, runs
        )
    finally:
        await pool.close()
    conn = await asyncpg.connect(url)
    try:
        statement = await conn.prepare(POINT_QUERY)
        results["asyncpg, one connection, prepared"] = await median_us(
            statement.fetchrow, ids, runs
        )
    finally:
        await conn.close()
    return results


def print_table(results: dict[str, float], runs: int) -> None:
    floor = min(results.values())
    width = max(map(len, results))
    print(f"point query (tile by id), median of {runs} runs")
    print(f"{'how':<{width}}  {'median µs':>10}  {'x asyncpg':>9}")
    for name, value in results.items():
        print(f"{name:<{width}}  {value:>10.0f}  {value / floor:>9.1f}")


async def main(runs: int, tiles: int) -> None:
    server = database_url()
    name = scratch_name("bench_pool")
    url = await create_database(server, name)
    try:
        await migrate_database(url)
        ids = await build_map(url, tiles)
        print_table(await measure(url, ids, runs), runs)
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="timed queries per way")
    parser.add_argument("--tiles", type=int, default=500, help="tiles in the map")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.tiles))
