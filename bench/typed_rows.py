"""What typed rows cost a page of 1,000 tiles, and what a tile's neighbourhood costs.

Run: ``python -m bench.typed_rows [--runs N]`` (``DATABASE_URL`` picks the
server, else the embedded one). One scratch database, migrated, holding the
bench's tiles and base items (``bench.generate``: 574k tiles, 100,000 base
items; the other tables play no part in these reads). Each pass runs every
way of a read once, in a rotating order, on one connection; the median of each
is printed in ms with its ratio to the first way.

*A page*: the first 1,000 tiles below the root of the biggest map (55,987
tiles), read by the statement ``descendants(limit=1000)`` sends
(``DESCENDANTS_PAGE_SQL``):

* *asyncpg*: ``conn.fetch`` of that statement, records as asyncpg makes them;
* *descendants()*: vde's function, the same statement, ``Tile`` rows;
* *validated*: ``conn.fetch``, then ``Tile.model_validate(dict(record))`` per
  row (what vde did before it trusted its own rows);
* *TypeAdapter*: ``conn.fetch``, then ``TypeAdapter(list[Tile])`` validates
  the list of dicts at once (in strict mode it refuses the enum's text);
* *model_construct*: ``conn.fetch``, then pydantic's ``Tile.model_construct``
  per row, with the enum converted.

*A neighbourhood*: the biggest map's root with two generations below it (43
tiles), then a depth-3 tile of it with two generations (43 tiles):

* *neighbourhood()*: one statement, each generation one range of the depth
  index (``neighbourhood_sql``);
* *tile_at() + descendants()*: two statements, the descendants one path range
  filtered by length (``descendants(generations=2)``, no page);
* *asyncpg*: ``conn.fetch`` of ``neighbourhood()``'s statement.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pydantic

from bench.generate import BIG_MAP_OWNER, COLUMNS, generate
from bench.progress import Progress
from bench.seed_schema import TABLES
from vde.database import database_url
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.mapping import MapCoordinates, descendants, neighbourhood, tile_at
from vde.mapping.item_types import MapItemType
from vde.mapping.models import Tile
from vde.mapping.neighbourhoods import neighbourhood_sql
from vde.mapping.queries import DESCENDANTS_PAGE_SQL

PAGE = 1_000
WARMUP = 20
#: What the statement reads: the tiles and the base items they show.
LOADED = ("base_items", "map_items")
CHUNK = 25_000

#: One way to read: the rows it read (freed after the clock stops, as a caller
#: holding them would).
Way = Callable[[asyncpg.Connection], Awaitable[list[Any]]]


async def load(url: str) -> int:
    """COPY the bench's tiles and base items into ``url``; return the tile count."""
    dataset = generate()
    rows = {logical: dataset.rows[logical] for logical in LOADED}
    progress = Progress("loading", sum(map(len, rows.values())))
    conn = await asyncpg.connect(url)
    try:
        for logical, table_rows in rows.items():
            for start in range(0, len(table_rows), CHUNK):
                chunk = table_rows[start : start + CHUNK]
                await conn.copy_records_to_table(
                    TABLES[logical][0], records=chunk, columns=list(COLUMNS[logical])
                )
                progress.advance(len(chunk))
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        progress.close()
        await conn.close()
    return len(rows["map_items"])


def page_ways() -> dict[str, Way]:
    coords = MapCoordinates.root(BIG_MAP_OWNER)
    lower, upper = coords.descendant_bounds()
    args = (coords.user_id, coords.group_id, lower, upper,
            coords.descendant_length_limit(None), PAGE, 0)
    item_types = {member.value: member for member in MapItemType}

    async def raw(conn: asyncpg.Connection) -> list[Any]:
        return list(await conn.fetch(DESCENDANTS_PAGE_SQL, *args))

    async def typed(conn: asyncpg.Connection) -> list[Any]:
        return await descendants(conn, coords, limit=PAGE)

    async def validated(conn: asyncpg.Connection) -> list[Any]:
        rows = await conn.fetch(DESCENDANTS_PAGE_SQL, *args)
        return [Tile.model_validate(dict(row)) for row in rows]

    adapter = pydantic.TypeAdapter(list[Tile])

    async def adapted(conn: asyncpg.Connection) -> list[Any]:
        rows = await conn.fetch(DESCENDANTS_PAGE_SQL, *args)
        return adapter.validate_python([dict(row) for row in rows])

    async def constructed(conn: asyncpg.Connection) -> list[Any]:
        rows = await conn.fetch(DESCENDANTS_PAGE_SQL, *args)
        tiles = []
        for row in rows:
            values = dict(row)
            values["item_type"] = item_types[values["item_type"]]
            tiles.append(Tile.model_construct(**values))
        return tiles

    return {
        "asyncpg": raw,
        "descendants()": typed,
        "validated": validated,
        "TypeAdapter": adapted,
        "model_construct": constructed,
    }


def neighbourhood_ways(coords: MapCoordinates) -> dict[str, Way]:
    lengths = [2 * (coords.depth + step) - 1 for step in (1, 2)]
    args = (coords.user_id, coords.group_id, coords.path,
            *coords.descendant_bounds(), *lengths)

    async def one_read(conn: asyncpg.Connection) -> list[Any]:
        found = await neighbourhood(conn, coords, generations=2)
        return [] if found is None else [found.tile, *found.descendants]

    async def two_reads(conn: asyncpg.Connection) -> list[Any]:
        tile = await tile_at(conn, coords)
        return [tile, *await descendants(conn, coords, generations=2)]

    async def raw(conn: asyncpg.Connection) -> list[Any]:
        return list(await conn.fetch(neighbourhood_sql(2), *args))

    return {
        "neighbourhood()": one_read,
        "tile_at() + descendants()": two_reads,
        "asyncpg": raw,
    }


async def measure(
    conn: asyncpg.Connection, ways: dict[str, Way], rows: int, runs: int
) -> dict[str, list[float]]:
    """Milliseconds of each way, ``runs`` passes after ``WARMUP`` untimed ones."""
    names = list(ways)
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(WARMUP + runs):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            started = time.perf_counter()
            read = await ways[name](conn)
            elapsed = (time.perf_counter() - started) * 1000
            if len(read) != rows:
                raise RuntimeError(f"{name} read {len(read)} rows, not {rows}")
            del read
            if number >= WARMUP:
                times[name].append(elapsed)
    return times


def report(title: str, times: dict[str, list[float]]) -> str:
    first = statistics.median(next(iter(times.values())))
    width = max(map(len, times))
    lines = [title, f"{'how':<{width}}  {'median ms':>9}  {'ratio':>6}"]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"{name:<{width}}  {median:>9.2f}  {median / first:>6.2f}")
    return "\n".join(lines)


async def run(url: str, tiles: int, runs: int) -> str:
    conn = await asyncpg.connect(url)
    try:
        parts = [report(
            f"a page of {PAGE:,} tiles below the biggest root ({tiles:,} tiles "
            f"loaded), median of {runs} runs",
            await measure(conn, page_ways(), PAGE, runs),
        )]
        for coords in (MapCoordinates.root(BIG_MAP_OWNER),
                       MapCoordinates(BIG_MAP_OWNER, 0, "2,3,4")):
            where = f"path {coords.path!r}" if coords.path else "the root"
            parts.append(report(
                f"{where} of the biggest map and 2 generations, median of {runs} runs",
                await measure(conn, neighbourhood_ways(coords), 43, runs),
            ))
    finally:
        await conn.close()
    return "\n\n".join(parts)


async def main(runs: int) -> None:
    server = database_url()
    name = scratch_name("bench_typed_rows")
    scratch = await create_database(server, name)
    try:
        await migrate_database(scratch)
        started = time.perf_counter()
        tiles = await load(scratch)
        print(f"loaded in {time.perf_counter() - started:.0f}s")
        print(await run(scratch, tiles, runs))
    finally:
        await drop_database(server, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="timed passes")
    asyncio.run(main(parser.parse_args().runs))
