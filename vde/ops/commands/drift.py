"""``piccolo vde drift``: does the live database still match vde's migrations?"""

from __future__ import annotations

import sys

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde.database.scratch import (
    connect_kwargs,
    create_database,
    drop_abandoned_databases,
    drop_database,
    scratch_name,
)
from vde.ops.catalog import read_catalog, read_functions
from vde.ops.drift import Schema, differences
from vde.ops.forwards import migrate_engine
from vde.ops.privileges import read_privileges
from vde.ops.table_settings import read_table_settings


async def read_schema(connection: asyncpg.Connection) -> Schema:
    """vde's tables and functions and Piccolo's migration records, as they are."""
    migrations: tuple[tuple[str, str], ...] = ()
    if await connection.fetchval("SELECT to_regclass('migration') IS NOT NULL"):
        rows = await connection.fetch("SELECT app_name, name FROM migration")
        migrations = tuple((row["app_name"], row["name"]) for row in rows)
    return Schema(
        tables=await read_catalog(connection),
        functions=await read_functions(connection),
        migrations=migrations,
        settings=await read_table_settings(connection),
        privileges=await read_privileges(connection),
    )


async def reference_schema(engine: PostgresEngine) -> Schema:
    """The schema the migrations build, read from a scratch database that they
    are applied to on ``engine``'s server (same version, so the same spelling of
    every definition), dropped afterwards; those of killed runs go first."""
    await drop_abandoned_databases(engine.config, "drift")
    name = scratch_name("drift")
    await create_database(engine.config, name)
    try:
        scratch = PostgresEngine(config=connect_kwargs(engine.config, name))
        await migrate_engine(scratch)
        connection = await scratch.get_new_connection()
        try:
            return await read_schema(connection)
        finally:
            await connection.close()
    finally:
        await drop_database(engine.config, name)


async def drift() -> None:
    """Compare the database with what vde's tables and migrations define.

    Prints every difference (missing or extra table, column, index, constraint,
    trigger or function; changed type, default, nullability, identity, collation
    or definition, a function's body or SET options included; a trigger
    disabled; a table UNLOGGED; row-level security, a policy or a rule; grants
    to PUBLIC or beyond plain DML; migrations not applied or recorded twice)
    and exits with
    status 1 if there is any, so CI or cron can run it. It needs the right to
    create a database: it builds the expected schema in a scratch one.
    """
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        sys.exit("vde drift needs a PostgresEngine as DB in piccolo_conf.py")
    expected = await reference_schema(engine)
    connection = await engine.get_new_connection()
    try:
        found = await read_schema(connection)
    finally:
        await connection.close()
    lines = differences(expected, found)
    for line in lines:
        print(line)
    if lines:
        sys.exit(f"{len(lines)} difference(s) from vde's migrations")
    print("No drift: the database matches vde's migrations.")
