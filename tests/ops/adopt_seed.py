"""Databases as the original app left them: the seed's schema, rows for every case.

The schema is replayed from ``bench/seed-schema.json`` (``bench.seed_schema``);
the ``descr`` variant renames the content column as the databases whose rename
migration was missing from Drizzle's journal have it. The rows are what the app
and better-auth 1.3 wrote: a clean set (only lossless repairs needed), and with
``dirty=True`` one row for each case that needs a decision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench import seed_schema

T0 = datetime(2025, 3, 1, 9, 30, 15, 123456)  # naive: the app wrote UTC
Z0 = T0.replace(tzinfo=UTC)


def at(minutes: int, aware: bool = False) -> datetime:
    value = T0 + timedelta(minutes=minutes)
    return value.replace(tzinfo=UTC) if aware else value


USERS = [
    ("u1", "Alice", "alice@example.org", True, None),
    ("u2", "Bob", "bob@example.org", False, "https://img.example.org/bob.png"),
    ("u3", None, "carol@example.org", False, None),
]

# (id, user, provider, account id, access token, password, scope)
ACCOUNTS = [
    ("acc1", "u1", "credential", "u1", None, "c2NyeXB0:aGFzaA==", None),
    ("acc2", "u2", "github", "gh-42", "gho_token2", None, "read:user,user:email"),
    ("acc3", "u3", "credential", "u3", None, "c2NyeXB0:b3RoZXI=", None),
]
DIRTY_ACCOUNTS = [
    ("acc4", "u3", "github", "gh-42", "gho_token4", None, "read:user"),
]

# apikey: (id, user, enabled, rate_limit_enabled, window, max, request_count)
API_KEYS = [
    ("key1", "u1", True, True, 60_000, 100, 3),
    ("key2", "u1", None, None, 86_400_000, 10, None),  # NULLs mean on, on, 0
    ("key3", "u2", False, None, None, 10, 7),  # NULL window: no rate limit
    ("key4", "u2", True, True, 1_000, None, 0),  # NULL max: no rate limit
]

# (id, coord_user_id, coord_group_id, path, item_type, parent, origin, ref)
TILES = [
    (1, 1, 0, "", "user", None, None, 1),
    (2, 1, 0, "1", "base", 1, None, 2),
    (3, 1, 0, "1,2", "BASE", 2, None, 3),
    (4, 1, 0, "3", "base", 1, None, 4),
    (5, 1, 0, "1,0,1", "base", 2, None, 5),  # composition child of tile 2
    (6, 1, 0, "1,0,4", "base", 2, None, 6),  # another one: same container
    (7, 1, 0, "0,3", "base", 1, None, 7),  # composition child of the root
    (8, 1, 0, "1,0,4,2", "base", 6, None, 8),  # below a composition child
    (10, 2, 0, "", "USER", None, None, 10),
    (11, 2, 0, "2", "base", 10, 2, 2),  # a copy of tile 2
]
DIRTY_TILES = [
    (20, 1, 0, "7", "base", 1, None, 11),  # left by an interrupted swap
    (21, 1, 0, "7,4", "base", 20, None, 12),  # its subtree
    (22, 1, 0, "7,4,8", "base", 21, None, 13),  # and one more out of range
    (23, 1, 0, "1,-1", "base", 2, None, 14),
    (24, 1, 0, "1,1.5", "base", 2, None, 15),
    (25, 1, 0, "3,", "base", 4, None, 16),  # trailing comma
    (26, 2, 0, "5", "base", 1, None, 17),  # parent in another map
]
#: What --repair makes of the dirty tiles (id -> path, parent).
DIRTY_TILE_RESULTS = {
    20: ("2", 1),
    21: ("2,4", 20),
    22: ("2,4,1", 21),
    23: ("1,1", 2),
    24: ("1,3", 2),
    25: ("3,1", 4),
    26: ("5", 10),
}

#: Base item 9 is shown by no tile (a deleted tile kept its content).
BASE_ITEMS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
DIRTY_BASE_ITEMS = [11, 12, 13, 14, 15, 16, 17]

# versions: (id, base item, number)
VERSIONS = [(1, 2, 1), (2, 2, 2), (3, 3, 1)]
DIRTY_VERSIONS = [(4, 4, 0), (5, 4, 1), (6, 4, 1), (7, 5, 2), (8, 5, 2)]
#: What --repair makes of the dirty version numbers (id -> number).
DIRTY_VERSION_RESULTS = {4: 1, 5: 2, 6: 3, 7: 1, 8: 2}


async def build(
    url: str,
    variant: str = "content",
    dirty: bool = False,
    extras: bool = True,
    user: str | None = None,
) -> None:
    """Make the database at ``url`` one the original app left (it must be empty).

    :param user: the role that creates (and so owns) everything; default: the
        URL's.
    """
    schema = seed_schema.load()
    conn = await asyncpg.connect(url, user=user)
    try:
        async with conn.transaction():
            for sql in seed_schema.create_tables(schema):
                await conn.execute(sql)
            for sql in seed_schema.add_keys_and_indexes(schema):
                await conn.execute(sql)
            if variant == "descr":
                await conn.execute(
                    "ALTER TABLE vde_base_items RENAME COLUMN content TO descr"
                )
            if dirty:
                # Duplicated version numbers exist where this unique was never
                # applied (the seed's migrations and its database differed).
                await conn.execute(
                    "ALTER TABLE vde_base_item_versions DROP CONSTRAINT "
                    "vde_base_item_versions_base_item_id_version_number_unique"
                )
            await _rows(conn, variant, dirty)
            if extras:
                await _extras(conn)
    finally:
        await conn.close()


async def _rows(conn: asyncpg.Connection, variant: str, dirty: bool) -> None:
    content = "descr" if variant == "descr" else "content"
    for n, (uid, name, email, verified, image) in enumerate(USERS):
        await conn.execute(
            "INSERT INTO users (id, name, email, email_verified, image, created_at, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            uid,
            name,
            email,
            verified,
            image,
            at(n, True),
            at(n + 60, True),
        )
    for n, row in enumerate(ACCOUNTS + (DIRTY_ACCOUNTS if dirty else [])):
        aid, uid, provider, account, token, password, scope = row
        await conn.execute(
            "INSERT INTO accounts (id, user_id, provider_id, account_id, "
            "access_token, refresh_token, access_token_expires_at, scope, password, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11)",
            aid,
            uid,
            provider,
            account,
            token,
            token and token + "-refresh",
            token and at(600 + n, True),
            scope,
            password,
            at(10 + n, True),
            at(20 + n, True),
        )
    await conn.execute(
        "INSERT INTO sessions (id, user_id, token, expires_at, ip_address, "
        "user_agent, created_at, updated_at) VALUES ('s1', 'u1', 'tok-s1', $1, "
        "'203.0.113.9', 'Mozilla/5.0', $2, $2), ('s2', 'u2', 'tok-s2', $1, NULL, "
        "NULL, $2, $2)",
        at(10_000, True),
        at(30, True),
    )
    await conn.execute(
        "INSERT INTO verification_tokens (id, identifier, value, expires_at, "
        "created_at, updated_at) VALUES ('v1', 'reset-password:abc123', 'u1', $1, "
        "$2, $2)",
        at(90, True),
        at(31, True),
    )
    metadata = json.dumps(json.dumps({"plan": "pro"}))  # encoded twice
    for n, (kid, uid, enabled, rl_enabled, window, rl_max, count) in enumerate(
        API_KEYS
    ):
        await conn.execute(
            "INSERT INTO apikey (id, name, start, prefix, key, user_id, "
            "refill_interval, refill_amount, last_refill_at, enabled, "
            "rate_limit_enabled, rate_limit_time_window, rate_limit_max, "
            "request_count, remaining, last_request, expires_at, created_at, "
            "updated_at, permissions, metadata) VALUES ($1, $2, 'vde_', 'vde', $3, "
            "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
            kid,
            f"key {n}",
            f"hash-{kid}",
            uid,
            3_600_000 if n == 0 else None,
            5 if n == 0 else None,
            at(40 + n) if n == 0 else None,
            enabled,
            rl_enabled,
            window,
            rl_max,
            count,
            100 - n if n < 2 else None,
            at(50 + n) if n != 3 else None,
            at(90_000) if n == 1 else None,
            at(32 + n),
            at(33 + n),
            '{"files":["read"]}' if n == 0 else None,
            metadata if n < 2 else None,
        )
    await conn.execute(
        "INSERT INTO llm_job_results (id, job_id, user_id, status, request, "
        "response, error, created_at, updated_at) VALUES "
        "('r1', 'job-1', 'u1', 'completed', $1, $2, NULL, $3, $4), "
        "('r2', 'job-2', 'u2', 'failed', $1, NULL, 'timeout', $3, $3), "
        "('r3', 'job-3', 'u1', 'pending', NULL, NULL, NULL, $4, $4)",
        json.dumps({"prompt": "Summarise", "tile": 2}),
        json.dumps({"text": "Ein Überblick ✓"}),
        at(70),
        at(71),
    )
    for item in BASE_ITEMS + (DIRTY_BASE_ITEMS if dirty else []):
        await conn.execute(
            f"INSERT INTO vde_base_items (id, title, {content}, preview, link, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            item,
            f"Item {item}",
            f"Content of item {item}\nline 2",
            "preview" if item % 2 else None,
            "https://example.org" if item == 3 else None,
            at(100 + item),
            at(200 + item),
        )
    for vid, item, number in VERSIONS + (DIRTY_VERSIONS if dirty else []):
        await conn.execute(
            "INSERT INTO vde_base_item_versions (id, base_item_id, title, content, "
            "preview, link, version_number, created_at, updated_by) VALUES "
            "($1, $2, $3, $4, NULL, NULL, $5, $6, $7)",
            vid,
            item,
            f"Item {item} v{number}",
            f"old text {vid}",
            number,
            at(300 + vid),
            "u1" if vid % 2 else None,
        )
    for tile in TILES + (DIRTY_TILES if dirty else []):
        tid, user, group, path, kind, parent, origin, ref = tile
        await conn.execute(
            "INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path, "
            "item_type, origin_id, parent_id, ref_item_id, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            tid,
            user,
            group,
            path,
            kind,
            origin,
            parent,
            ref,
            at(400 + tid),
            at(500 + tid),
        )
    await conn.execute(
        "INSERT INTO vde_user_mapping (id, auth_user_id, mapping_user_id, "
        "created_at, updated_at) VALUES (1, 'u1', 1, $1, $1), (2, 'u2', 2, $2, $2)",
        at(5),
        at(6),
    )
    # Identity counters where the app left them: after the highest id.
    for table in (
        "vde_base_items",
        "vde_base_item_versions",
        "vde_map_items",
        "vde_user_mapping",
    ):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
            f"FROM {table}"
        )


async def _extras(conn: asyncpg.Connection) -> None:
    """Drizzle's bookkeeping and the leftover ``mcp_api_keys`` table."""
    await conn.execute(
        """
        CREATE SCHEMA drizzle;
        CREATE TABLE drizzle.__drizzle_migrations (
            id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
        INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
            VALUES ('0a1b2c', 1735689600000), ('3d4e5f', 1738368000000);
        CREATE TABLE mcp_api_keys (
            id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id),
            key text NOT NULL, created_at timestamp DEFAULT now());
        INSERT INTO mcp_api_keys (id, user_id, key) VALUES ('m1', 'u1', 'mcp-hash');
        """
    )


async def snapshot(url: str) -> dict[str, Any]:
    """Everything a test compares "before" and "after": every relation of every
    user schema (with its kind), and every row of every table, in id order."""
    conn = await asyncpg.connect(url)
    try:
        relations = await conn.fetch(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
            "ORDER BY 1, 2"
        )
        rows: dict[str, Any] = {}
        for schema, name, kind in relations:
            if kind == "r":
                rows[f"{schema}.{name}"] = [
                    dict(r)
                    for r in await conn.fetch(
                        f'SELECT * FROM "{schema}"."{name}" ORDER BY 1'
                    )
                ]
        sequences = {
            f"{r[0]}.{r[1]}": r[2]
            for r in await conn.fetch(
                "SELECT schemaname, sequencename, last_value FROM pg_sequences"
            )
        }
        return {
            "relations": [tuple(r) for r in relations],
            "rows": rows,
            "sequences": sequences,
        }
    finally:
        await conn.close()
