"""What the tree check's write of each new parent costs vde.mapping's operations.

Run: ``python -m bench.parent_write [--rounds N]`` (``DATABASE_URL`` picks the
server, else the embedded one). One scratch database, migrated, holding two
20,000-tile maps (``bench.tree_check.realistic_map``). The tree check function
is switched between the one before migration mapping_2026_12_03t10_05_46_407712
(*before*: parents locked FOR SHARE) and the migrated one (*after*: each new
child's parent written), in alternating order; vde.mapping's own statements
are today's in both. Every operation runs in a transaction that is rolled
back; the median of each is printed (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from bench.tree_check import TILES, copy, realistic_map
from vde.database import database_url
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.mapping import MapCoordinates, add_tile, copy_subtree, move_subtree
from vde.migration_steps import load_migration

MIGRATION = (
    Path(__file__).resolve().parents[1]
    / "piccolo_migrations/mapping/mapping_2026_12_03t10_05_46_407712.py"
)
Op = Callable[[asyncpg.Connection], Awaitable[object]]


def functions() -> dict[str, str]:
    module = load_migration(str(MIGRATION), MIGRATION.name)
    (after,) = module.FORWARDS
    (before,) = module.BACKWARDS
    return {
        "before": before.replace(module.SCHEMA, "public"),
        "after": after.replace(module.SCHEMA, "public"),
    }


def operations() -> dict[str, Op]:
    """Each in owner 1's or owner 2's map (depths 0-5 full, '0,0,0,*' deeper)."""
    subtree = MapCoordinates(1, 0, "1")  # 2,801 tiles
    free = MapCoordinates(1, 0, "0,1,1,1,1,6")  # a free place, its parent a leaf

    async def adds_distinct(conn: asyncpg.Connection) -> None:
        for n in range(196):  # below 196 different leaves
            await add_tile(conn, MapCoordinates(
                2, 0, f"3,{n // 49},{n // 7 % 7},{n % 7},0,6"), "t", "c")

    async def adds_siblings(conn: asyncpg.Connection) -> None:
        for n in range(196):  # 7 children of each of 28 leaves
            k = n // 7
            await add_tile(conn, MapCoordinates(
                2, 0, f"4,0,{k // 7},{k % 7},0,{n % 7}"), "t", "c")

    async def raw_inserts(conn: asyncpg.Connection) -> None:
        for n in range(196):  # one-row INSERTs below 196 different leaves
            parent = f"6,{n // 49},{n // 7 % 7},{n % 7},0"
            await conn.execute(
                "INSERT INTO vde_map_items (coord_user_id, path, item_type, "
                "parent_id, ref_item_id) SELECT 2, $1, 'base', id, 2 "
                "FROM vde_map_items WHERE coord_user_id = 2 AND path = $2",
                f"{parent},6", parent,
            )

    return {
        "196 one-row INSERTs, 196 parents": raw_inserts,
        "196 add_tile, 196 parents": adds_distinct,
        "196 add_tile, 7 per parent": adds_siblings,
        "INSERT..SELECT 2,401 leaves": lambda c: c.execute(
            "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
            "ref_item_id) SELECT 2, path || ',6', 'base', id, 2 FROM vde_map_items "
            "WHERE coord_user_id = 2 AND length(path) = 9 AND path LIKE '5,%'"
        ),
        "move 2,801 tiles": lambda c: move_subtree(c, subtree, free),
        "move 1 tile": lambda c: move_subtree(
            c, MapCoordinates(1, 0, "2,3,4,5,6"), free
        ),
        "copy 2,801 tiles": lambda c: copy_subtree(c, subtree, free),
        "UPDATE updated_at, 20,000": lambda c: c.execute(
            "UPDATE vde_map_items SET updated_at = now() WHERE coord_user_id = 1"
        ),
    }


async def timed(conn: asyncpg.Connection, op: Op) -> float:
    transaction = conn.transaction()
    await transaction.start()
    try:
        started = time.perf_counter()
        await op(conn)
        return (time.perf_counter() - started) * 1000
    finally:
        await transaction.rollback()


async def bench(url: str, rounds: int) -> dict[str, dict[str, float]]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO vde_base_items (id, owner_id, title, content) "
            "VALUES (1, 1, 't', 'c'), (2, 2, 't', 'c')"
        )
        for owner in (1, 2):
            levels = realistic_map(owner=owner, first_id=(owner - 1) * TILES + 1)
            await copy(conn, [tile for level in levels for tile in level])
        for table in ("vde_map_items", "vde_base_items"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100000)"
            )
        await conn.execute("VACUUM ANALYZE")
        texts, ops = functions(), operations()
        times: dict[str, dict[str, list[float]]] = {
            name: {"before": [], "after": []} for name in ops
        }
        for round_ in range(rounds):
            order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
            for version in order:
                await conn.execute(texts[version])
                for name, op in ops.items():
                    times[name][version].append(await timed(conn, op))
        return {
            name: {v: statistics.median(ms) for v, ms in by.items()}
            for name, by in times.items()
        }
    finally:
        await conn.close()


async def main(rounds: int) -> None:
    server = database_url()
    name = scratch_name("bench_parent_write")
    url = await create_database(server, name)
    try:
        await migrate_database(url)
        conn = await asyncpg.connect(url)
        version = await conn.fetchval("SHOW server_version")
        await conn.close()
        medians = await bench(url, rounds)
    finally:
        await drop_database(server, name)
    print(f"PostgreSQL {version}, median of {rounds} rounds (ms)")
    print(f"{'operation':<34}{'before':>9}{'after':>9}{'after/before':>14}")
    for op, m in medians.items():
        print(f"{op:<34}{m['before']:>9.1f}{m['after']:>9.1f}"
              f"{m['after'] / m['before']:>14.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
