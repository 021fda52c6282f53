"""``python -m bench.owner_fill``: how long the owner fill takes on freshly loaded rows.

Loads the bench's data set (``bench/generate.py``; ``--tiles N`` keeps its first
N tiles, parents before children) into vde's schema as it was before
``owner_id``, exactly as ``python -m bench`` and ``piccolo vde adopt`` do: COPY,
no ANALYZE. Then it times the migrations that add and fill ``owner_id``
(``mapping_2026_12_03t13_16_13_000000``), and the rest of vde's migrations (the
composite keys) apart, and drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time

import asyncpg

from bench.databases import copy_into_vde, restart_identities
from bench.generate import generate
from vde.database import database_url
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name

#: The first migration after the fill: applying up to it runs column and fill.
AFTER_FILL = ("mapping", "2026-12-03T13:16:35:144396")


async def main(tiles: int | None) -> None:
    dataset = generate()
    if tiles is not None:
        kept = dataset.rows["map_items"][:tiles]
        dataset = dataclasses.replace(dataset, rows={**dataset.rows, "map_items": kept})
    server = database_url()
    name = scratch_name("bench_owner_fill")
    url = await create_database(server, name)
    try:
        await copy_into_vde(url, dataset)
        conn = await asyncpg.connect(url)
        try:
            await restart_identities(conn)
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
        started = time.perf_counter()
        await migrate_database(url, stop=AFTER_FILL)
        fill = time.perf_counter() - started
        started = time.perf_counter()
        await migrate_database(url)
        rest = time.perf_counter() - started
        print(
            f"PostgreSQL {version}, {len(dataset.rows['map_items']):,} tiles, "
            f"{len(dataset.rows['base_items']):,} base items: owner fill {fill:.1f} s, "
            f"the rest of the migrations {rest:.1f} s"
        )
    finally:
        await drop_database(server, name)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=None,
                        help="keep the first N tiles (default: all 573,987)")
    asyncio.run(main(parser.parse_args().tiles))


if __name__ == "__main__":
    cli()
