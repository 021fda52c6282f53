"""``piccolo vde distribute``: spread the map tables over a Citus cluster's workers.

Without ``apply`` it reads and prints the plan (:mod:`vde.ops.citus_layout`
says where each table goes and why) and changes nothing. With it, one
transaction does all of it, so a failure anywhere leaves the database as it
was; it holds the migration lock, so neither a migrate nor a second distribute
runs meanwhile, and a second run finds the work done and says so.
"""

from __future__ import annotations

import asyncpg

from vde.database.migration_lock import MIGRATION_LOCK_KEY
from vde.database.scratch import Server, connect_kwargs
from vde.errors import VdeError
from vde.ops.citus_layout import DISTRIBUTED, LOCAL_WHY, Changes, changes
from vde.sql import literal, quoted

#: Citus's limit on a table's shard count.
MAX_SHARDS = 64000

#: What the transaction sets: DDL after a statement that reached several
#: shards, and tables with triggers (Citus calls them unsafe: a trigger that
#: queries other shards would run on one).
SETTINGS = (
    "SET LOCAL citus.multi_shard_modify_mode = 'sequential'",
    "SET LOCAL citus.enable_unsafe_triggers = on",
)

_DISTRIBUTED = """
SELECT logicalrelid::regclass::text AS table,
       column_to_column_name(logicalrelid, partkey) AS column,
       (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid)
         AS shards
FROM pg_dist_partition p ORDER BY 1
"""

_WORKERS = """
SELECT count(*) FROM pg_dist_node
WHERE groupid <> 0 AND noderole = 'primary' AND isactive
"""


class DistributeRefused(VdeError):
    """``piccolo vde distribute`` cannot distribute this database (no Citus, no
    workers, a table it cannot place); nothing was changed."""


async def distribute(
    server: Server, apply: bool = False, shard_count: int = 0
) -> list[str]:
    """The plan for distributing the database at ``server``, or with ``apply``
    what was done; lines to print. :class:`DistributeRefused` says why not.

    :param shard_count: shards per distributed table; 0: Citus's
        ``citus.shard_count`` (32 unless the server sets it).
    """
    if not 0 <= shard_count <= MAX_SHARDS:
        raise DistributeRefused(
            f"--shard_count must be 1 to {MAX_SHARDS}, or 0 for Citus's "
            f"citus.shard_count; not {shard_count}"
        )
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        async with connection.transaction():
            await connection.execute(
                "SELECT pg_catalog.pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY
            )
            workers = await citus_workers(connection)
            done = await distributed_tables(connection)
            if done:
                return _done_already(done)
            found = await changes(connection)
            if found.refusals:
                raise DistributeRefused(
                    "cannot distribute:\n"
                    + "\n".join(f"- {reason}" for reason in found.refusals)
                )
            shards = shard_count or int(
                await connection.fetchval("SHOW citus.shard_count")
            )
            lines = plan_lines(found, workers, shards)
            if not apply:
                return [*lines, "Nothing was changed: run with --apply to do it."]
            await _run(connection, statements(found, shard_count))
            return [*lines, "Done: the map tables are distributed."]
    finally:
        await connection.close()


async def _run(connection: asyncpg.Connection, sql: list[str]) -> None:
    for statement in sql:
        try:
            await connection.execute(statement)
        except asyncpg.PostgresError as exc:
            raise DistributeRefused(
                f"the server refused `{statement}`: {type(exc).__name__}: {exc}; "
                "the transaction was rolled back"
            ) from exc


async def citus_workers(connection: asyncpg.Connection) -> int:
    """The number of active workers, or :class:`DistributeRefused` when this
    is no Citus coordinator with workers."""
    version = await connection.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'citus'"
    )
    if version is None:
        available = await connection.fetchval(
            "SELECT true FROM pg_available_extensions WHERE name = 'citus'"
        )
        raise DistributeRefused(
            "this database has no Citus extension"
            + (
                "; its server has it: CREATE EXTENSION citus here (and on the "
                "workers), then add the workers"
                if available
                else " and its server has none: distribute needs a Citus coordinator"
            )
            + " (docs/scale-out.md#install)"
        )
    workers: int = await connection.fetchval(_WORKERS)
    if workers == 0:
        raise DistributeRefused(
            "this Citus coordinator has no active worker: add them with "
            "citus_add_node() in this database first (docs/scale-out.md#install)"
        )
    if not await connection.fetchval("SELECT citus_is_coordinator()"):
        raise DistributeRefused(
            "this is no Citus coordinator: run distribute with the coordinator's "
            "URL (docs/scale-out.md#install)"
        )
    return workers


async def distributed_tables(connection: asyncpg.Connection) -> dict[str, str]:
    """Distributed table -> its distribution column ({} without Citus)."""
    if not await connection.fetchval(
        "SELECT true FROM pg_extension WHERE extname = 'citus'"
    ):
        return {}
    rows = await connection.fetch(_DISTRIBUTED)
    return {row["table"]: f"{row['column']} ({row['shards']} shards)" for row in rows}


def _done_already(done: dict[str, str]) -> list[str]:
    wanted = {p.table: p.column for p in DISTRIBUTED}
    have = {table: done[table].split(" ")[0] for table in wanted if table in done}
    if have != wanted:
        raise DistributeRefused(
            "the map tables are distributed otherwise than distribute does it ("
            + ", ".join(f"{t} by {c}" for t, c in sorted(have.items()))
            + "); distribute leaves them as they are"
        )
    return [
        "Already distributed; nothing to do:",
        *(f"  {p.table} by {done[p.table]}" for p in DISTRIBUTED),
    ]


def plan_lines(found: Changes, workers: int, shards: int) -> list[str]:
    """The plan as printed: where each table goes, each change, the settings."""
    width = max(len(t) for t in [*LOCAL_WHY, *found.foreign, "vde_base_items"])
    lines = [f"Distribute over {workers} worker(s), {shards} shards a table:"]
    for p in DISTRIBUTED:
        with_ = (
            f"co-located with {p.colocate_with}"
            if p.colocate_with
            else "first of its co-location group"
        )
        lines.append(
            f"  {p.table.ljust(width)}  distributed by {p.column}, {with_}: {p.why}"
        )
    for table, why in LOCAL_WHY.items():
        lines.append(f"  {table.ljust(width)}  local to the coordinator: {why}")
    for table in sorted(found.foreign):
        lines.append(
            f"  {table.ljust(width)}  local to the coordinator: no vde "
            "table, no key into a distributed table"
        )
    lines.append("Changes:")
    lines += [f"  {change.says}" for change in found.schema if change.says]
    for table, names in found.triggers.items():
        lines.append(
            f"  keep triggers {', '.join(names)} of {table}: Citus runs "
            "them on each shard (off while its rows are copied there)"
        )
    lines.append("  in the transaction: " + "; ".join(SETTINGS))
    return lines


def statements(found: Changes, shard_count: int) -> list[str]:
    """Every statement of ``--apply``, in order, one a call as Citus wants."""
    first, *_ = DISTRIBUTED
    sql = [*SETTINGS, *(change.sql for change in found.schema)]
    switches = [
        (quoted(table), quoted(name))
        for table, names in found.triggers.items()
        for name in names
    ]
    sql += [f"ALTER TABLE {t} DISABLE TRIGGER {n}" for t, n in switches]
    for p in DISTRIBUTED:
        with_ = literal(p.colocate_with or "none")  # a name, not regclass text
        count = f", shard_count => {shard_count}" if p is first and shard_count else ""
        sql.append(
            f"SELECT create_distributed_table({literal(quoted(p.table))}, "
            f"{literal(p.column)}, colocate_with => {with_}{count})"
        )
    sql += [f"ALTER TABLE {t} ENABLE TRIGGER {n}" for t, n in switches]
    # The coordinator's copy of the rows is left behind, unseen: free it.
    sql += [
        "SELECT truncate_local_data_after_distributing_table("
        f"{literal(quoted(p.table))})"
        for p in reversed(DISTRIBUTED)
    ]
    return sql
