"""Which kind of database ``adopt`` is looking at, read from pg_catalog only.

Reading never writes: the report must leave the database as it was. Rows are
counted (:func:`count_rows`) only once :mod:`.trust` has found nothing in the
way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import asyncpg

from vde.sql import quoted

#: Where ``--apply`` keeps the original tables until the user drops them.
ORIGINALS_SCHEMA = "vde_adopt_original"

#: The original app's tables, in copy order (foreign keys point backwards),
#: with the vde table each one becomes.
TABLES: dict[str, str] = {
    "users": "vde_users",
    "accounts": "vde_accounts",
    "sessions": "vde_sessions",
    "verification_tokens": "vde_verification_tokens",
    "apikey": "vde_api_keys",
    "llm_job_results": "vde_llm_job_results",
    "vde_base_items": "vde_base_items",
    "vde_base_item_versions": "vde_base_item_versions",
    "vde_map_items": "vde_map_items",
    "vde_user_mapping": "vde_user_mapping",
}

#: Tables of the original app that vde has no place for: kept with the originals.
LEFTOVERS = ("mcp_api_keys",)

#: Tables vde creates that the original app did not have under that name.
VDE_ONLY = tuple(t for t in TABLES.values() if t not in TABLES)


class Kind(Enum):
    ORIGINAL = "the original app's database"
    ADOPTED = "already adopted"
    VDE = "built by vde's migrations"
    EMPTY = "empty"
    UNKNOWN = "not one adopt knows"


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass
class Layout:
    """What the current schema holds."""

    kind: Kind
    schema: str
    #: Original tables found: name -> columns in order.
    tables: dict[str, list[Column]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: ``content`` or ``descr``: what vde_base_items calls its text.
    content_column: str = "content"
    leftovers: list[str] = field(default_factory=list)
    drizzle: bool = False
    #: vde-only tables present beside the originals (an earlier failed
    #: ``piccolo migrations forwards all``), with their row counts.
    partial: dict[str, int] = field(default_factory=dict)
    #: Piccolo's ``migration`` table: None if absent, else its row count.
    migration_rows: int | None = None
    why: str = ""

    def columns(self, table: str) -> list[str]:
        return [c.name for c in self.tables[table]]


_RELATIONS = """
SELECT c.relname::text FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
"""

_COLUMNS = """
SELECT a.attname::text AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_SCHEMA_EXISTS = (
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)"
)


async def detect(connection: asyncpg.Connection, schema: str) -> Layout:
    """Classify ``schema`` (the one adopt works in) from the catalogs."""
    relations = {row[0] for row in await connection.fetch(_RELATIONS, schema)}
    migration_rows = None
    if "migration" in relations:
        migration_rows = await connection.fetchval(
            f"SELECT count(*) FROM {quoted(schema, 'migration')}"
        )
    originals_kept = await connection.fetchval(_SCHEMA_EXISTS, ORIGINALS_SCHEMA)
    layout = Layout(kind=Kind.UNKNOWN, schema=schema, migration_rows=migration_rows)
    layout.drizzle = bool(await connection.fetchval(_SCHEMA_EXISTS, "drizzle"))
    # The original app's own tables (those vde renames give it away: vde never
    # has a table called users or apikey).
    own = [t for t in TABLES if t not in TABLES.values()]
    found_own = [t for t in own if t in relations]
    vde_found = [t for t in VDE_ONLY if t in relations]
    if found_own:
        layout.kind = Kind.ORIGINAL
        for table in TABLES:
            if table in relations:
                layout.tables[table] = [
                    Column(row["name"], row["type"])
                    for row in await connection.fetch(_COLUMNS, schema, table)
                ]
        missing = [t for t in TABLES if t not in layout.tables]
        if missing:
            layout.kind = Kind.UNKNOWN
            layout.why = "some of the original app's tables are missing: " + ", ".join(
                missing
            )
        base = (
            layout.columns("vde_base_items")
            if "vde_base_items" in layout.tables
            else []
        )
        if "descr" in base and "content" not in base:
            layout.content_column = "descr"
        layout.leftovers = [t for t in LEFTOVERS if t in relations]
        layout.partial = dict.fromkeys(vde_found, 0)
    elif vde_found and originals_kept:
        layout.kind = Kind.ADOPTED
    elif vde_found:
        layout.kind = Kind.VDE
    elif not (relations - {"migration"}) and not migration_rows:
        layout.kind = Kind.EMPTY
    else:
        layout.why = "tables: " + ", ".join(sorted(relations)[:20])
    return layout


async def count_rows(connection: asyncpg.Connection, layout: Layout) -> None:
    """The rows of the original tables and of vde tables found beside them."""
    for table in layout.tables:
        layout.counts[table] = await connection.fetchval(
            f"SELECT count(*) FROM {quoted(layout.schema, table)}"
        )
    for table in layout.partial:
        layout.partial[table] = await connection.fetchval(
            f"SELECT count(*) FROM {quoted(layout.schema, table)}"
        )
