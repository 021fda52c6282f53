"""Migrations on a Citus coordinator whose map tables are distributed.

Citus refuses DDL on a distributed table with triggers (its "unsafe
triggers": one that queried other shards would run on one shard) unless
``citus.enable_unsafe_triggers`` is on, and DDL after a statement that reached
several shards in one transaction unless the transaction runs its shard
commands one by one. vde's trigger reads only the shard it fires on
(docs/scale-out.md), so each migration's transaction on a Citus database sets
both, for itself only (``SET LOCAL``); elsewhere nothing is set.
"""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine

#: What a migration's transaction sets on a database with Citus.
CITUS_MIGRATION_SETTINGS = (
    "SET LOCAL citus.enable_unsafe_triggers = on",
    "SET LOCAL citus.multi_shard_modify_mode = 'sequential'",
)

_HAS_CITUS = (
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')"
    " AS citus"
)


async def prepare_migration(engine: PostgresEngine) -> bool:
    """In the migration's open transaction: the Citus settings when the
    database has Citus; whether it has."""
    (row,) = await engine.run_ddl(_HAS_CITUS)
    if row["citus"]:
        for setting in CITUS_MIGRATION_SETTINGS:
            await engine.run_ddl(setting)
    return bool(row["citus"])
