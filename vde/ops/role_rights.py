"""What a role can do beyond reading and writing rows, and proof that it cannot.

``piccolo vde app_role`` reads these before touching an existing role (it
refuses one with more rights unless told to take them away) and after granting
(it checks the role's effective rights, inherited ones included, rather than
trusting the statements it ran).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

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


async def elevated_rights(connection: asyncpg.Connection, name: str) -> list[str]:
    """What existing role ``name`` holds beyond an application role, one phrase each.

    Elevated attributes, membership in any role (its rights and, for an owner
    role, the power to TRUNCATE and DROP), CREATE on this database, and CREATE
    on a schema granted to it (CREATE granted to PUBLIC is app_role's own fix).
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
    return found


async def run_formatted(
    connection: asyncpg.Connection, template: str, *args: str
) -> None:
    """Run a utility statement built by ``format()`` (it quotes names, literals)."""
    sql = await connection.fetchval(
        "SELECT format($1, VARIADIC $2::text[])", template, list(args)
    )
    await connection.execute(sql)


async def remove_elevated_rights(connection: asyncpg.Connection, name: str) -> None:
    """Take from ``name`` what :func:`elevated_rights` lists (for ``--force``)."""
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
    owned = await connection.fetchval(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
        "     + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
        "FROM pg_roles r WHERE r.rolname = $1",
        name,
    )
    if owned:
        wrong.append(f"owns {owned} tables, sequences or schemas here")
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
        "member of no role, owns nothing here",
    ]
    return verified, wrong
