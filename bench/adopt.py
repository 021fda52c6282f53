"""``python -m bench.adopt``: how long ``piccolo vde adopt`` takes on a big database.

Builds a database as the original app left it (the original app's schema from
``seed-schema.json``): ``--maps`` maps of 9,331 tiles each (every tile with six
children, five levels deep), one base item per tile, two versions for 20,000
items, 1,000 users with 5 sessions and 5 API keys each (a third with NULL
``enabled``), on the embedded server or ``DATABASE_URL``'s. Then it times the
report and ``--apply`` as a user runs them (``piccolo vde adopt``, a process)
and drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from bench import seed_schema
from vde.database import database_url
from vde.database.scratch import create_database, drop_database, scratch_name

REPO = Path(__file__).resolve().parents[1]

ROWS = """
INSERT INTO users (id, email) SELECT 'u' || g, 'u' || g || '@example.org'
  FROM generate_series(1, 1000) g;
INSERT INTO sessions (id, user_id, token, expires_at)
  SELECT 's' || g, 'u' || (g % 1000 + 1), 'token-' || g, now()
  FROM generate_series(1, 5000) g;
INSERT INTO apikey (id, key, user_id, created_at, updated_at, enabled)
  SELECT 'k' || g, 'hash-' || g, 'u' || (g % 1000 + 1), now(), now(),
         CASE WHEN g % 3 = 0 THEN NULL ELSE true END
  FROM generate_series(1, 5000) g;
INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id)
  SELECT 'u' || g, g FROM generate_series(1, 1000) g;
CREATE TEMP TABLE shape (path text, depth int);
WITH RECURSIVE tree(path, depth) AS (
  SELECT ''::text, 0
  UNION ALL
  SELECT CASE WHEN path = '' THEN d::text ELSE path || ',' || d END, depth + 1
  FROM tree, generate_series(1, 6) d WHERE depth < 5)
INSERT INTO shape SELECT * FROM tree;
INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path, item_type,
                           ref_item_id)
  SELECT row_number() OVER (ORDER BY u, length(path), path), u, 0, path,
         CASE WHEN path = '' THEN 'user' ELSE 'base' END, 0
  FROM shape, generate_series(1, $1::int) u;
INSERT INTO vde_base_items (id, title, content)
  SELECT id, 'title ' || id, repeat('x', 200) FROM vde_map_items;
UPDATE vde_map_items SET ref_item_id = id;
UPDATE vde_map_items m SET parent_id = p.id FROM vde_map_items p
  WHERE m.path <> '' AND p.coord_user_id = m.coord_user_id
    AND p.path = regexp_replace(m.path, '(^|,)[^,]*$', '');
INSERT INTO vde_base_item_versions (base_item_id, title, content, version_number)
  SELECT g, 'title ' || g, 'text', v
  FROM generate_series(1, 20000) g, generate_series(1, 2) v;
"""


async def build(url: str, maps: int) -> int:
    schema = seed_schema.load()
    conn = await asyncpg.connect(url)
    try:
        for sql in seed_schema.create_tables(schema):
            await conn.execute(sql)
        for statement in ROWS.split(";\n"):
            if statement.strip():
                args = [maps] if "$1" in statement else []
                await conn.execute(statement, *args)
        for sql in seed_schema.add_keys_and_indexes(schema):
            await conn.execute(sql)
        await conn.execute("ANALYZE")
        tiles: int = await conn.fetchval("SELECT count(*) FROM vde_map_items")
        return tiles
    finally:
        await conn.close()


def timed(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "vde", "adopt", *args],
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"adopt {args} failed: {done.stdout}\n{done.stderr}")
    return seconds


async def main(maps: int) -> None:
    server = database_url()
    name = scratch_name("bench_adopt")
    url = await create_database(server, name)
    try:
        tiles = await build(url, maps)
        conn = await asyncpg.connect(url)
        version = await conn.fetchval("SHOW server_version")
        await conn.close()
        report = timed(url)
        apply = timed(url, "--apply")
        print(
            f"PostgreSQL {version}, {tiles:,} tiles: report {report:.1f} s, "
            f"--apply {apply:.1f} s (each including the CLI's start-up)"
        )
    finally:
        await drop_database(server, name)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=20, help="maps of 9,331 tiles")
    asyncio.run(main(parser.parse_args().maps))


if __name__ == "__main__":
    cli()
