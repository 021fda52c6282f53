"""A plain-data snapshot of vde's objects as PostgreSQL's catalog describes them.

``new --auto`` compares table classes with migration snapshots, never with the
live database, so checks of the real schema (the contract tests, the drift check)
read ``pg_catalog`` through this one module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg

from vde.columns import TABLE_PREFIX


@dataclass(frozen=True)
class ColumnInfo:
    type: str
    nullable: bool
    default: str | None
    identity: str | None  # 'a' (ALWAYS), 'd' (BY DEFAULT) or None
    collation: str | None  # only when it differs from the type's default


@dataclass(frozen=True)
class ConstraintInfo:
    kind: str  # p, u, f, c, x, t
    columns: tuple[str, ...]
    definition: str
    deferrable: bool
    deferred: bool


@dataclass(frozen=True)
class IndexInfo:
    columns: tuple[str, ...]
    unique: bool
    primary: bool
    predicate: str | None
    definition: str


@dataclass
class TableInfo:
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    constraints: dict[str, ConstraintInfo] = field(default_factory=dict)
    indexes: dict[str, IndexInfo] = field(default_factory=dict)
    triggers: dict[str, str] = field(default_factory=dict)


Catalog = dict[str, TableInfo]

_TABLES = """
SELECT c.oid, c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND c.relname LIKE $1 || '%'
ORDER BY c.relname
"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default,
       nullif(a.attidentity::text, '') AS identity,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype::text AS kind,
       pg_get_constraintdef(con.oid) AS definition,
       con.condeferrable AS deferrable, con.condeferred AS deferred,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.i)::text[] AS columns
FROM pg_constraint con
-- NOT NULL is read from the columns (PostgreSQL 18 also lists it here, 15 not).
WHERE con.conrelid = ANY($1) AND con.contype <> 'n'
"""

_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique AS unique, i.indisprimary AS primary,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       ARRAY(SELECT coalesce(a.attname, pg_get_indexdef(i.indexrelid, k.i::int, true))
             FROM unnest(i.indkey) WITH ORDINALITY k(n, i)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
             WHERE k.i <= i.indnkeyatts ORDER BY k.i)::text[] AS columns
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1)
"""

_TRIGGERS = """
SELECT tgrelid, tgname, pg_get_triggerdef(oid) AS definition
FROM pg_trigger WHERE tgrelid = ANY($1) AND NOT tgisinternal
"""


async def read_catalog(
    connection: asyncpg.Connection, prefix: str = TABLE_PREFIX
) -> Catalog:
    """Every table whose name starts with ``prefix``, in the current schema."""
    tables = await connection.fetch(_TABLES, prefix.replace("_", r"\_"))
    names = {row["oid"]: row["relname"] for row in tables}
    oids = list(names)
    catalog: Catalog = {name: TableInfo() for name in names.values()}
    for row in await connection.fetch(_COLUMNS, oids):
        catalog[names[row["attrelid"]]].columns[row["attname"]] = ColumnInfo(
            row["type"],
            row["nullable"],
            row["default"],
            row["identity"],
            row["collation"],
        )
    for row in await connection.fetch(_CONSTRAINTS, oids):
        catalog[names[row["conrelid"]]].constraints[row["conname"]] = ConstraintInfo(
            row["kind"],
            tuple(row["columns"]),
            row["definition"],
            row["deferrable"],
            row["deferred"],
        )
    for row in await connection.fetch(_INDEXES, oids):
        catalog[names[row["indrelid"]]].indexes[row["relname"]] = IndexInfo(
            tuple(row["columns"]),
            row["unique"],
            row["primary"],
            row["predicate"],
            row["definition"],
        )
    for row in await connection.fetch(_TRIGGERS, oids):
        catalog[names[row["tgrelid"]]].triggers[row["tgname"]] = row["definition"]
    return catalog


_FUNCTIONS = """
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
         AS signature,
       pg_get_functiondef(p.oid) AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p')
  AND p.proname LIKE $1 || '%'
"""


async def read_functions(
    connection: asyncpg.Connection, prefix: str = TABLE_PREFIX
) -> dict[str, str]:
    """``name(arguments)`` -> ``CREATE FUNCTION`` text of the functions (and
    procedures) whose name starts with ``prefix``, in the current schema.

    Triggers name the function they call; its body lives here, not in the table.
    """
    rows = await connection.fetch(_FUNCTIONS, prefix.replace("_", r"\_"))
    return {row["signature"]: row["definition"] for row in rows}


def as_plain(catalog: Catalog) -> dict[str, Any]:
    """The catalog as nested dicts (for printing, JSON and equality in tests)."""
    return {name: asdict(info) for name, info in sorted(catalog.items())}
