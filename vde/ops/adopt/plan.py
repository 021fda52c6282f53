"""Planning the adoption: every case found in the original tables (see findings).

It only reads; the plan is made again inside ``--apply``'s transaction.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from vde.ops.adopt import auth_cases
from vde.ops.adopt.findings import JOB_STATUSES, NAIVE, Finding, Plan, Tile
from vde.ops.adopt.layout import TABLES, Layout
from vde.ops.adopt.tree import plan_tiles
from vde.registry import vde_tables
from vde.sql import quoted


async def make_plan(connection: asyncpg.Connection, layout: Layout) -> Plan:
    """Read the original tables (in ``layout.schema``) and plan the adoption."""
    plan = Plan()
    await _columns_without_place(layout, plan)
    await _timestamps(connection, layout, plan)
    await auth_cases.api_keys(connection, layout, plan)
    await auth_cases.duplicates(connection, layout, plan)
    await _versions(connection, layout, plan)
    await _job_statuses(connection, layout, plan)
    await _tiles(connection, layout, plan)
    return plan


def _target_columns() -> dict[str, set[str]]:
    return {
        table._meta.tablename: {c._meta.db_column_name for c in table._meta.columns}
        for table in vde_tables()
    }


async def _columns_without_place(layout: Layout, plan: Plan) -> None:
    targets = _target_columns()
    for table, columns in layout.tables.items():
        target = targets.get(TABLES[table], set())
        for column in columns:
            name = column.name
            if table == "vde_base_items" and name == layout.content_column:
                name = "content"
            if name not in target:
                plan.refused.append(
                    Finding(
                        "column without a place in vde",
                        table,
                        (),
                        f"{table}.{column.name} ({column.type}) has no column in "
                        f"{TABLES[table]}: drop it or move its values first",
                    )
                )


async def _timestamps(
    connection: asyncpg.Connection, layout: Layout, plan: Plan
) -> None:
    for table, columns in layout.tables.items():
        for column in columns:
            if column.type != NAIVE:
                continue
            rows = await connection.fetch(
                f"SELECT id, {quoted(column.name)} AS v "
                f"FROM {quoted(layout.schema, table)} "
                f"WHERE {quoted(column.name)} IS NOT NULL ORDER BY id"
            )
            if not rows:
                continue
            first = rows[0]["v"]
            plan.repairs.append(
                Finding(
                    "timestamp without time zone -> UTC instant",
                    table,
                    tuple(row["id"] for row in rows),
                    f"{table}.{column.name}: {len(rows)} value(s) read as UTC, e.g. "
                    f"id {rows[0]['id']}: {first.isoformat(sep=' ')} -> "
                    f"{first.isoformat(sep=' ')}+00:00",
                )
            )


async def _versions(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
    schema = layout.schema
    bad_items = [
        row[0]
        for row in await connection.fetch(
            f"SELECT base_item_id FROM {quoted(schema, 'vde_base_item_versions')} "
            "GROUP BY base_item_id HAVING min(version_number) < 1 "
            "OR count(*) <> count(DISTINCT version_number) ORDER BY 1"
        )
    ]
    versions = await connection.fetch(
        "SELECT base_item_id, id, version_number "
        f"FROM {quoted(schema, 'vde_base_item_versions')} "
        "WHERE base_item_id = ANY($1::int[]) "
        "ORDER BY base_item_id, version_number, created_at, id",
        bad_items,
    )
    for item, rows in group_by(list(versions), lambda r: r["base_item_id"]).items():
        changes = []
        for number, row in enumerate(rows, start=1):
            if row["version_number"] != number:
                plan.version_fixes[row["id"]] = number
                changes.append(
                    f"version {row['id']}: {row['version_number']} -> {number}"
                )
        plan.decided.append(
            Finding(
                "version numbers 0 or duplicated",
                "vde_base_item_versions",
                tuple(r["id"] for r in rows),
                f"base item {item}: numbers {[r['version_number'] for r in rows]} "
                "renumbered 1..n in their order (number, created_at, id): "
                + "; ".join(changes),
            )
        )


async def _job_statuses(
    connection: asyncpg.Connection, layout: Layout, plan: Plan
) -> None:
    for row in await connection.fetch(
        f"SELECT id, status FROM {quoted(layout.schema, 'llm_job_results')} "
        f"WHERE status <> ALL($1::text[]) ORDER BY id",
        list(JOB_STATUSES),
    ):
        plan.refused.append(
            Finding(
                "unknown job status",
                "llm_job_results",
                (row["id"],),
                f"job {row['id']}: status {row['status']!r} is none of "
                f"{', '.join(JOB_STATUSES)}",
            )
        )


async def _tiles(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
    rows = await connection.fetch(
        "SELECT id, coord_user_id, coord_group_id, path, item_type, parent_id, "
        f"origin_id FROM {quoted(layout.schema, 'vde_map_items')} ORDER BY id"
    )
    tiles = [Tile(*row.values()) for row in rows]
    next_tile = 1 + max((t.id for t in tiles), default=0)
    next_base = 1 + (
        await connection.fetchval(
            "SELECT coalesce(max(id), 0) FROM "
            + quoted(layout.schema, "vde_base_items")
        )
    )
    plan_tiles(tiles, plan, next_tile, next_base)


def group_by(items: list[Any], key: Any) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups
