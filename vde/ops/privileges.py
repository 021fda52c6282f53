"""Who may do what to the tables, sequences and functions, comparably.

The drift check builds its reference in a scratch database, whose objects are
owned by whoever runs it; the live ones may belong to another role. So every
grant is read with its grantee normalised (``owner`` for the object's owner,
``PUBLIC``, else the role's name), the grantor left out, and a missing ACL
replaced by the server's default (``acldefault``), whose text differs between
PostgreSQL versions but not between two databases of one server.
"""

from __future__ import annotations

import asyncpg

from vde.columns import TABLE_PREFIX

#: Rights ``piccolo vde app_role`` gives the application's role: a named role
#: holding no more than these is expected, not drift.
APP_ROLE_RIGHTS = {
    "table": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "sequence": {"USAGE", "SELECT"},
    "function": {"EXECUTE"},
}

_GRANTEE = """CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                   WHEN a.grantee = {owner} THEN 'owner'
                   ELSE pg_get_userbyid(a.grantee) END
              || ' ' || a.privilege_type
              || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END"""

_RELATIONS = f"""
SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END || ' ' || c.relname
         AS object,
       ARRAY(SELECT {_GRANTEE.format(owner="c.relowner")}
             FROM aclexplode(coalesce(c.relacl, acldefault(
               CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
             UNION ALL
             SELECT '(' || att.attname || ') ' || {_GRANTEE.format(owner="c.relowner")}
             FROM pg_attribute att, aclexplode(att.attacl) a
             WHERE att.attrelid = c.oid AND att.attacl IS NOT NULL
            )::text[] AS grants
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S')
  AND c.relname LIKE $1 || '%'
"""

_FUNCTIONS = f"""
SELECT 'function ' || p.proname
         || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS object,
       ARRAY(SELECT {_GRANTEE.format(owner="p.proowner")}
             FROM aclexplode(coalesce(p.proacl, acldefault('f'::"char", p.proowner))) a
            )::text[] AS grants
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.proname LIKE $1 || '%'
"""


async def read_privileges(
    connection: asyncpg.Connection, prefix: str = TABLE_PREFIX
) -> dict[str, frozenset[str]]:
    """``'table vde_users'`` -> its grants, e.g. ``'PUBLIC SELECT'``,
    ``'owner TRUNCATE'``, ``'(token) PUBLIC SELECT'`` for a column's."""
    pattern = prefix.replace("_", r"\_")
    rows = [
        *await connection.fetch(_RELATIONS, pattern),
        *await connection.fetch(_FUNCTIONS, pattern),
    ]
    return {row["object"]: frozenset(row["grants"]) for row in rows}


def is_app_role_grant(obj: str, grant: str) -> bool:
    """A named role's plain right of the kind ``app_role`` grants."""
    kind = obj.split(" ", 1)[0]
    parts = grant.split(" ")
    if len(parts) != 2 or parts[0] in ("PUBLIC", "owner"):
        return False
    return parts[1] in APP_ROLE_RIGHTS.get(kind, set())
