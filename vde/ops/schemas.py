"""The schema as a database holds it, and as the migrations build it.

``piccolo vde drift`` compares the two. The expected one is built, not written
down: the migrations of every registered app (vde's and the project's own) run
in a scratch database on the live database's own server (same version, so the
same spelling of every definition). Everything in the current schema is read,
whatever its name: an object no migration made is drift too.
"""

from __future__ import annotations

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from vde.database.forwards import migrate_engine
from vde.database.scratch import scratch_database
from vde.ops.catalog import read_catalog, read_functions
from vde.ops.citus_layout import changes
from vde.ops.distribute import distributed_tables
from vde.ops.drift import Schema, differences
from vde.ops.privileges import read_privileges
from vde.ops.schema_objects import read_objects
from vde.ops.table_settings import read_table_settings

#: Every name: the readers' prefix filter matches all.
_EVERY_NAME = ""


async def read_schema(connection: asyncpg.Connection) -> Schema:
    """The current schema's tables, functions and other objects, and Piccolo's
    migration records, as they are."""
    migrations: tuple[tuple[str, str], ...] = ()
    if await connection.fetchval("SELECT to_regclass('migration') IS NOT NULL"):
        rows = await connection.fetch("SELECT app_name, name FROM migration")
        migrations = tuple((row["app_name"], row["name"]) for row in rows)
    return Schema(
        tables=await read_catalog(connection, _EVERY_NAME),
        functions=await read_functions(connection, _EVERY_NAME),
        migrations=migrations,
        settings=await read_table_settings(connection, _EVERY_NAME),
        privileges=await read_privileges(connection, _EVERY_NAME),
        objects=await read_objects(connection),
    )


async def reference_schema(engine: PostgresEngine, distributed: bool = False) -> Schema:
    """The schema the migrations build, read from a scratch database that they
    are applied to on ``engine``'s server, dropped afterwards; those of killed
    runs go first. ``distributed``: then also what ``piccolo vde distribute``
    changes in the schema (keys Citus cannot keep dropped, identities made
    sequences); the distributing itself is Citus's, invisible here."""
    async with scratch_database(engine.config, "drift") as scratch:
        await migrate_engine(scratch)
        connection = await scratch.get_new_connection()
        try:
            if distributed:
                async with connection.transaction():
                    for change in (await changes(connection)).schema:
                        await connection.execute(change.sql)
            return await read_schema(connection)
        finally:
            await connection.close()


async def drift_from_migrations(engine: PostgresEngine) -> list[str]:
    """Every difference of ``engine``'s database from what the migrations build
    (and, on a distributed database, ``distribute``)."""
    connection = await engine.get_new_connection()
    try:
        found = await read_schema(connection)
        distributed = bool(await distributed_tables(connection))
    finally:
        await connection.close()
    expected = await reference_schema(engine, distributed)
    return differences(expected, found)
