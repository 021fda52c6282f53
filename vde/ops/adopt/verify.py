"""Before the commit: did every original value arrive, converted as documented?

Per table, the row count (plus the containers adopt made) and an md5 over every
original column's value after its conversion, row by row in id order, read
once from the originals and once from vde's table. Any difference rolls back.
"""

from __future__ import annotations

import asyncpg

from vde.ops.adopt.conversions import expressions, source_from
from vde.ops.adopt.copy import target_types
from vde.ops.adopt.findings import CONTAINER_TITLE, Plan
from vde.ops.adopt.layout import ORIGINALS_SCHEMA, TABLES, Layout
from vde.sql import quoted


async def differences(
    connection: asyncpg.Connection, layout: Layout, plan: Plan
) -> list[str]:
    found: list[str] = []
    extra_tiles = [c.id for c in plan.containers]
    extra_items = [c.base_item_id for c in plan.containers]
    for table, target in TABLES.items():
        types = await target_types(connection, layout.schema, target)
        table_name = quoted(layout.schema, target)
        exprs = expressions(layout, table, types)
        extra = {"vde_map_items": extra_tiles, "vde_base_items": extra_items}.get(
            table, []
        )
        want_count = await connection.fetchval(
            f"SELECT count(*) FROM {quoted(ORIGINALS_SCHEMA, table)}"
        )
        got_count = await connection.fetchval(f"SELECT count(*) FROM {table_name}")
        if got_count != want_count + len(extra):
            found.append(
                f"{target}: {got_count} rows, expected {want_count} + {len(extra)}"
            )
        want = await connection.fetchval(
            f"SELECT md5(string_agg(ROW({', '.join(exprs.values())})::text, "
            f"E'\\n' ORDER BY o.id)) "
            f"FROM {source_from(layout, ORIGINALS_SCHEMA, table)}"
        )
        got = await connection.fetchval(
            f"SELECT md5(string_agg(ROW({', '.join('t.' + quoted(c) for c in exprs)})"
            f"::text, E'\\n' ORDER BY t.id)) FROM {table_name} t "
            f"WHERE NOT (t.id = ANY($1::{types['id']}[]))",
            extra,
        )
        if want != got:
            found.append(f"{target}: checksum {got} differs from the originals' {want}")
    if extra_tiles:
        containers = await connection.fetchval(
            f"SELECT count(*) FROM {quoted(layout.schema, 'vde_map_items')} t "
            f"JOIN {quoted(layout.schema, 'vde_base_items')} b "
            "ON b.id = t.ref_item_id WHERE t.id = ANY($1::int[]) "
            "AND b.title = $2 AND b.content = ''",
            extra_tiles,
            CONTAINER_TITLE,
        )
        if containers != len(extra_tiles):
            found.append(f"containers: {containers} found, {len(extra_tiles)} expected")
    return found
