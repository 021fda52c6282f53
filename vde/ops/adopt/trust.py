"""Whose code ``adopt`` runs: none but its own and that of roles it trusts.

A DBA (often a superuser) adopts tables that a less privileged role owns. Any
function, operator, cast, trigger, rule or policy of that owner which adopt's
statements reach runs with the DBA's rights: the owner could make itself a
superuser. So:

- Every statement of adopt's own (layout, plan, copy, verification, report)
  runs with ``search_path = pg_catalog, pg_temp``, set locally in its
  transaction, and names every relation with its schema. Functions and
  operators then come from pg_catalog only (pg_temp is never searched for
  them): one in schema public is never chosen, however well its argument types
  fit. ``row_security`` is off: a policy makes a read fail, never run.
- vde's migrations (Piccolo's and vde's SQL, with unqualified names) must
  create their objects in the schema of the originals, so they alone run with
  ``search_path = <schema>, pg_temp``: pg_catalog is searched first, yet a
  function or operator of that schema wins when its argument types fit better
  (``=(varchar, varchar)`` would even be bound into vde's index predicates). So
  adopt refuses while a role it does not trust owns a function or operator
  there, or may create one there (it could between this check and the
  migrations). It creates ``migration`` itself when absent, so that no
  relation renamed to that name in the meantime takes its records.
- Before reading any row, adopt locks the relations it reads or writes (the
  originals, the leftovers, vde tables of an earlier run, ``migration``) and
  refuses any with a trigger, rule or policy, an owner it does not trust, or a
  column of a type such a role owns (the copy casts every value: that type's
  casts are its owner's code); ``migration`` must be a plain table. Until the
  commit, those locks keep anyone from adding one.

Trusted: the adopting role, superusers (who can act as any role anyway) and the
roles named with ``--trust`` (and so whoever may act as them). Refusing
changes nothing and names each object and its owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from vde.ops.adopt import trust_queries as queries
from vde.ops.adopt.findings import Finding
from vde.ops.adopt.layout import Layout
from vde.sql import quoted

#: adopt's own statements: functions and operators from pg_catalog only.
PINNED_PATH = "pg_catalog, pg_temp"


class UnknownRole(ValueError):
    """A role named with ``--trust`` does not exist."""


@dataclass
class Distrust:
    """What stands in adopt's way, and the roles that ``--trust`` could name
    instead of removing their objects (triggers, rules and policies are
    refused whoever owns them)."""

    findings: list[Finding] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def add(self, finding: Finding, role: str | None = None) -> None:
        self.findings.append(finding)
        if role is not None and role not in self.roles:
            self.roles.append(role)


async def pin(connection: asyncpg.Connection) -> str:
    """Pin the transaction's search_path; the schema adopt works in (the current
    one before pinning)."""
    schema: str = await connection.fetchval("SELECT pg_catalog.current_schema()")
    await connection.execute(f"SET LOCAL search_path = {PINNED_PATH}")
    await connection.execute("SET LOCAL row_security = off")
    return schema


async def migrations_path(connection: asyncpg.Connection, schema: str) -> None:
    """For vde's migrations: unqualified names create in (and find) ``schema``;
    :func:`repin` after them."""
    await connection.execute(f"SET LOCAL search_path = {quoted(schema)}, pg_temp")


async def repin(connection: asyncpg.Connection) -> None:
    await connection.execute(f"SET LOCAL search_path = {PINNED_PATH}")


async def trusted_roles(connection: asyncpg.Connection, named: list[str]) -> list[int]:
    """The oids of the adopting role and of the roles named with ``--trust``."""
    rows = await connection.fetch(
        "SELECT r.name, pg_catalog.to_regrole(pg_catalog.quote_ident(r.name))::oid "
        "AS oid FROM pg_catalog.unnest($1::text[]) AS r(name)",
        named,
    )
    missing = [row["name"] for row in rows if row["oid"] is None]
    if missing:
        raise UnknownRole(
            f"no role named {', '.join(missing)}: --trust takes the names of "
            "existing roles, separated by commas"
        )
    me: int = await connection.fetchval(
        "SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user"
    )
    return [me, *(row["oid"] for row in rows)]


async def untrusted(
    connection: asyncpg.Connection, layout: Layout, trusted: list[int]
) -> Distrust:
    """Everything that would let a role adopt does not trust run code as it.

    Call it with the relations locked (:func:`vde.ops.adopt.copy.lock_originals`)
    and before reading any of their rows.
    """
    schema = layout.schema
    nsp: int = await connection.fetchval(
        "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", schema
    )
    names = [*layout.tables, *layout.leftovers, *layout.partial, "migration"]
    relations = await connection.fetch(queries.RELATIONS, trusted, nsp, names)
    found = Distrust()
    for rel in relations:
        where = f"{schema}.{rel['name']}"
        if rel["name"] == "migration" and rel["kind"] != "r":
            found.add(
                _finding(
                    "migration is no plain table",
                    rel,
                    f"{where} (relkind {rel['kind']!r}, owned by {rel['owner']}) "
                    "would receive vde's migration records: rename or drop it",
                )
            )
        if not rel["trusted"]:
            found.add(
                _finding(
                    "owner not trusted",
                    rel,
                    f"table {where} is owned by {rel['owner']}",
                ),
                rel["owner"],
            )
        if rel["inherits"]:
            found.add(
                _finding(
                    "inheritance or partitions",
                    rel,
                    f"{where} has a parent, children or partitions: adopt reads "
                    "and writes plain tables only",
                )
            )
    oids = [rel["oid"] for rel in relations]
    for row in await connection.fetch(queries.TRIGGERS, oids):
        found.add(
            _finding(
                "trigger",
                row,
                f"trigger {row['what']} on {schema}.{row['name']} runs "
                f"{row['function']} of {row['owner']}",
            )
        )
    for case, sql in (("rule", queries.RULES), ("policy", queries.POLICIES)):
        for row in await connection.fetch(sql, oids):
            found.add(
                _finding(
                    case,
                    row,
                    f"{case} {row['what']} on {schema}.{row['name']} of {row['owner']}",
                )
            )
    for row in await connection.fetch(queries.COLUMN_TYPES, trusted, oids):
        found.add(
            _finding(
                "column type not trusted",
                row,
                f"column {schema}.{row['name']}.{row['what']} is of type "
                f"{row['type']} of {row['owner']}",
            ),
            row["owner"],
        )
    for row in await connection.fetch(queries.CODE_IN_SCHEMA, trusted, nsp):
        found.add(
            Finding(
                f"{row['kind']} not trusted",
                schema,
                (),
                f"{row['what']} of {row['owner']}",
            ),
            row["owner"],
        )
    await _creators(connection, schema, nsp, trusted, found)
    return found


async def _creators(
    connection: asyncpg.Connection,
    schema: str,
    nsp: int,
    trusted: list[int],
    found: Distrust,
) -> None:
    case = "may create in the schema"
    tail = f"can create functions and operators in schema {schema}"
    if await connection.fetchval(queries.PUBLIC_CREATES, nsp):
        found.add(
            Finding(
                case,
                schema,
                (),
                f"every role (PUBLIC) {tail}: REVOKE CREATE ON SCHEMA "
                f"{quoted(schema)} FROM PUBLIC",
            )
        )
        return
    owners: dict[str, bool] = {}
    for row in await connection.fetch(queries.CREATORS, trusted, nsp):
        owners[row["role"]] = owners.get(row["role"], False) or row["database_owner"]
    dba = " (the database's owner)"
    for role, is_dba in owners.items():
        found.add(
            Finding(case, schema, (), f"{role}{dba if is_dba else ''} {tail}"), role
        )


def _finding(case: str, row: asyncpg.Record, detail: str) -> Finding:
    return Finding(case, row["name"], (), detail)
