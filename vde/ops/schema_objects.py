"""The other objects of a schema, by kind and name: views, sequences, types.

The drift check compares tables and functions in detail; anything else a
migration (or an operator) can create in the schema is compared by whether it
exists, so one that no migration made is named. Sequences that belong to a
column (serial, identity) are left out: the column's default or identity says
what changed, and its table says whether it exists. So are the Citus
extension's own objects, which it puts into the schema of a database it is
created in (docs/scale-out.md); another extension's objects are drift, as the
operations page says.
"""

from __future__ import annotations

from collections.abc import Set

import asyncpg

_RELATION_KINDS = {
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "c": "type",
}
_TYPE_KINDS = {"e": "type", "r": "type", "d": "domain"}

#: Objects the Citus extension puts into the schema (its views ``citus_tables``,
#: ``citus_schemas``) are left out: the extension made them and keeps them.
_OBJECTS = """
SELECT c.relkind::text AS kind, c.relname::text AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'S', 'f', 'c')
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_class'::regclass
                    AND d.deptype IN ('a', 'i'))
  AND NOT EXISTS (
    SELECT FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid
    WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
      AND x.extname = 'citus')
UNION ALL
SELECT t.typtype::text, t.typname::text
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'r', 'd')
  AND NOT EXISTS (
    SELECT FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid
    WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
      AND x.extname = 'citus')
UNION ALL
SELECT 'aggregate', p.oid::regprocedure::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prokind = 'a'
  AND NOT EXISTS (
    SELECT FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid
    WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e'
      AND x.extname = 'citus')
"""


async def read_objects(connection: asyncpg.Connection) -> frozenset[str]:
    """``'view v'``, ``'sequence s'``, ``'type mood'``, ... in the current schema."""
    kinds = {**_RELATION_KINDS, **_TYPE_KINDS, "aggregate": "aggregate"}
    return frozenset(
        f"{kinds[row['kind']]} {row['name']}"
        for row in await connection.fetch(_OBJECTS)
    )


def diff_objects(expected: Set[str], found: Set[str]) -> list[str]:
    """An object missing, or one that exists although no migration made it."""
    lines = [f"missing {obj}" for obj in sorted(expected - found)]
    lines += [
        f"{obj} exists but no migration made it" for obj in sorted(found - expected)
    ]
    return lines
