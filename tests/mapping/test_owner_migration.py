"""The owner_id migrations on a database holding content shared across owners.

Built at the migration before owner_id, through the CLI: content shown by one
owner, by two and by three owners (with versions), and content no tile shows.
Forwards must give every row its owner and split shared content without losing
a value; backwards must leave the schema as the migration before made it, each
tile still showing the same content and history.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.mapping.test_tree_check_migration import PARENT_WRITE, piccolo
from vde.ops.adopt.owners import OWNER_MIGRATION
from vde.ops.catalog import read_catalog

#: Items 1-4: A (owner 1's tiles only), B (owners 2 and 1), C (owners 1, 2, 3),
#: D (no tile). Tile 1 is the lowest showing B, tile 4 the lowest showing C.
SHARED_CONTENT = """
INSERT INTO vde_base_items (id, title, content, created_at, updated_at) VALUES
    (1, 'A', 'a', '2025-01-01', '2025-01-02'),
    (2, 'B', 'b', '2025-01-03', '2025-01-04'),
    (3, 'C', 'c', '2025-01-05', '2025-01-06'),
    (4, 'D', 'd', '2025-01-07', '2025-01-08');
INSERT INTO vde_base_item_versions
    (id, base_item_id, title, content, version_number, created_at, updated_by)
VALUES (1, 2, 'B1', 'b1', 1, '2025-02-01', 'u1'),
       (2, 2, 'B2', 'b2', 2, '2025-02-02', NULL),
       (3, 3, 'C1', 'c1', 1, '2025-02-03', 'u2'),
       (4, 4, 'D1', 'd1', 1, '2025-02-04', NULL);
INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path, item_type,
                           parent_id, ref_item_id, updated_at)
VALUES (1, 2, 0, '', 'user', NULL, 2, '2025-03-01'),
       (2, 1, 0, '', 'user', NULL, 1, '2025-03-01'),
       (3, 1, 0, '1', 'base', 2, 2, '2025-03-01'),
       (4, 1, 0, '2', 'base', 2, 3, '2025-03-01'),
       (5, 2, 0, '1', 'base', 1, 3, '2025-03-01'),
       (6, 3, 0, '', 'user', NULL, 3, '2025-03-01'),
       (7, 1, 0, '3', 'base', 2, 1, '2025-03-01'),
       (8, 1, 0, '4', 'base', 2, 2, '2025-03-01');
SELECT setval(pg_get_serial_sequence(t, 'id'), n)
FROM (VALUES ('vde_base_items', 4), ('vde_base_item_versions', 4),
             ('vde_map_items', 8)) AS s(t, n);
"""

#: What each tile shows: its content and its history, by value.
SHOWN = """
SELECT m.id, m.updated_at, b.title, b.content, b.created_at, b.updated_at AS item_at,
       coalesce((SELECT array_agg(row(v.version_number, v.title, v.content,
                                      v.created_at, v.updated_by)::text
                                  ORDER BY v.version_number)
                 FROM vde_base_item_versions v WHERE v.base_item_id = b.id),
                '{}') AS history
FROM vde_map_items m JOIN vde_base_items b ON b.id = m.ref_item_id
ORDER BY m.id
"""


async def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _catalog(url: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await read_catalog(conn)
    finally:
        await conn.close()


async def test_fill_splits_shared_content_and_backwards_keeps_what_tiles_show(
    vde_empty_url: str,
) -> None:
    piccolo(vde_empty_url, "migrations", "forwards", "auth")
    piccolo(
        vde_empty_url, "migrations", "forwards", "mapping",
        f"--migration_id={PARENT_WRITE}",
    )
    before_schema = await _catalog(vde_empty_url)
    conn = await asyncpg.connect(vde_empty_url)
    try:
        await conn.execute(SHARED_CONTENT)
    finally:
        await conn.close()
    shown = await _rows(vde_empty_url, SHOWN)

    piccolo(vde_empty_url, "migrations", "forwards", "mapping")

    items = await _rows(
        vde_empty_url, "SELECT id, owner_id, title, content, created_at, updated_at "
        "FROM vde_base_items ORDER BY id"
    )
    assert [row[:4] for row in items] == [
        (1, 1, "A", "a"), (2, 2, "B", "b"), (3, 1, "C", "c"), (4, 0, "D", "d"),
        (5, 1, "B", "b"), (6, 2, "C", "c"), (7, 3, "C", "c"),
    ]
    assert [row[4:] for row in items[4:]] == [items[1][4:], items[2][4:], items[2][4:]]
    versions = await _rows(
        vde_empty_url, "SELECT id, owner_id, base_item_id, version_number, title "
        "FROM vde_base_item_versions ORDER BY id"
    )
    assert versions == [
        (1, 2, 2, 1, "B1"), (2, 2, 2, 2, "B2"), (3, 1, 3, 1, "C1"), (4, 0, 4, 1, "D1"),
        (5, 1, 5, 1, "B1"), (6, 1, 5, 2, "B2"), (7, 2, 6, 1, "C1"), (8, 3, 7, 1, "C1"),
    ]
    tiles = await _rows(
        vde_empty_url, "SELECT id, coord_user_id, ref_item_id FROM vde_map_items "
        "ORDER BY id"
    )
    assert tiles == [
        (1, 2, 2), (2, 1, 1), (3, 1, 5), (4, 1, 3), (5, 2, 6), (6, 3, 7), (7, 1, 1),
        (8, 1, 5),
    ]
    # Every tile shows what it showed, history and times included.
    assert await _rows(vde_empty_url, SHOWN) == shown

    piccolo(
        vde_empty_url, "migrations", "backwards", "mapping",
        f"--migration_id={OWNER_MIGRATION[1]}", "--auto_agree",
    )
    assert await _catalog(vde_empty_url) == before_schema
    assert await _rows(vde_empty_url, SHOWN) == shown
    assert len(await _rows(vde_empty_url, "SELECT id FROM vde_base_items")) == 7

