"""Where each table lives on Citus, and what a database must give up to get there.

A map's tiles, content and history are read and written together, by owner, so
the three map tables are spread over the workers by the owner and co-located:
one owner's rows of all three sit in one shard group, and every statement that
names the owner runs on one node. Every other table stays a plain table on the
coordinator (docs/scale-out.md gives the measurements): the sign-in lookups
are each served by one unique index there, and a reference table's write
would be a two-phase commit on every node.

Citus keeps no key that leaves out the distribution column, no foreign key
whose ON DELETE sets the owner to NULL, and no integer identity column. The
changes that follow are read from the catalog, not written down: the plan
names each one, and the drift check expects exactly them on a distributed
database (:func:`changes` builds both from one reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from vde.sql import literal, quoted


@dataclass(frozen=True)
class Placement:
    """A distributed table: its distribution column, the table it is co-located
    with (None: it starts the co-location group) and why."""

    table: str
    column: str
    colocate_with: str | None
    why: str


#: In the order they are distributed: a table after those its keys point at.
DISTRIBUTED = (
    Placement("vde_base_items", "owner_id", None, "a map owner's content"),
    Placement(
        "vde_base_item_versions",
        "owner_id",
        "vde_base_items",
        "a content's history, beside its content",
    ),
    Placement(
        "vde_map_items",
        "coord_user_id",
        "vde_base_items",
        "a map owner's tiles, beside the content they show",
    ),
)
DISTRIBUTED_TABLES = tuple(p.table for p in DISTRIBUTED)

#: Tables of vde (and Piccolo's record of migrations) kept on the coordinator.
LOCAL_WHY = {
    "vde_users": "sign-in: each lookup one unique index on one node",
    "vde_accounts": "sign-in: each lookup one unique index on one node",
    "vde_sessions": "sign-in: written at every sign-in and refresh, one node",
    "vde_verification_tokens": "sign-in: each lookup one index on one node",
    "vde_api_keys": "sign-in: request_count written per request, one node",
    "vde_user_mapping": "auth user -> owner id: one unique index on one node",
    "vde_llm_job_results": "a user's jobs and a job by id: one node each",
    "migration": "Piccolo's record of applied migrations",
}


@dataclass(frozen=True)
class Change:
    """One statement of the plan and the line that says what it does."""

    says: str
    sql: str


@dataclass
class Changes:
    """What distributing needs, as read from one database's catalog."""

    #: Statements a server without Citus can run too (the drift check's
    #: reference runs them): keys dropped, identity columns made sequences.
    schema: list[Change] = field(default_factory=list)
    #: Enabled triggers of each distributed table (they stay; Citus copies
    #: them to the shards).
    triggers: dict[str, list[str]] = field(default_factory=dict)
    #: Tables that are no vde table: name -> the key that ties it to a
    #: distributed table ('' when none: it stays on the coordinator).
    foreign: dict[str, str] = field(default_factory=dict)
    #: What stops distributing, one reason a line.
    refusals: list[str] = field(default_factory=list)


_COLUMNS = """
SELECT c.relname::text AS table, a.attname::text AS column,
       a.attidentity <> '' AS identity,
       pg_get_serial_sequence(quote_ident(c.relname), a.attname) AS sequence
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relname = ANY($1)
"""

_CONSTRAINTS = """
SELECT con.conname::text AS name, con.contype::text AS kind,
       con.conrelid::regclass::text AS table,
       nullif(con.confrelid, 0)::regclass::text AS target,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.i) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
             ORDER BY k.i) AS target_columns
FROM pg_constraint con
WHERE con.contype IN ('p', 'u', 'f')
  AND (con.conrelid = ANY($1::regclass[]) OR con.confrelid = ANY($1::regclass[]))
ORDER BY con.conname
"""

_TABLES = """
SELECT c.relname::text AS name FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY 1
"""

_TRIGGERS = """
SELECT tgrelid::regclass::text AS table, tgname::text AS name
FROM pg_trigger WHERE tgrelid = ANY($1::regclass[]) AND NOT tgisinternal
  AND tgenabled <> 'D'
ORDER BY tgname
"""

#: ON DELETE / ON UPDATE actions Citus refuses when the key holds the owner.
_SETS = {"n": "SET NULL", "d": "SET DEFAULT"}


async def changes(connection: asyncpg.Connection) -> Changes:
    """What distributing the database ``connection`` is in needs and refuses."""
    found = Changes()
    tables = [row["name"] for row in await connection.fetch(_TABLES)]
    missing = [t for t in DISTRIBUTED_TABLES if t not in tables]
    if missing:
        found.refusals.append(
            f"no table {', '.join(missing)}: run `piccolo vde migrate` first"
        )
        return found
    columns = await connection.fetch(_COLUMNS, list(DISTRIBUTED_TABLES))
    owners = {p.table: p.column for p in DISTRIBUTED}
    have = {(row["table"], row["column"]) for row in columns}
    for table, column in owners.items():
        if (table, column) not in have:
            found.refusals.append(
                f"{table} has no column {column}, its owner: run "
                "`piccolo vde migrate` first (the owner is part of every key)"
            )
    if found.refusals:
        return found
    constraints = await connection.fetch(_CONSTRAINTS, list(DISTRIBUTED_TABLES))
    _foreign_keys(found, constraints, owners)
    _unique_keys(found, constraints, owners)
    for row in columns:
        if row["identity"]:
            found.schema += _sequence_for(row["table"], row["column"], row["sequence"])
    for row in await connection.fetch(_TRIGGERS, list(DISTRIBUTED_TABLES)):
        found.triggers.setdefault(row["table"], []).append(row["name"])
    for table in tables:
        if table not in owners and table not in LOCAL_WHY:
            found.foreign.setdefault(table, "")
    return found


def _foreign_keys(
    found: Changes, constraints: list[asyncpg.Record], owners: dict[str, str]
) -> None:
    for row in constraints:
        if row["kind"] != "f":
            continue
        table, target, name = row["table"], row["target"], row["name"]
        if table not in owners:
            found.foreign[table] = f"{name} into {target}"
            found.refusals.append(
                f"table {table} is no vde table and its foreign key {name} points "
                f"into {target}, which distribute spreads over the workers: Citus "
                "keeps no key from a coordinator table into a distributed one. "
                "Drop the key, distribute, then distribute the table by its owner "
                "co-located with vde_map_items and add the key back with the owner "
                "in it (docs/scale-out.md#your-own-tables)"
            )
        elif target not in owners:
            found.refusals.append(
                f"foreign key {name} of {table} points into {target}, which stays "
                "on the coordinator: Citus refuses it"
            )
        elif not _owner_key(row, owners):
            found.schema.append(
                Change(
                    f"drop foreign key {name} of {table} ({', '.join(row['columns'])}"
                    f" -> {target}): Citus keeps no key without the owner in both "
                    "places, nor one whose ON DELETE sets the owner to NULL",
                    f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(name)}",
                )
            )


def _owner_key(row: asyncpg.Record, owners: dict[str, str]) -> bool:
    """Whether Citus keeps foreign key ``row``: the owner at one place on
    both sides, and no action that would set it."""
    mine, theirs = list(row["columns"]), list(row["target_columns"])
    owner, target_owner = owners[row["table"]], owners[row["target"]]
    if owner not in mine or theirs[mine.index(owner)] != target_owner:
        return False
    return not ({row["on_delete"], row["on_update"]} & _SETS.keys())


def _unique_keys(
    found: Changes, constraints: list[asyncpg.Record], owners: dict[str, str]
) -> None:
    for row in constraints:
        table, name = row["table"], row["name"]
        if row["kind"] not in ("p", "u") or owners[table] in row["columns"]:
            continue
        if row["kind"] == "p":
            found.refusals.append(
                f"the primary key {name} of {table} leaves out the owner "
                f"{owners[table]}: run `piccolo vde migrate` first"
            )
            continue
        found.schema.append(
            Change(
                f"drop unique constraint {name} of {table} "
                f"({', '.join(row['columns'])}): without the owner Citus cannot "
                "check it across shards",
                f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(name)}",
            )
        )


def _sequence_for(table: str, column: str, sequence: str) -> list[Change]:
    """Identity column -> a sequence of the same name, continuing where the
    identity's stopped (Citus distributes no integer identity column). The
    identity's position is kept in a transaction-local setting meanwhile: one
    statement per call, as Citus wants."""
    name = sequence.rpartition(".")[2].strip('"')
    kept = literal(f"vde.sequence_{name}")
    target = f"{quoted(table)}.{quoted(column)}"
    return [
        Change(
            f"make {table}.{column} a column with a sequence default instead of "
            "an identity: Citus distributes no integer identity column",
            f"SELECT set_config({kept}, last_value || ',' || is_called, true) "
            f"FROM {sequence}",
        ),
        Change(
            "",
            f"ALTER TABLE {quoted(table)} ALTER COLUMN {quoted(column)} DROP IDENTITY",
        ),
        Change("", f"CREATE SEQUENCE {quoted(name)} AS integer OWNED BY {target}"),
        Change(
            "",
            f"SELECT setval({literal(quoted(name))}, "
            f"split_part(current_setting({kept}), ',', 1)::bigint, "
            f"split_part(current_setting({kept}), ',', 2)::boolean)",
        ),
        Change(
            "",
            f"ALTER TABLE {quoted(table)} ALTER COLUMN {quoted(column)} "
            f"SET DEFAULT nextval({literal(quoted(name))}::regclass)",
        ),
    ]
