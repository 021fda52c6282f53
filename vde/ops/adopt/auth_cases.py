"""The sign-in rows: better-auth 1.3's NULL meanings and duplicate identities."""

from __future__ import annotations

import asyncpg

from vde.ops.adopt.findings import Finding, Plan
from vde.ops.adopt.layout import Layout
from vde.sql import quoted

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


async def api_keys(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
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


async def duplicates(
    connection: asyncpg.Connection, layout: Layout, plan: Plan
) -> None:
    schema = layout.schema
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
