"""The original app's schema, rebuilt from the facts in ``seed-schema.json``.

The file was read from the original app's database (columns with types,
defaults and nullability; constraints and indexes as PostgreSQL prints them), so
replaying it gives its tables, indexes and foreign keys, missing indexes
included.
Tables are created bare; keys and indexes come after the data is copied in,
which only makes loading faster: the resulting database is the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: The original app's schema facts, carried in bench/ (``VDE_SEED_SCHEMA``: another
#: file).
DEFAULT_PATH = Path(__file__).resolve().parent / "seed-schema.json"

#: The bench's logical table -> (vde's table, the original app's table); columns agree.
TABLES: dict[str, tuple[str, str]] = {
    "users": ("vde_users", "users"),
    "user_mapping": ("vde_user_mapping", "vde_user_mapping"),
    "sessions": ("vde_sessions", "sessions"),
    "api_keys": ("vde_api_keys", "apikey"),
    "llm_job_results": ("vde_llm_job_results", "llm_job_results"),
    "base_items": ("vde_base_items", "vde_base_items"),
    "base_item_versions": ("vde_base_item_versions", "vde_base_item_versions"),
    "map_items": ("vde_map_items", "vde_map_items"),
}

#: Constraint kinds in the order they can be added (foreign keys need the keys).
_CONSTRAINT_ORDER = ("primary key", "unique", "check", "foreign key")


def load(path: Path | None = None) -> dict[str, Any]:
    source = path or Path(os.environ.get("VDE_SEED_SCHEMA", DEFAULT_PATH))
    schema: dict[str, Any] = json.loads(source.read_text())
    return schema


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column(name: str, column: dict[str, Any]) -> str:
    parts = [_quote(name), column["type"]]
    if column.get("collation"):
        parts.append(f"COLLATE {_quote(column['collation'])}")
    if column.get("identity"):
        parts.append(f"GENERATED {column['identity'].upper()} AS IDENTITY")
    if column.get("default") is not None:
        parts.append(f"DEFAULT {column['default']}")
    if not column["nullable"]:
        parts.append("NOT NULL")
    return " ".join(parts)


def create_tables(schema: dict[str, Any]) -> list[str]:
    """``CREATE TABLE`` statements: columns only, id first."""
    statements = []
    for table, facts in schema["tables"].items():
        columns = sorted(facts["columns"].items(), key=lambda kv: kv[0] != "id")
        body = ",\n  ".join(_column(name, column) for name, column in columns)
        statements.append(f"CREATE TABLE {_quote(table)} (\n  {body}\n)")
    return statements


def add_keys_and_indexes(schema: dict[str, Any]) -> list[str]:
    """Constraints (keys before the foreign keys that need them), then indexes.

    An index listed under the name of a constraint is that constraint's own
    index, created by ``ADD CONSTRAINT``; every other index is created as listed.
    """
    constraints = [
        (table, c)
        for table, facts in schema["tables"].items()
        for c in facts["constraints"]
    ]
    statements = [
        f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(c['name'])} "
        f"{c['definition']}"
        for kind in _CONSTRAINT_ORDER
        for table, c in constraints
        if c["kind"] == kind
    ]
    unknown = {c["kind"] for _, c in constraints} - set(_CONSTRAINT_ORDER)
    if unknown:
        raise ValueError(
            f"original schema has constraint kinds the bench lacks: {unknown}"
        )
    named = {c["name"] for _, c in constraints}
    statements += [
        index["definition"]
        for facts in schema["tables"].values()
        for index in facts["indexes"]
        if index["name"] not in named
    ]
    return statements


async def differences(conn: Any, schema: dict[str, Any]) -> list[str]:
    """How the built database differs from the facts (empty: a faithful copy).

    Read back from pg_catalog, so a statement the builder got wrong cannot pass
    unnoticed: columns (type, nullability, default, identity), constraint and
    index definitions.
    """
    found: list[str] = []
    columns = await conn.fetch(
        "SELECT table_name, column_name, "
        "format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, "
        "pg_get_expr(d.adbin, d.adrelid) AS default, "
        "CASE a.attidentity WHEN 'd' THEN 'by default' WHEN 'a' THEN 'always' END "
        "  AS identity "
        "FROM information_schema.columns c "
        "JOIN pg_attribute a ON a.attrelid = ('public.' || quote_ident(table_name))"
        "::regclass AND a.attname = column_name "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE table_schema = 'public'"
    )
    built = {(r["table_name"], r["column_name"]): r for r in columns}
    for table, facts in schema["tables"].items():
        for name, want in facts["columns"].items():
            have = built.pop((table, name), None)
            if have is None:
                found.append(f"missing column {table}.{name}")
                continue
            for key in ("type", "nullable", "default", "identity"):
                if have[key] != want.get(key):
                    found.append(f"{table}.{name} {key}: {have[key]!r}")
    found += [f"extra column {t}.{c}" for t, c in built]
    constraints = {
        (r["table"], r["conname"]): r["definition"]
        for r in await conn.fetch(
            "SELECT conrelid::regclass::text AS table, conname, "
            "pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace AND contype <> 'n'"
        )
    }
    indexes = {
        r["indexname"]: r["indexdef"]
        for r in await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
    }
    for table, facts in schema["tables"].items():
        for c in facts["constraints"]:
            have = constraints.pop((table, c["name"]), None)
            if have != c["definition"]:
                found.append(f"constraint {c['name']}: {have!r}")
        for index in facts["indexes"]:
            have = indexes.pop(index["name"], None)
            if have != index["definition"]:
                found.append(f"index {index['name']}: {have!r}")
    found += [f"extra constraint {name}" for _, name in constraints]
    found += [f"extra index {name}" for name in indexes]
    return found
