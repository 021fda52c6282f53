"""What a table's columns and indexes do not show: how it is stored and guarded.

A trigger can be disabled, a table made UNLOGGED, row-level security turned on,
a policy or a rule added, all without touching a column. Each such setting is read
here as one line of plain text under a readable name, so the drift check can say
exactly which one changed.
"""

from __future__ import annotations

import asyncpg

from vde.columns import TABLE_PREFIX

_TRIGGER_STATES = {
    "O": "enabled",
    "D": "disabled",
    "R": "enabled on replicas only",
    "A": "enabled always",
}

_TABLES = """
SELECT c.oid, c.relname, c.relpersistence::text AS persistence,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND c.relname LIKE $1 || '%'
"""

_TRIGGERS = """
SELECT tgrelid, tgname, tgenabled::text AS state
FROM pg_trigger WHERE tgrelid = ANY($1) AND NOT tgisinternal
"""

_POLICIES = """
SELECT p.polrelid, p.polname,
       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END
       || ' FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                    WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
       || ' TO ' || array_to_string(ARRAY(
            SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END
            FROM unnest(p.polroles) r ORDER BY 1), ', ')
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')',
                   '') AS definition
FROM pg_policy p WHERE p.polrelid = ANY($1)
"""

_RULES = """
SELECT ev_class, rulename, pg_get_ruledef(oid) AS definition
FROM pg_rewrite WHERE ev_class = ANY($1) AND rulename <> '_RETURN'
"""


async def read_table_settings(
    connection: asyncpg.Connection, prefix: str = TABLE_PREFIX
) -> dict[str, str]:
    """``what`` -> its value, for every table whose name starts with ``prefix``.

    Policies and rules appear only when they exist, so an extra one is a key
    the expected schema lacks.
    """
    tables = await connection.fetch(_TABLES, prefix.replace("_", r"\_"))
    names = {row["oid"]: row["relname"] for row in tables}
    oids = list(names)
    settings: dict[str, str] = {}
    for row in tables:
        table = row["relname"]
        settings[f"persistence of table {table}"] = (
            "UNLOGGED" if row["persistence"] == "u" else "logged"
        )
        settings[f"row-level security of table {table}"] = (
            ("on, forced" if row["forced"] else "on")
            if row["rls"]
            else ("off, forced" if row["forced"] else "off")
        )
    for row in await connection.fetch(_TRIGGERS, oids):
        key = f"state of trigger {row['tgname']} on {names[row['tgrelid']]}"
        settings[key] = _TRIGGER_STATES.get(row["state"], row["state"])
    for row in await connection.fetch(_POLICIES, oids):
        key = f"policy {row['polname']} on {names[row['polrelid']]}"
        settings[key] = row["definition"]
    for row in await connection.fetch(_RULES, oids):
        key = f"rule {row['rulename']} on {names[row['ev_class']]}"
        settings[key] = row["definition"]
    return settings
