"""``piccolo vde app_role``: the role an application connects as, DML rights only.

An application that connects as the owner of the tables (or a superuser) can
drop them after a bug or an injection; one that connects as this role can only
read and write rows. Migrations keep running as the owner.
"""

from __future__ import annotations

import os
import sys

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde.ops.scratch import connect_kwargs
from vde.registry import vde_tables

#: Where the password comes from when ``--password`` is not given.
PASSWORD_VARIABLE = "VDE_APP_PASSWORD"

_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

# Sequences behind vde's id columns: identity ('i') or serial ('a') dependencies.
_SEQUENCES = """
SELECT DISTINCT s.oid::regclass::text AS name
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i')
  AND d.refobjid = ANY($1::regclass[])
ORDER BY 1
"""


async def app_role(name: str = "vde_app", password: str = "") -> None:
    """Create or update (idempotently) a LOGIN role that can only read and write rows.

    It gets SELECT, INSERT, UPDATE, DELETE on vde's tables and USAGE, SELECT on
    their sequences, nothing else. Run it again after migrations that add tables.

    :param name: the role's name.
    :param password: its password; default: the VDE_APP_PASSWORD variable, and
        without either an existing password is left as it is.
    """
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        sys.exit("No PostgreSQL engine: is piccolo_conf.py (or PICCOLO_CONF) set up?")
    password = password or os.environ.get(PASSWORD_VARIABLE, "")
    connection = await asyncpg.connect(**connect_kwargs(engine.config))
    try:
        async with connection.transaction():
            for line in await grant_dml_only(connection, name, password or None):
                print(line)
    finally:
        await connection.close()


async def grant_dml_only(
    connection: asyncpg.Connection, name: str, password: str | None
) -> list[str]:
    """Make role ``name`` exactly a DML-only role on vde's tables; say what was done."""
    done: list[str] = []
    tables = [table._meta.tablename for table in vde_tables()]
    missing = await connection.fetchval(
        "SELECT array_agg(t) FROM unnest($1::text[]) t WHERE to_regclass(t) IS NULL",
        tables,
    )
    if missing:
        sys.exit(f"tables missing: {', '.join(missing)}; run the migrations first")
    if name == await connection.fetchval("SELECT current_user"):
        sys.exit(f"{name} is the role running this command: choose another name")
    owned = await connection.fetchval(
        "SELECT array_agg(relname::text) FROM pg_class "
        "WHERE oid = ANY($1::regclass[]) AND pg_get_userbyid(relowner) = $2",
        tables,
        name,
    )
    if owned:
        sys.exit(f"{name} owns {', '.join(owned)}: an application role must not")

    exists = await connection.fetchval(
        "SELECT true FROM pg_roles WHERE rolname = $1", name
    )
    verb = "ALTER" if exists else "CREATE"
    await _execute(connection, f"{verb} ROLE %I {_ATTRIBUTES}", name)
    done.append(f"{verb.lower()}d role {name}")
    if password is not None:
        await _execute(connection, "ALTER ROLE %I PASSWORD %L", name, password)
        done.append("password set")

    schemas = await connection.fetchval(
        "SELECT array_agg(DISTINCT relnamespace::regnamespace::text) FROM pg_class "
        "WHERE oid = ANY($1::regclass[])",
        tables,
    )
    database = await connection.fetchval("SELECT current_database()")
    await _execute(connection, "GRANT CONNECT ON DATABASE %I TO %I", database, name)
    for schema in schemas:
        await _execute(connection, "REVOKE ALL ON SCHEMA %I FROM %I", schema, name)
        await _execute(connection, "GRANT USAGE ON SCHEMA %I TO %I", schema, name)
    for table in tables:
        # Revoked first: an update also takes away what was granted by hand.
        await _execute(connection, "REVOKE ALL ON TABLE %I FROM %I", table, name)
        await _execute(
            connection,
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I TO %I",
            table,
            name,
        )
    sequences = [row["name"] for row in await connection.fetch(_SEQUENCES, tables)]
    for sequence in sequences:
        await _execute(connection, "REVOKE ALL ON SEQUENCE %s FROM %I", sequence, name)
        await _execute(
            connection, "GRANT USAGE, SELECT ON SEQUENCE %s TO %I", sequence, name
        )
    done.append(
        f"{name}: DML on {len(tables)} tables, USAGE on {len(sequences)} sequences"
    )

    # PostgreSQL 15 no longer lets PUBLIC create in schema public, but a database
    # upgraded from an older version (or set up by hand) may still: then every
    # role, this one included, could create tables there.
    for schema in schemas:
        if await connection.fetchval(
            "SELECT has_schema_privilege($1, $2, 'CREATE')", name, schema
        ):
            await _execute(connection, "REVOKE CREATE ON SCHEMA %I FROM PUBLIC", schema)
            done.append(f"revoked CREATE on schema {schema} from PUBLIC (as in PG 15+)")
        if await connection.fetchval(
            "SELECT has_schema_privilege($1, $2, 'CREATE')", name, schema
        ):
            sys.exit(f"{name} can still create in schema {schema}: check its roles")
    return done


async def _execute(connection: asyncpg.Connection, template: str, *args: str) -> None:
    """Run a utility statement built by ``format()`` (it quotes names, literals)."""
    sql = await connection.fetchval(
        "SELECT format($1, VARIADIC $2::text[])", template, list(args)
    )
    await connection.execute(sql)
