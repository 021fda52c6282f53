"""vde's auth tables against better-auth 1.7's own schema, and what breaks them.

better-auth's own schema is what its ``migrate`` would create for the shipped
mapping (``getMigrations``, compiled on an empty database and applied there);
the two catalogs are compared table by table. Every difference is listed in
docs/better-auth.md with why it is harmless, and the list here must match both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg

from tests.interop.conftest import start_flows, stop_flows
from vde.ops.catalog import Catalog, read_catalog

ROOT = Path(__file__).resolve().parents[2]
BETTER_AUTH_PAGE = ROOT / "docs" / "better-auth.md"
EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"

#: Where vde's tables depart from better-auth's own, one line each
#: (docs/better-auth.md says why each is harmless). Names of indexes and column
#: order are not compared.
DIFFERENCES = {
    "vde_users.name NULL (better-auth: NOT NULL)",
    "vde_users.email_verified DEFAULT false (better-auth: no default)",
    "vde_accounts.updated_at DEFAULT CURRENT_TIMESTAMP (better-auth: no default)",
    "vde_accounts UNIQUE (provider_id, account_id) (better-auth: none)",
    "vde_sessions.updated_at DEFAULT CURRENT_TIMESTAMP (better-auth: no default)",
    "vde_api_keys.config_id DEFAULT 'default'::text (better-auth: no default)",
    "vde_api_keys.user_id FOREIGN KEY (user_id) REFERENCES vde_users(id) "
    "ON DELETE CASCADE (better-auth: none)",
    "vde_api_keys.key UNIQUE (better-auth: a plain index)",
    "vde_api_keys.refill_interval bigint (better-auth: integer)",
    "vde_api_keys.rate_limit_time_window bigint (better-auth: integer)",
    "vde_api_keys.enabled NOT NULL (better-auth: NULL)",
    "vde_api_keys.enabled DEFAULT true (better-auth: no default)",
    "vde_api_keys.rate_limit_enabled NOT NULL (better-auth: NULL)",
    "vde_api_keys.rate_limit_enabled DEFAULT true (better-auth: no default)",
    "vde_api_keys.rate_limit_time_window NOT NULL (better-auth: NULL)",
    "vde_api_keys.rate_limit_time_window DEFAULT 86400000 (better-auth: no default)",
    "vde_api_keys.rate_limit_max NOT NULL (better-auth: NULL)",
    "vde_api_keys.rate_limit_max DEFAULT 10 (better-auth: no default)",
    "vde_api_keys.request_count NOT NULL (better-auth: NULL)",
    "vde_api_keys.request_count DEFAULT 0 (better-auth: no default)",
    "vde_api_keys.created_at DEFAULT CURRENT_TIMESTAMP (better-auth: no default)",
    "vde_api_keys.updated_at DEFAULT CURRENT_TIMESTAMP (better-auth: no default)",
}


def _null(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def schema_differences(vde: Catalog, theirs: Catalog) -> set[str]:
    """How ``vde`` departs from ``theirs``, as the lines of ``DIFFERENCES``."""
    found: set[str] = set()
    for table in sorted(vde.keys() | theirs.keys()):
        if table not in theirs or table not in vde:
            where = "vde" if table in vde else "better-auth"
            found.add(f"{table} only in {where}")
            continue
        ours, their = vde[table], theirs[table]
        for name in ours.columns.keys() | their.columns.keys():
            if name not in their.columns or name not in ours.columns:
                where = "vde" if name in ours.columns else "better-auth"
                found.add(f"{table}.{name} only in {where}")
                continue
            a, b = ours.columns[name], their.columns[name]
            if a.type != b.type:
                found.add(f"{table}.{name} {a.type} (better-auth: {b.type})")
            if a.nullable != b.nullable:
                found.add(
                    f"{table}.{name} {_null(a.nullable)} "
                    f"(better-auth: {_null(b.nullable)})"
                )
            if a.default != b.default:
                found.add(
                    f"{table}.{name} DEFAULT {a.default or 'none'} "
                    f"(better-auth: {b.default or 'no default'})"
                )
        # Indexes by their columns and uniqueness, whatever their names.
        our_indexes = {i.columns: i.unique for i in ours.indexes.values()}
        their_indexes = {i.columns: i.unique for i in their.indexes.values()}
        for columns in our_indexes.keys() | their_indexes.keys():
            label = ", ".join(columns)
            mine, other = our_indexes.get(columns), their_indexes.get(columns)
            if mine == other:
                continue
            kind = {True: "UNIQUE", False: "a plain index", None: "none"}
            if len(columns) == 1:
                found.add(f"{table}.{label} {kind[mine]} (better-auth: {kind[other]})")
            else:
                found.add(
                    f"{table} {kind[mine]} ({label}) (better-auth: {kind[other]})"
                )
        # Foreign keys by definition.
        our_fks = {c.definition for c in ours.constraints.values() if c.kind == "f"}
        their_fks = {c.definition for c in their.constraints.values() if c.kind == "f"}
        for definition in our_fks - their_fks:
            column = definition.split("(")[1].split(")")[0]
            found.add(f"{table}.{column} {definition} (better-auth: none)")
        for definition in their_fks - our_fks:
            found.add(f"{table} lacks better-auth's {definition}")
    return found


async def _catalog(url: str) -> Catalog:
    conn = await asyncpg.connect(url)
    try:
        return await read_catalog(conn)
    finally:
        await conn.close()


async def test_differences_from_better_auths_own_schema_are_the_documented_ones(
    better_auth: Path, vde_db: Any, vde_empty_url: str
) -> None:
    flows = await start_flows(better_auth, vde_empty_url)
    try:
        sql = (await flows.step("expectedSchemaSql"))["sql"]
    finally:
        await stop_flows(flows)
    conn = await asyncpg.connect(vde_empty_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    theirs = await _catalog(vde_empty_url)
    ours = {t: info for t, info in (await _catalog(vde_db.url)).items() if t in theirs}
    assert sorted(theirs) == sorted(
        [
            "vde_users",
            "vde_accounts",
            "vde_sessions",
            "vde_verification_tokens",
            "vde_api_keys",
        ]
    )
    assert schema_differences(ours, theirs) == DIFFERENCES


def test_the_better_auth_page_lists_every_difference() -> None:
    page = BETTER_AUTH_PAGE.read_text(encoding="utf-8")
    missing = [line for line in sorted(DIFFERENCES) if f"`{line}`" not in page]
    assert not missing, f"docs/better-auth.md does not list: {missing}"


async def test_better_auths_migrate_would_add_nothing_to_vde(
    better_auth: Path, vde_db: Any
) -> None:
    """Its ``migrate`` finds every table, column and index it wants already there."""
    flows = await start_flows(better_auth, vde_db.url)
    try:
        answer = await flows.step("expectedSchemaSql")
    finally:
        await stop_flows(flows)
    assert answer["sql"].strip() == ";"


async def test_schema_validation_is_on_and_names_a_missing_column(
    better_auth: Path, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    """The issue's first failure, on vde's tables as they were: every call refused."""
    await vde_conn.execute("ALTER TABLE vde_api_keys DROP COLUMN config_id")
    flows = await start_flows(better_auth, vde_db.url)
    try:
        refused = await flows.refused(
            "signUp", name="Ada", email=EMAIL, password=PASSWORD
        )
    finally:
        await stop_flows(flows)
    assert refused["name"] == "SchemaMismatchError"
    assert "Missing columns\n    vde_api_keys.config_id" in refused["message"]
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_users") == 0


async def test_unique_on_value_breaks_the_second_password_reset(
    better_auth: Path, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    """Put the old UNIQUE back: better-auth's second reset request of a user fails."""
    await vde_conn.execute(
        "ALTER TABLE vde_verification_tokens"
        " ADD CONSTRAINT vde_verification_tokens_value_key UNIQUE (value)"
    )
    flows = await start_flows(better_auth, vde_db.url)
    try:
        await flows.step("signUp", name="Ada", email=EMAIL, password=PASSWORD)
        await flows.step("requestPasswordReset", email=EMAIL)
        second = await flows.refused("requestPasswordReset", email=EMAIL)
        over_http = await flows.step(
            "http",
            method="POST",
            path="/api/auth/request-password-reset",
            body={"email": EMAIL, "redirectTo": "http://localhost:3000/reset"},
        )
    finally:
        await stop_flows(flows)
    assert (second["code"], second["message"]) == (
        "23505",
        "duplicate key value violates unique constraint "
        '"vde_verification_tokens_value_key"',
    )
    assert over_http["status"] == 500
    assert any(
        "duplicate key value violates unique constraint" in line for line in flows.log
    )
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_verification_tokens") == 1


def test_the_better_auth_page_shows_the_shipped_mapping_as_it_is() -> None:
    page = BETTER_AUTH_PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- example:better-auth-config[^>]*-->\n```js\n(.*?)```\n"
        r"<!-- /example:better-auth-config -->",
        page,
        re.DOTALL,
    )
    assert block is not None, "docs/better-auth.md lost its better-auth-config markers"
    shipped = (ROOT / "interop" / "better-auth" / "vde-schema.mjs").read_text()
    assert block[1] == shipped, "docs/better-auth.md's copy of vde-schema.mjs is stale"
