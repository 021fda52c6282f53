"""The role an application connects as: DML rights only, proven afterwards.

An application that connects as the owner of the tables (or a superuser) can
drop them after a bug or an injection; one that connects as this role can only
read and write rows. Migrations keep running as the owner. The tables are
those of every app the project registers (``vde.ops.project_apps``): a service
built on vde reads and writes its own tables beside vde's. ``piccolo vde
app_role`` never quietly takes rights away from an existing role, and it trusts
no GRANT it ran: it checks the role's effective rights (inherited ones
included) at the end (``vde.ops.role_rights``).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from piccolo.table import Table

from vde.database.scratch import Server, connect_kwargs
from vde.errors import VdeError
from vde.ops.project_apps import app_tables, registered_apps
from vde.ops.role_rights import (
    elevated_rights,
    remove_elevated_rights,
    verify_dml_only,
)
from vde.ops.scram import scram_sha256_verifier
from vde.ops.utility_sql import run_formatted
from vde.sql import quoted


class AppRoleRefused(VdeError):
    """The role cannot become DML-only as asked; nothing was changed."""


_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

# Sequences behind the tables' id columns: identity ('i') or serial ('a')
# dependencies.
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


#: Runs of app_role on one database take turns: concurrent GRANTs on one object
#: fail ("tuple concurrently updated"), and two CREATE ROLEs of one name collide.
APP_ROLE_LOCK_KEY = int.from_bytes(b"vde:role", "big")


def sql_names(tables: Sequence[type[Table]]) -> list[str]:
    """Each table's name as SQL (quoted, with its schema when it has one)."""
    return [
        quoted(*filter(None, (table._meta.schema, table._meta.tablename)))
        for table in tables
    ]


async def make_app_role(
    server: Server,
    name: str,
    password: str | None,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> list[str]:
    """:func:`grant_dml_only` in a transaction of its own on ``server`` (a URL,
    or asyncpg ``connect`` arguments: a Piccolo engine's ``config``)."""
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        async with connection.transaction():
            return await grant_dml_only(connection, name, password, force, tables)
    finally:
        await connection.close()


async def grant_dml_only(
    connection: asyncpg.Connection,
    name: str,
    password: str | None,
    force: bool = False,
    tables: Sequence[str] | None = None,
) -> list[str]:
    """Make role ``name`` exactly a DML-only role on ``tables`` (SQL names, see
    :func:`sql_names`; by default every registered app's); say what was done.

    Runs in the caller's transaction: a refusal (:class:`AppRoleRefused`) undoes
    it all.
    """
    await connection.execute("SELECT pg_advisory_xact_lock($1)", APP_ROLE_LOCK_KEY)
    done: list[str] = []
    if tables is None:
        tables = sql_names(app_tables(registered_apps()))
    # As regclass prints them: one spelling for every statement and check.
    found = await connection.fetch(
        "SELECT t, to_regclass(t)::text AS name FROM unnest($1::text[]) t", tables
    )
    missing = [row["t"].replace('"', "") for row in found if row["name"] is None]
    if missing:
        raise AppRoleRefused(
            f"tables missing: {', '.join(missing)}; run the migrations first"
        )
    tables = [row["name"] for row in found]
    if name == await connection.fetchval("SELECT current_user"):
        raise AppRoleRefused(
            f"{name} is the role running this command: choose another name"
        )
    owned = await connection.fetchval(
        "SELECT array_agg(relname::text) FROM pg_class "
        "WHERE oid = ANY($1::regclass[]) AND pg_get_userbyid(relowner) = $2",
        tables,
        name,
    )
    if owned:
        raise AppRoleRefused(
            f"{name} owns {', '.join(owned)}: an application role must not"
        )

    sequences = [row["name"] for row in await connection.fetch(_SEQUENCES, tables)]
    schemas = await connection.fetchval(
        "SELECT array_agg(DISTINCT relnamespace::regnamespace::text) FROM pg_class "
        "WHERE oid = ANY($1::regclass[])",
        tables,
    )

    created = False
    if not await connection.fetchval(
        "SELECT true FROM pg_roles WHERE rolname = $1", name
    ):
        try:
            async with connection.transaction():  # a savepoint
                await run_formatted(connection, f"CREATE ROLE %I {_ATTRIBUTES}", name)
            created = True
        except asyncpg.exceptions.UniqueViolationError:
            pass  # created meanwhile by a run on another database: an existing role
    if created:
        done.append(f"created role {name}")
    else:
        extra = await elevated_rights(connection, name, tables + sequences, schemas)
        if extra and not force:
            raise AppRoleRefused(
                f"{name} already exists with {', '.join(extra)}: an application "
                "role must have none of it. Choose another name, take it away "
                "yourself, or pass --force to have app_role take it away."
            )
        if extra:
            await remove_elevated_rights(connection, name, tables + sequences, schemas)
        await run_formatted(connection, f"ALTER ROLE %I {_ATTRIBUTES}", name)
        done.append(f"updated role {name}")
        done += [f"took away from {name}: {what} (--force)" for what in extra]
    if password is not None:
        # Only the verifier is sent: the statement never holds the password.
        verifier = scram_sha256_verifier(password)
        await run_formatted(connection, "ALTER ROLE %I PASSWORD %L", name, verifier)
        done.append("password set (as a SCRAM-SHA-256 verifier computed here)")

    database = await connection.fetchval("SELECT current_database()")
    await run_formatted(
        connection, "GRANT CONNECT ON DATABASE %I TO %I", database, name
    )
    for schema in schemas:
        await run_formatted(connection, "REVOKE ALL ON SCHEMA %I FROM %I", schema, name)
        await run_formatted(connection, "GRANT USAGE ON SCHEMA %I TO %I", schema, name)
    for table in tables:
        # Revoked first: an update also takes away what was granted by hand.
        await run_formatted(connection, "REVOKE ALL ON TABLE %s FROM %I", table, name)
        await run_formatted(
            connection,
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s TO %I",
            table,
            name,
        )
    for sequence in sequences:
        await run_formatted(
            connection, "REVOKE ALL ON SEQUENCE %s FROM %I", sequence, name
        )
        await run_formatted(
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
            "SELECT has_schema_privilege('public', $1, 'CREATE')", schema
        ):
            await run_formatted(
                connection, "REVOKE CREATE ON SCHEMA %I FROM PUBLIC", schema
            )
            done.append(f"revoked CREATE on schema {schema} from PUBLIC (as in PG 15+)")

    verified, wrong = await verify_dml_only(
        connection, name, tables, sequences, schemas
    )
    if wrong:
        raise AppRoleRefused(
            f"{name} is not DML-only after granting: {'; '.join(wrong)}. "
            "Nothing was changed; fix these by hand (or with --force) and retry."
        )
    return done + verified
