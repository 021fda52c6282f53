"""What the tree consistency trigger costs a bulk insert of one 20,000-tile map.

Run: ``python -m bench.tree_check`` (``DATABASE_URL`` picks the server, else the
embedded one). One scratch database; the same rows are COPYed into the same
table under three schemas, in alternating order, several rounds, and the median
of each is reported:

- *before*: the schema before the tree migration (immediate coordinates unique,
  no trigger);
- *unchecked*: the current schema with the tree triggers dropped;
- *checked*: the current schema as migrated.

Two load shapes: the whole map in one COPY (depth order) and one COPY per level
(how a deep copy or an import that needs the parent's id inserts). The table
already holds another map of the same size, so plans are made for a table in
use; ``--empty-table`` loads into an empty one instead (the worst case for
plans cached while the table was tiny).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg

from vde.database import database_url
from vde.database.forwards import migrate_database
from vde.database.scratch import (
    create_database,
    drop_database,
    scratch_name,
)

TILES = 20_000
OWNER = 1
COLUMNS = ("id", "coord_user_id", "coord_group_id", "path", "item_type",
           "parent_id", "ref_item_id")
TRIGGERS = ("vde_map_items_tree_insert", "vde_map_items_tree_update")
UNIQUE = "vde_map_items_coordinates_unique"
UNIQUE_COLUMNS = "(coord_user_id, coord_group_id, path)"

Tile = tuple[int, int, int, str, str, int | None, int]


def realistic_map(
    tiles: int = TILES, owner: int = OWNER, first_id: int = 1
) -> list[list[Tile]]:
    """A map grown breadth-first (all seven directions), as levels of tiles.

    Level 0 is the 'user' root; every other tile is a 'base' tile one direction
    below its parent. 20,000 tiles fill six levels and part of a seventh. Every
    tile shows base item ``owner`` (the bench makes one item per owner: a tile
    shows its own owner's content).
    """
    levels: list[list[Tile]] = [[(first_id, owner, 0, "", "user", None, owner)]]
    count = 1
    while count < tiles:
        level: list[Tile] = []
        for parent in levels[-1]:
            for direction in range(7):
                if count == tiles:
                    break
                path = f"{parent[3]},{direction}" if parent[3] else str(direction)
                level.append(
                    (first_id + count, owner, 0, path, "base", parent[0], owner)
                )
                count += 1
        levels.append(level)
    return levels


def as_csv(tiles: list[Tile]) -> bytes:
    lines = (
        ",".join("" if v is None else f'"{v}"' if isinstance(v, str) else str(v)
                 for v in tile)
        for tile in tiles
    )
    return ("\n".join(lines) + "\n").encode()


async def copy(conn: asyncpg.Connection, tiles: list[Tile]) -> None:
    await conn.copy_to_table(
        "vde_map_items", source=io.BytesIO(as_csv(tiles)), columns=list(COLUMNS),
        format="csv",
    )


async def one_copy(conn: asyncpg.Connection, levels: list[list[Tile]]) -> None:
    await copy(conn, [tile for level in levels[1:] for tile in level])


async def copy_per_level(conn: asyncpg.Connection, levels: list[list[Tile]]) -> None:
    for level in levels[1:]:
        await copy(conn, level)


async def timed_load(
    conn: asyncpg.Connection,
    levels: list[list[Tile]],
    load: Callable[[asyncpg.Connection, list[list[Tile]]], Awaitable[None]],
) -> float:
    """Milliseconds to load every tile below the root, in one transaction."""
    await conn.execute("DELETE FROM vde_map_items WHERE coord_user_id = $1", OWNER)
    await copy(conn, levels[0])
    await conn.execute("VACUUM ANALYZE vde_map_items")
    started = time.perf_counter()
    async with conn.transaction():
        await load(conn, levels)
    return (time.perf_counter() - started) * 1000


class Schema:
    """Switches the table between the three schemas being compared."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.triggers: list[str] = []

    async def read(self) -> None:
        rows = await self.conn.fetch(
            "SELECT pg_get_triggerdef(oid) AS sql FROM pg_trigger "
            "WHERE tgname = ANY($1::text[]) ORDER BY tgname", list(TRIGGERS),
        )
        self.triggers = [row["sql"] for row in rows]
        assert len(self.triggers) == len(TRIGGERS), "migrate first"

    async def set(self, name: str) -> None:
        for trigger in TRIGGERS:
            await self.conn.execute(
                f"DROP TRIGGER IF EXISTS {trigger} ON vde_map_items"
            )
        deferrable = "" if name == "before" else " DEFERRABLE INITIALLY IMMEDIATE"
        await self.conn.execute(
            f"ALTER TABLE vde_map_items DROP CONSTRAINT {UNIQUE}, "
            f"ADD CONSTRAINT {UNIQUE} UNIQUE {UNIQUE_COLUMNS}{deferrable}"
        )
        if name == "checked":
            for sql in self.triggers:
                await self.conn.execute(sql)


async def bench(
    url: str, rounds: int, empty_table: bool
) -> dict[str, dict[str, float]]:
    levels = realistic_map()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO vde_base_items (id, owner_id, title, content) "
            f"VALUES ({OWNER}, {OWNER}, 't', 'c'), ({OWNER + 1}, {OWNER + 1}, 't', 'c')"
        )
        if not empty_table:
            other = realistic_map(owner=OWNER + 1, first_id=TILES + 1)
            await copy(conn, [tile for level in other for tile in level])
        schema = Schema(conn)
        await schema.read()
        loads = {"one COPY": one_copy, "COPY per level": copy_per_level}
        times: dict[str, dict[str, list[float]]] = {
            shape: {"before": [], "unchecked": [], "checked": []} for shape in loads
        }
        for round_ in range(rounds):
            order = ["before", "unchecked", "checked"]
            if round_ % 2:
                order.reverse()
            for name in order:
                await schema.set(name)
                for shape, load in loads.items():
                    times[shape][name].append(await timed_load(conn, levels, load))
        await schema.set("checked")
        return {
            shape: {name: statistics.median(ms) for name, ms in by_schema.items()}
            for shape, by_schema in times.items()
        }
    finally:
        await conn.close()


async def main(rounds: int, empty_table: bool) -> None:
    server = database_url()
    name = scratch_name("bench_tree")
    url = await create_database(server, name)
    try:
        await migrate_database(url)
        conn = await asyncpg.connect(url)
        version = await conn.fetchval("SHOW server_version")
        await conn.close()
        medians = await bench(url, rounds, empty_table)
    finally:
        await drop_database(server, name)
    table = "an empty table" if empty_table else "a table holding another map"
    print(f"PostgreSQL {version}, {TILES} tiles into {table}, "
          f"median of {rounds} rounds (ms)")
    print(f"{'load':<16}{'before':>9}{'unchecked':>11}{'checked':>9}"
          f"{'checked/unchecked':>19}{'checked/before':>16}")
    for shape, m in medians.items():
        print(f"{shape:<16}{m['before']:>9.1f}{m['unchecked']:>11.1f}"
              f"{m['checked']:>9.1f}{m['checked'] / m['unchecked']:>19.2f}"
              f"{m['checked'] / m['before']:>16.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--empty-table", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.empty_table))
