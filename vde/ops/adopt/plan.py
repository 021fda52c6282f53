"""What ``adopt`` would change, row by row, and what it refuses to guess.

Three kinds of finding:

- *repairs*: lossless, always applied (timestamps read as UTC, better-auth 1.3's
  NULL meanings in ``apikey``, upper-case item types, composition containers);
- *decided*: rows the original app could leave but vde refuses, each with the
  documented decision that ``--repair`` makes (README, "Coming from the original
  app"): tiles with a step outside 0-6 or a trailing comma move to the lowest
  free direction under the same parent; a tile whose parent is in another map
  or at another path gets the tile at its coordinates' parent; versions 0 or
  duplicated are renumbered 1..n in their order; a duplicate sign-in identity
  stays with its oldest account, the others' account_id is marked;
- *refused*: no safe repair; ``--apply`` refuses while any is left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from vde.ops.adopt.layout import TABLES, Layout, quoted

#: Directions tried, in order, for a tile placed by ``--repair``.
FREE_ORDER = ("1", "2", "3", "4", "5", "6", "0")
VALID_STEPS = frozenset("0123456")
CONTAINER_TITLE = "Composition Container"
JOB_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
NAIVE = "timestamp without time zone"


@dataclass(frozen=True)
class Finding:
    """One case: which rule, which rows (ids), what changes or why it is refused."""

    case: str
    table: str
    ids: tuple[Any, ...]
    detail: str


@dataclass(frozen=True)
class TileFix:
    path: str
    parent_id: int | None
    item_type: str


@dataclass(frozen=True)
class Container:
    """A new tile at ``P,0`` (and its base item) for tiles the app put at ``P,0,d``."""

    id: int
    base_item_id: int
    coord_user_id: int
    coord_group_id: int
    path: str
    parent_id: int


@dataclass
class Plan:
    repairs: list[Finding] = field(default_factory=list)
    decided: list[Finding] = field(default_factory=list)
    refused: list[Finding] = field(default_factory=list)
    #: Tiles whose path, parent or item type change (id -> new values).
    tile_fixes: dict[int, TileFix] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)
    #: Versions renumbered (id -> new number).
    version_fixes: dict[int, int] = field(default_factory=dict)
    #: Accounts whose account_id is marked as a duplicate (id -> new value).
    account_fixes: dict[str, str] = field(default_factory=dict)

    def blocked(self, repair: bool) -> bool:
        return bool(self.refused) or (bool(self.decided) and not repair)


async def make_plan(connection: asyncpg.Connection, layout: Layout) -> Plan:
    """Read the original tables (in ``layout.schema``) and plan the adoption."""
    plan = Plan()
    await _columns_without_place(layout, plan)
    await _timestamps(connection, layout, plan)
    await _api_keys(connection, layout, plan)
    await _duplicates(connection, layout, plan)
    await _job_statuses(connection, layout, plan)
    await _tiles(connection, layout, plan)
    return plan


def _target_columns() -> dict[str, set[str]]:
    from vde.registry import vde_tables

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


#: better-auth 1.3's meaning of NULL in ``apikey``: (column, condition, after).
_API_KEY_NULLS = (
    ("enabled", "enabled IS NULL", "NULL -> true (NULL meant enabled)"),
    (
        "rate_limit_enabled",
        "rate_limit_enabled IS NULL AND rate_limit_time_window "
        "IS NOT NULL AND rate_limit_max IS NOT NULL",
        "NULL -> true (NULL meant on)",
    ),
    (
        "rate_limit_enabled",
        "(rate_limit_time_window IS NULL OR rate_limit_max IS NULL)"
        " AND rate_limit_enabled IS DISTINCT FROM false",
        "-> false: a NULL time window or maximum meant no rate limit",
    ),
    (
        "rate_limit_time_window",
        "rate_limit_time_window IS NULL",
        "NULL -> 86400000 (vde's default; inert while rate_limit_enabled is false)",
    ),
    (
        "rate_limit_max",
        "rate_limit_max IS NULL",
        "NULL -> 10 (vde's default; inert while rate_limit_enabled is false)",
    ),
    ("request_count", "request_count IS NULL", "NULL -> 0"),
)

#: The same conversions as SQL expressions over the original row, by column.
API_KEY_EXPRESSIONS = {
    "enabled": "coalesce(o.enabled, true)",
    "rate_limit_enabled": "coalesce(o.rate_limit_enabled, true) AND "
    "o.rate_limit_time_window IS NOT NULL AND o.rate_limit_max IS NOT NULL",
    "rate_limit_time_window": "coalesce(o.rate_limit_time_window, 86400000)",
    "rate_limit_max": "coalesce(o.rate_limit_max, 10)",
    "request_count": "coalesce(o.request_count, 0)",
}


async def _api_keys(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
    table = quoted(layout.schema, "apikey")
    for column, condition, after in _API_KEY_NULLS:
        ids = [
            r[0]
            for r in await connection.fetch(
                f"SELECT id FROM {table} WHERE {condition} ORDER BY id"
            )
        ]
        if ids:
            plan.repairs.append(
                Finding(
                    "api key NULL meaning",
                    "apikey",
                    tuple(ids),
                    f"apikey.{column} {after}",
                )
            )


async def _duplicates(
    connection: asyncpg.Connection, layout: Layout, plan: Plan
) -> None:
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
    for row in await connection.fetch(
        f"SELECT provider_id, account_id, array_agg(id ORDER BY created_at, id) "
        f"AS ids, array_agg(user_id ORDER BY created_at, id) AS users "
        f"FROM {quoted(schema, 'accounts')} GROUP BY provider_id, account_id "
        f"HAVING count(*) > 1 ORDER BY 1, 2"
    ):
        kept, *others = row["ids"]
        for other in others:
            plan.account_fixes[other] = f"{row['account_id']}#duplicate-of-{kept}"
        marked = "; ".join(
            f"account {o}: account_id {row['account_id']!r} -> "
            f"{plan.account_fixes[o]!r}"
            for o in others
        )
        plan.decided.append(
            Finding(
                "duplicate (provider_id, account_id)",
                "accounts",
                tuple(row["ids"]),
                f"accounts {list(row['ids'])} (users {list(row['users'])}) are all "
                f"{row['provider_id']}/{row['account_id']}: one sign-in identity "
                f"belongs to one user; the oldest, account {kept}, keeps it; "
                f"{marked} (kept, but no longer signs in)",
            )
        )
    for row in await connection.fetch(
        f"SELECT array_agg(id ORDER BY id) AS ids FROM {quoted(schema, 'apikey')} "
        f"GROUP BY key HAVING count(*) > 1"
    ):
        plan.refused.append(
            Finding(
                "duplicate api key hash",
                "apikey",
                tuple(row["ids"]),
                f"api keys {list(row['ids'])} share one key hash; vde's key is "
                "unique (delete all but one)",
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


@dataclass
class _Tile:
    id: int
    user: int
    group: int
    path: str
    item_type: str
    parent_id: int | None
    origin_id: int | None

    def where(self) -> str:
        return f"tile {self.id} (map {self.user}/{self.group}, path {self.path!r})"


async def _tiles(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
    from vde.ops.adopt.tree import plan_tiles

    rows = await connection.fetch(
        "SELECT id, coord_user_id, coord_group_id, path, item_type, parent_id, "
        f"origin_id FROM {quoted(layout.schema, 'vde_map_items')} ORDER BY id"
    )
    tiles = [_Tile(*row.values()) for row in rows]
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
