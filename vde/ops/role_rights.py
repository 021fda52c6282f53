"""What a role can do beyond reading and writing rows, and proof that it cannot.

``piccolo vde app_role`` reads these before touching an existing role (it
refuses one with more rights unless told to take them away) and after granting
(it checks the role's effective rights, inherited ones included, rather than
trusting the statements it ran).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from vde.ops.role_footprint import give_up, holdings, own_settings
from vde.ops.utility_sql import run_formatted

#: pg_roles columns of the attributes an application role must not have.
ELEVATED_ATTRIBUTES = {
    "rolsuper": "SUPERUSER",
    "rolcreaterole": "CREATEROLE",
    "rolcreatedb": "CREATEDB",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
}

DML = ("SELECT", "INSERT", "UPDATE", "DELETE")
NOT_DML = ("TRUNCATE", "REFERENCES", "TRIGGER")

# The schemas of this database a role may create in (system ones excluded).
_CREATE_SCHEMAS = """
SELECT nspname::text FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
  AND has_schema_privilege($1, oid, 'CREATE') {}
ORDER BY 1
"""

# Rights on tables (sequences) that differ from the wanted ones, in one query.
_WRONG_PRIVILEGES = """
SELECT o AS object, p AS privilege, has_{0}_privilege($1, o, p) AS has
FROM unnest($2::text[]) o,
     unnest($3::text[] || $4::text[]) p
WHERE has_{0}_privilege($1, o, p) <> (p = ANY($3::text[]))
ORDER BY 1, 2
"""

_MEMBERSHIPS = """
SELECT r.rolname::text AS role, g.rolname::text AS grantor
FROM pg_auth_members m
JOIN pg_roles r ON r.oid = m.roleid
JOIN pg_roles u ON u.oid = m.member
LEFT JOIN pg_roles g ON g.oid = m.grantor
WHERE u.rolname = $1
ORDER BY 1
"""


async def elevated_rights(
    connection: asyncpg.Connection,
    name: str,
    relations: Sequence[str],
    schemas: Sequence[str],
) -> list[str]:
    """What existing role ``name`` holds beyond an application role, one phrase each.

    Elevated attributes, membership in any role (its rights and, for an owner
    role, the power to TRUNCATE and DROP), CREATE on this database, CREATE on
    a schema granted to it (CREATE granted to PUBLIC is app_role's own fix),
    and its :func:`~vde.ops.role_footprint.holdings` beside app_role's grants
    on ``relations`` (the apps' tables and sequences) and ``schemas``. Roles that
    are members of it are no concern: they share its rights, it gains none.
    """
    row = await connection.fetchrow(
        f"SELECT {', '.join(ELEVATED_ATTRIBUTES)} FROM pg_roles WHERE rolname = $1",
        name,
    )
    assert row is not None
    found = [keyword for column, keyword in ELEVATED_ATTRIBUTES.items() if row[column]]
    found += [
        f"membership in {row['role']}"
        for row in await connection.fetch(_MEMBERSHIPS, name)
    ]
    if await connection.fetchval(
        "SELECT has_database_privilege($1, current_database(), 'CREATE')", name
    ):
        found.append("CREATE on this database")
    own = "AND NOT has_schema_privilege('public', oid, 'CREATE')"
    found += [
        f"CREATE on schema {schema}"
        for schema in await connection.fetchval(
            f"SELECT array_agg(nspname) FROM ({_CREATE_SCHEMAS.format(own)}) s", name
        )
        or []
    ]
    found += [
        held.what for held in await holdings(connection, name, relations, schemas)
    ]
    return found


async def remove_elevated_rights(
    connection: asyncpg.Connection,
    name: str,
    relations: Sequence[str],
    schemas: Sequence[str],
) -> None:
    """Take from ``name`` what :func:`elevated_rights` lists (for ``--force``)."""
    # First: a schema it owns gives it CREATE there until it owns it no more.
    await give_up(
        connection, name, await holdings(connection, name, relations, schemas)
    )
    for row in await connection.fetch(_MEMBERSHIPS, name):
        if row["grantor"] is None:
            await run_formatted(connection, "REVOKE %I FROM %I", row["role"], name)
        else:
            await run_formatted(
                connection,
                "REVOKE %I FROM %I GRANTED BY %I",
                row["role"],
                name,
                row["grantor"],
            )
    database = await connection.fetchval("SELECT current_database()")
    await run_formatted(
        connection, "REVOKE CREATE ON DATABASE %I FROM %I", database, name
    )
    for schema in await connection.fetch(_CREATE_SCHEMAS.format(""), name):
        await run_formatted(
            connection, "REVOKE CREATE ON SCHEMA %I FROM %I", schema[0], name
        )


async def verify_dml_only(
    connection: asyncpg.Connection,
    name: str,
    tables: Sequence[str],
    sequences: Sequence[str],
    schemas: Sequence[str],
) -> tuple[list[str], list[str]]:
    """Check ``name``'s effective rights; (what was verified, what is wrong)."""
    wrong: list[str] = []
    for kind, objects, wanted, unwanted in (
        ("table", tables, DML, NOT_DML),
        ("sequence", sequences, ("USAGE", "SELECT"), ("UPDATE",)),
    ):
        rows = await connection.fetch(
            _WRONG_PRIVILEGES.format(kind), name, list(objects), wanted, unwanted
        )
        wrong += [
            f"{'has' if row['has'] else 'lacks'} {row['privilege']} on {row['object']}"
            for row in rows
        ]
    member_of = await connection.fetchval(
        "SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles "
        "WHERE rolname <> $1 AND pg_has_role($1, oid, 'MEMBER')",
        name,
    )
    wrong += [f"is a member of {role}" for role in member_of or []]
    database = await connection.fetchval("SELECT current_database()")
    if not await connection.fetchval(
        "SELECT has_database_privilege($1, $2, 'CONNECT')", name, database
    ):
        wrong.append(f"lacks CONNECT on database {database}")
    if await connection.fetchval(
        "SELECT has_database_privilege($1, $2, 'CREATE')", name, database
    ):
        wrong.append(f"has CREATE on database {database}")
    creatable = await connection.fetch(_CREATE_SCHEMAS.format(""), name)
    wrong += [f"has CREATE on schema {row[0]}" for row in creatable]
    for schema in schemas:
        if not await connection.fetchval(
            "SELECT has_schema_privilege($1, $2, 'USAGE')", name, schema
        ):
            wrong.append(f"lacks USAGE on schema {schema}")
    row = await connection.fetchrow(
        f"SELECT rolcanlogin, {', '.join(ELEVATED_ATTRIBUTES)} "
        "FROM pg_roles WHERE rolname = $1",
        name,
    )
    assert row is not None
    wrong += [f"has {k}" for column, k in ELEVATED_ATTRIBUTES.items() if row[column]]
    if not row["rolcanlogin"]:
        wrong.append("cannot log in")
    held = await holdings(connection, name, [*tables, *sequences], schemas)
    wrong += [f"has {holding.what}" for holding in held]
    kept = await own_settings(connection, name)
    members = await connection.fetchval(
        "SELECT array_agg(DISTINCT pg_get_userbyid(member)::text) "
        "FROM pg_auth_members "
        "WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)",
        name,
    )
    schema_count = await connection.fetchval(
        "SELECT count(*) FROM pg_namespace "
        "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
    )
    verified = [
        f"verified {name}: {', '.join(DML)} and no {', '.join(NOT_DML)} "
        f"on {len(tables)} tables",
        f"verified {name}: USAGE, SELECT and no UPDATE on {len(sequences)} sequences",
        f"verified {name}: CONNECT and no CREATE on database {database}, "
        f"no CREATE in any of its {schema_count} schemas, "
        f"USAGE on {', '.join(schemas)}",
        f"verified {name}: LOGIN, no {', '.join(ELEVATED_ATTRIBUTES.values())}, "
        "member of no role",
        f"verified {name}: owns nothing here, no grant on other objects or on "
        "columns, no default privileges, no setting it could not SET itself"
        + (f"; keeps its own {', '.join(kept)}" if kept else ""),
    ]
    if members:
        verified.append(
            f"{name}'s rights are shared by its members {', '.join(members)}"
        )
    return verified, wrong
