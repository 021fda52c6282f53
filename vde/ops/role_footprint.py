"""What a role holds besides its attributes and memberships, as app_role sees it.

An application role gets its rights from ``piccolo vde app_role`` alone: DML on
the tables of the project's apps (vde's and its own), USAGE on their sequences
and schemas, CONNECT on the database. Anything else it holds here is a power
the command did not give and would not see by looking at those tables: objects
it owns (a function, a large object, a schema), grants on other objects or on
single columns (an UPDATE on Piccolo's ``migration`` table), default privileges
that grant to it (the next migration's tables), and settings stored for it
that it could not make itself (``session_replication_role = replica`` skips
every trigger, vde's tree check included). PostgreSQL records owners and
grantees in ``pg_shdepend`` (what ``DROP OWNED`` reads), settings in
``pg_db_role_setting``.

A setting the role may ``SET`` itself (``statement_timeout``, ``search_path``)
gives it nothing it lacks, so it stays, and app_role prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from vde.ops.utility_sql import run_formatted

# Owners and grantees recorded for the role in this database and on shared
# objects (databases, tablespaces, parameters), app_role's own grants left
# out: table-level ones on the apps' tables and sequences ($2), those on their
# schemas ($3, CREATE is checked apart), and those on databases (CONNECT;
# CREATE is checked apart; other databases are not this command's).
_DEPENDENCIES = """
SELECT d.deptype = 'o' AS owns,
       d.classid::regclass::text AS catalog,
       d.objid::bigint AS oid,
       pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       (pg_identify_object(d.classid, d.objid, 0)).identity AS target
FROM pg_shdepend d
WHERE d.refclassid = 'pg_authid'::regclass
  AND d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
  AND d.deptype IN ('o', 'a')
  AND d.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass
           AND d.objsubid = 0 AND d.objid = ANY($2::regclass[]))
  AND NOT (d.deptype = 'a' AND d.classid = 'pg_namespace'::regclass
           AND d.objid = ANY($3::regnamespace[]))
  AND NOT (d.deptype = 'a' AND d.classid = 'pg_database'::regclass)
ORDER BY 1 DESC, 4
"""

# Settings applied when the role logs in, here: for it anywhere or in this
# database. Refused: those of parameters a plain role cannot SET (context
# other than 'user'); a name unknown here is refused unless it is a custom one
# (with a dot: placeholders anyone may set).
_SETTINGS = """
SELECT s.setdatabase <> 0 AS here, c AS setting,
       array_to_string(ARRAY(
         SELECT quote_ident(part)
         FROM unnest(string_to_array(split_part(c, '=', 1), '.')) part), '.')
         AS parameter,
       coalesce((SELECT context <> 'user' FROM pg_settings
                 WHERE name = lower(split_part(c, '=', 1))),
                strpos(split_part(c, '=', 1), '.') = 0) AS refused
FROM pg_db_role_setting s, unnest(s.setconfig) c
WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
  AND s.setdatabase IN (0, (SELECT oid FROM pg_database
                            WHERE datname = current_database()))
ORDER BY 1, 2
"""

# The REVOKE keyword of each catalog whose objects carry grants.
_REVOKE_ON = {
    "pg_class": "TABLE",  # sequences too; a table's REVOKE covers its columns
    "pg_proc": "ROUTINE",
    "pg_namespace": "SCHEMA",
    "pg_type": "TYPE",
    "pg_language": "LANGUAGE",
    "pg_largeobject": "LARGE OBJECT",
    "pg_foreign_data_wrapper": "FOREIGN DATA WRAPPER",
    "pg_foreign_server": "FOREIGN SERVER",
    "pg_tablespace": "TABLESPACE",
    "pg_parameter_acl": "PARAMETER",
}

_DEFAULT_ACL = """
SELECT pg_get_userbyid(defaclrole) AS owner,
       CASE WHEN defaclnamespace <> 0 THEN defaclnamespace::regnamespace::text END
         AS schema,
       CASE defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
         WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END AS kind,
       ARRAY(SELECT DISTINCT CASE a.grantee WHEN 0 THEN 'PUBLIC'
                             ELSE quote_ident(pg_get_userbyid(a.grantee)) END
             FROM aclexplode(defaclacl) a) AS grantees,
       ARRAY(SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC'
                    ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                    || ' ' || a.privilege_type
             FROM aclexplode(acldefault(
               CASE defaclobjtype WHEN 'S' THEN 's' ELSE defaclobjtype END,
               defaclrole)) a) AS builtin
FROM pg_default_acl WHERE oid = $1
"""


@dataclass(frozen=True)
class Holding:
    """One thing a role holds that app_role does not give it."""

    what: str  # as printed: "ownership of function f()"
    catalog: str = ""  # of the object owned or granted; "" for a setting
    oid: int = 0
    target: str = ""  # the object's SQL name; for a setting, its parameter
    owns: bool = False
    here: bool = False  # a setting for this database only


async def holdings(
    connection: asyncpg.Connection,
    name: str,
    tables: Sequence[str],
    schemas: Sequence[str],
) -> list[Holding]:
    """What role ``name`` holds beyond app_role's grants on ``tables`` (the
    apps' tables and sequences) and ``schemas``; settings it may make itself
    excluded."""
    database = await connection.fetchval("SELECT current_database()")
    found = [
        Holding(
            what=f"setting {row['setting']}"
            + (f" in database {database}" if row["here"] else ""),
            target=row["parameter"],
            here=row["here"],
        )
        for row in await connection.fetch(_SETTINGS, name)
        if row["refused"]
    ]
    for row in await connection.fetch(_DEPENDENCIES, name, tables, schemas):
        if row["catalog"] == "pg_default_acl":
            what = row["object"] + ("" if row["owns"] else ", which grant to it")
        else:
            what = ("ownership of " if row["owns"] else "privileges on ") + row[
                "object"
            ]
        found.append(
            Holding(what, row["catalog"], row["oid"], row["target"], row["owns"])
        )
    return found


async def own_settings(connection: asyncpg.Connection, name: str) -> list[str]:
    """The settings stored for role ``name`` that it could make itself (kept)."""
    return [
        row["setting"]
        for row in await connection.fetch(_SETTINGS, name)
        if not row["refused"]
    ]


async def give_up(
    connection: asyncpg.Connection, name: str, held: Sequence[Holding]
) -> None:
    """Take ``held`` from role ``name``: reset its settings, revoke its grants,
    reset its default privileges, and hand what it owns to the current user."""
    database = await connection.fetchval("SELECT current_database()")
    for holding in held:
        if not holding.catalog:
            if holding.here:
                await run_formatted(
                    connection,
                    "ALTER ROLE %I IN DATABASE %I RESET %s",
                    name,
                    database,
                    holding.target,
                )
            else:
                await run_formatted(
                    connection, "ALTER ROLE %I RESET %s", name, holding.target
                )
        elif holding.catalog == "pg_default_acl":
            await _drop_default_privileges(connection, name, holding)
        elif not holding.owns:
            await run_formatted(
                connection,
                f"REVOKE ALL ON {_REVOKE_ON[holding.catalog]} %s FROM %I",
                holding.target,
                name,
            )
    if any(holding.owns and holding.catalog != "pg_default_acl" for holding in held):
        # Not dropped: what it owns may be in use (a function, a large object).
        await run_formatted(connection, "REASSIGN OWNED BY %I TO CURRENT_USER", name)


async def _drop_default_privileges(
    connection: asyncpg.Connection, name: str, holding: Holding
) -> None:
    """Take ``name`` out of a default ACL, or, for its own, bring that back to
    PostgreSQL's built-in defaults (which removes the entry)."""
    row = await connection.fetchrow(_DEFAULT_ACL, holding.oid)
    assert row is not None
    scope = "ALTER DEFAULT PRIVILEGES FOR ROLE %I" + (
        " IN SCHEMA %s" if row["schema"] else ""
    )
    args = [row["owner"], *([row["schema"]] if row["schema"] else [])]
    if not holding.owns:
        await run_formatted(
            connection, f"{scope} REVOKE ALL ON {row['kind']} FROM %I", *args, name
        )
        return
    for grantee in row["grantees"]:
        await run_formatted(
            connection, f"{scope} REVOKE ALL ON {row['kind']} FROM %s", *args, grantee
        )
    if not row["schema"]:  # a schema's entry only adds to the built-in defaults
        for grant in row["builtin"]:
            grantee, privilege = grant.rsplit(" ", 1)
            await run_formatted(
                connection,
                f"{scope} GRANT {privilege} ON {row['kind']} TO %s",
                *args,
                grantee,
            )
