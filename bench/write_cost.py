"""What one server pays per write for the map owner in every key.

Run: ``python -m bench.write_cost [--rounds N]`` (``DATABASE_URL`` picks the
server, else the embedded one). Two scratch databases hold the same two
20,000-tile maps (``bench.tree_check.realistic_map``): *before*, migrated up to
the first migration that adds the owner to content (the keys and tree check
of one server only), and *after*, migrated through. The same raw statements
run on both, in alternating order, each operation in a transaction that is
rolled back; the median of each is printed (ms). Raw statements, not
vde.mapping's calls, so that both schemas run the same SQL: what differs is the
keys, the foreign keys and the tree check.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import asyncpg

from bench.parent_write import Op, timed
from bench.tree_check import TILES, copy, realistic_map
from vde.database import database_url
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.ops.adopt.owners import OWNER_MIGRATION

REPEAT = 196

INSERT_CHILD = (
    "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
    "ref_item_id) SELECT 2, $1, 'base', id, 2 "
    "FROM vde_map_items WHERE coord_user_id = 2 AND path = $2"
)
# One leaf of owner 1's map moved below another leaf, as move_subtree writes it.
MOVE_LEAF = (
    "UPDATE vde_map_items SET path = $2, parent_id = (SELECT id FROM vde_map_items"
    " WHERE coord_user_id = 1 AND coord_group_id = 0 AND path = $3)"
    " WHERE coord_user_id = 1 AND coord_group_id = 0 AND path = $1"
)
# Subtree '1' (2,801 tiles) moved below a leaf, in one statement.
MOVE_SUBTREE = """UPDATE vde_map_items SET
    path = '0,1,1,1,1,6' || substr(path, 2),
    parent_id = CASE WHEN path = '1' THEN (SELECT id FROM vde_map_items
        WHERE coord_user_id = 1 AND coord_group_id = 0 AND path = '0,1,1,1,1')
        ELSE parent_id END
    WHERE coord_user_id = 1 AND coord_group_id = 0
      AND (path = '1' OR path LIKE '1,%')"""


def operations() -> dict[str, Op]:
    async def inserts(conn: asyncpg.Connection) -> None:
        for n in range(REPEAT):  # one-row INSERTs below 196 different leaves
            parent = f"6,{n // 49},{n // 7 % 7},{n % 7},0"
            await conn.execute(INSERT_CHILD, f"{parent},6", parent)

    async def moves(conn: asyncpg.Connection) -> None:
        for n in range(REPEAT):  # 196 leaves, each below another leaf
            leaf = f"2,{n // 49},{n // 7 % 7},{n % 7},0"
            target = f"3,{n // 49},{n // 7 % 7},{n % 7},0"
            await conn.execute(MOVE_LEAF, leaf, f"{target},6", target)

    return {
        f"{REPEAT} one-row INSERTs": inserts,
        f"{REPEAT} one-tile moves": moves,
        "move 2,801 tiles": lambda c: c.execute(MOVE_SUBTREE),
        "UPDATE updated_at, 20,000": lambda c: c.execute(
            "UPDATE vde_map_items SET updated_at = now() WHERE coord_user_id = 1"
        ),
    }


async def load(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        owned = await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'vde_base_items' AND column_name = 'owner_id'"
        )
        columns, values = (
            ("id, owner_id, title, content", "(1, 1, 't', 'c'), (2, 2, 't', 'c')")
            if owned
            else ("id, title, content", "(1, 't', 'c'), (2, 't', 'c')")
        )
        await conn.execute(f"INSERT INTO vde_base_items ({columns}) VALUES {values}")
        for owner in (1, 2):
            levels = realistic_map(owner=owner, first_id=(owner - 1) * TILES + 1)
            await copy(conn, [tile for level in levels for tile in level])
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('vde_map_items', 'id'), 100000)"
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def bench(urls: dict[str, str], rounds: int) -> dict[str, dict[str, float]]:
    conns = {name: await asyncpg.connect(url) for name, url in urls.items()}
    try:
        ops = operations()
        times: dict[str, dict[str, list[float]]] = {
            name: {schema: [] for schema in urls} for name in ops
        }
        for round_ in range(rounds):
            order = list(urls) if round_ % 2 == 0 else list(reversed(urls))
            for schema in order:
                for name, op in ops.items():
                    times[name][schema].append(await timed(conns[schema], op))
        return {
            name: {schema: statistics.median(ms) for schema, ms in by.items()}
            for name, by in times.items()
        }
    finally:
        for conn in conns.values():
            await conn.close()


async def main(rounds: int) -> None:
    server = database_url()
    names = {
        "before": scratch_name("bench_before"),
        "after": scratch_name("bench_after"),
    }
    urls: dict[str, str] = {}
    try:
        for schema, name in names.items():
            urls[schema] = await create_database(server, name)
            stop = OWNER_MIGRATION if schema == "before" else None
            await migrate_database(urls[schema], stop)
            await load(urls[schema])
        conn = await asyncpg.connect(urls["after"])
        version = await conn.fetchval("SHOW server_version")
        await conn.close()
        medians = await bench(urls, rounds)
    finally:
        for name in names.values():
            await drop_database(server, name)
    print(f"PostgreSQL {version}, median of {rounds} rounds (ms)")
    print(f"{'operation':<30}{'before':>9}{'after':>9}{'after/before':>14}")
    for op, m in medians.items():
        print(
            f"{op:<30}{m['before']:>9.1f}{m['after']:>9.1f}"
            f"{m['after'] / m['before']:>14.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    asyncio.run(main(parser.parse_args().rounds))
