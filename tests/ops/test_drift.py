"""The drift comparison names each hand-made change to a migrated database.

Each test reads a freshly migrated copy (the expected schema), changes it by
hand as an operator might, reads it again and checks the exact report.
"""

from __future__ import annotations

import asyncpg

from vde.ops.catalog import Catalog, ColumnInfo, TableInfo
from vde.ops.drift import Schema, diff_functions, diff_migrations, differences
from vde.ops.schemas import read_schema, reference_schema
from vde.testing import ScratchDatabase


async def drift_after(connection: asyncpg.Connection, sql: str) -> list[str]:
    """The differences ``sql`` (run on a migrated database) makes."""
    expected = await read_schema(connection)
    await connection.execute(sql)
    return differences(expected, await read_schema(connection))


async def test_migrated_database_matches_the_migrations(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    expected = await reference_schema(vde_db.engine)
    assert expected.tables and expected.migrations
    assert differences(expected, await read_schema(vde_conn)) == []


async def test_index_dropped_by_hand_is_named(vde_conn: asyncpg.Connection) -> None:
    assert await drift_after(vde_conn, "DROP INDEX vde_map_items_roots") == [
        "missing index vde_map_items_roots on vde_map_items"
    ]


async def test_default_changed_by_hand_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = "ALTER TABLE vde_users ALTER COLUMN email_verified SET DEFAULT true"
    assert await drift_after(vde_conn, sql) == [
        "default of vde_users.email_verified: expected false, found true"
    ]


async def test_extra_column_and_index_are_named(vde_conn: asyncpg.Connection) -> None:
    sql = """ALTER TABLE vde_users ADD COLUMN foo text;
             CREATE INDEX vde_users_foo ON vde_users (foo)"""
    assert await drift_after(vde_conn, sql) == [
        "extra column vde_users.foo",
        "extra index vde_users_foo on vde_users",
    ]


async def test_loosened_check_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = """ALTER TABLE vde_base_item_versions
               DROP CONSTRAINT vde_base_item_versions_number_positive,
               ADD CONSTRAINT vde_base_item_versions_number_positive
                 CHECK (version_number >= 0)"""
    assert await drift_after(vde_conn, sql) == [
        "definition of check vde_base_item_versions_number_positive on"
        " vde_base_item_versions: expected CHECK ((version_number >= 1)),"
        " found CHECK ((version_number >= 0))"
    ]


async def test_dropped_check_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = "ALTER TABLE vde_map_items DROP CONSTRAINT user_item_parent_constraint"
    assert await drift_after(vde_conn, sql) == [
        "missing check user_item_parent_constraint on vde_map_items"
    ]


async def test_dropped_unique_constraint_is_named_once(
    vde_conn: asyncpg.Connection,
) -> None:
    sql = "ALTER TABLE vde_users DROP CONSTRAINT vde_users_email_key"
    assert await drift_after(vde_conn, sql) == [
        "missing unique constraint vde_users_email_key on vde_users"
    ]


async def test_type_change_that_drops_the_collation_is_named(
    vde_conn: asyncpg.Connection,
) -> None:
    # What an auto-migration changing path's length would do (PostgreSQL then resets
    # the column's collation to the default).
    sql = "ALTER TABLE vde_map_items ALTER COLUMN path TYPE varchar(300)"
    assert await drift_after(vde_conn, sql) == [
        "type of vde_map_items.path: expected character varying(255),"
        " found character varying(300)",
        "collation of vde_map_items.path: expected C, found the type's default",
    ]


async def test_nullability_and_identity_changes_are_named(
    vde_conn: asyncpg.Connection,
) -> None:
    sql = """ALTER TABLE vde_users ALTER COLUMN name SET NOT NULL;
             ALTER TABLE vde_base_items ALTER COLUMN id DROP IDENTITY"""
    assert await drift_after(vde_conn, sql) == [
        "identity of vde_base_items.id: expected BY DEFAULT, found none",
        "nullability of vde_users.name: expected NULL, found NOT NULL",
    ]


async def test_a_table_and_function_no_migration_made_are_named_by_any_name(
    vde_conn: asyncpg.Connection,
) -> None:
    sql = """CREATE TABLE vde_scratchpad (id integer);
             CREATE TABLE hexmap_extra (id integer);
             CREATE FUNCTION answer() RETURNS integer LANGUAGE sql
               AS 'SELECT 42'"""
    assert await drift_after(vde_conn, sql) == [
        "table hexmap_extra exists but no migration made it",
        "table vde_scratchpad exists but no migration made it",
        "function answer() exists but no migration made it",
    ]


async def test_views_sequences_and_types_no_migration_made_are_named(
    vde_conn: asyncpg.Connection,
) -> None:
    # A serial column's own sequence is its table's: named once, as the table.
    sql = """CREATE VIEW tile_titles AS SELECT title FROM vde_base_items;
             CREATE SEQUENCE ticket_numbers;
             CREATE TYPE mood AS ENUM ('sad', 'ok');
             CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 10);
             CREATE TABLE notes (id serial PRIMARY KEY)"""
    assert await drift_after(vde_conn, sql) == [
        "table notes exists but no migration made it",
        "domain short_text exists but no migration made it",
        "sequence ticket_numbers exists but no migration made it",
        "type mood exists but no migration made it",
        "view tile_titles exists but no migration made it",
    ]


async def test_a_view_dropped_by_hand_is_named(vde_conn: asyncpg.Connection) -> None:
    await vde_conn.execute(
        "CREATE VIEW tile_titles AS SELECT title FROM vde_base_items"
    )
    assert await drift_after(vde_conn, "DROP VIEW tile_titles") == [
        "missing view tile_titles"
    ]


async def test_unapplied_and_duplicated_migrations_are_named(
    vde_conn: asyncpg.Connection,
) -> None:
    first, second = await vde_conn.fetch(
        "SELECT app_name, name FROM migration ORDER BY id LIMIT 2"
    )
    sql = f"""DELETE FROM migration WHERE name = '{first["name"]}';
              INSERT INTO migration (app_name, name)
                VALUES ('{second["app_name"]}', '{second["name"]}')"""
    assert await drift_after(vde_conn, sql) == [
        f"migration {first['app_name']}/{first['name']} not applied",
        f"migration {second['app_name']}/{second['name']} recorded 2 times",
    ]


def test_unknown_migration_record_is_named() -> None:
    assert diff_migrations([("auth", "1")], [("auth", "1"), ("gone", "2")]) == [
        "migration gone/2 recorded, but no app defines it"
    ]


def test_set_option_added_to_a_function_is_named_apart_from_its_body() -> None:
    header = "CREATE OR REPLACE FUNCTION public.vde_f()\n RETURNS integer\n"
    body = " AS $function$SELECT 1$function$\n"
    expected = {"vde_f()": header + body}
    found = {"vde_f()": header + " SET work_mem TO '1MB'\n" + body}
    assert diff_functions(expected, found) == [
        "SET options of function vde_f(): expected none, found SET work_mem TO '1MB'"
    ]


def test_changed_function_body_names_the_first_changed_line() -> None:
    expected = {"vde_f()": "CREATE FUNCTION vde_f()\n AS $$\nSELECT 1\n$$"}
    found = {"vde_f()": "CREATE FUNCTION vde_f()\n AS $$\nSELECT 2\n$$"}
    assert diff_functions(expected, found) == [
        "definition of function vde_f(): expected a line 'SELECT 1',"
        " found 'SELECT 2'"
    ]


def test_missing_table_and_column_are_named() -> None:
    column = ColumnInfo("text", False, None, None, None)
    expected: Catalog = {
        "vde_a": TableInfo(columns={"id": column, "x": column}),
        "vde_b": TableInfo(columns={"id": column}),
    }
    found: Catalog = {"vde_a": TableInfo(columns={"id": column})}
    assert differences(Schema(expected), Schema(found)) == [
        "missing table vde_b",
        "missing column vde_a.x",
    ]


# Issue 13: what a column list does not show. Each test changes one thing.


async def test_disabled_tree_triggers_are_named(vde_conn: asyncpg.Connection) -> None:
    sql = "ALTER TABLE vde_map_items DISABLE TRIGGER USER"
    assert await drift_after(vde_conn, sql) == [
        "state of trigger vde_map_items_tree_insert on vde_map_items:"
        " expected enabled, found disabled",
        "state of trigger vde_map_items_tree_update on vde_map_items:"
        " expected enabled, found disabled",
    ]


async def test_grant_to_public_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = """GRANT SELECT ON vde_accounts TO PUBLIC;
             GRANT SELECT (token) ON vde_sessions TO PUBLIC"""
    assert await drift_after(vde_conn, sql) == [
        "privileges on table vde_accounts: extra grant PUBLIC SELECT",
        "privileges on table vde_sessions: extra grant (token) PUBLIC SELECT",
    ]


async def test_grants_beyond_the_app_roles_dml_are_named(
    vde_conn: asyncpg.Connection,
) -> None:
    role = f"vde_drift_{vde_conn.get_server_pid()}"
    await vde_conn.execute(f"CREATE ROLE {role}")
    try:
        # What `piccolo vde app_role` grants is expected; more is not.
        sql = f"""GRANT SELECT, INSERT, UPDATE, DELETE ON vde_users TO {role};
                  GRANT USAGE, SELECT ON SEQUENCE vde_base_items_id_seq TO {role};
                  GRANT TRUNCATE ON vde_users TO {role};
                  REVOKE DELETE ON vde_base_items FROM CURRENT_USER"""
        assert await drift_after(vde_conn, sql) == [
            "privileges on table vde_base_items: missing grant owner DELETE",
            f"privileges on table vde_users: extra grant {role} TRUNCATE",
        ]
    finally:
        await vde_conn.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


async def test_revoked_execute_on_a_function_is_named(
    vde_conn: asyncpg.Connection,
) -> None:
    sql = "REVOKE EXECUTE ON FUNCTION vde_map_items_tree_check() FROM PUBLIC"
    assert await drift_after(vde_conn, sql) == [
        "privileges on function vde_map_items_tree_check():"
        " missing grant PUBLIC EXECUTE"
    ]


async def test_rule_copying_tokens_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = """CREATE TABLE stolen (token text);
             CREATE RULE vde_steal AS ON INSERT TO vde_sessions
               DO ALSO INSERT INTO stolen VALUES (NEW.token)"""
    table, rule = await drift_after(vde_conn, sql)
    assert table == "table stolen exists but no migration made it"
    assert rule.startswith("extra rule vde_steal on vde_sessions: CREATE RULE")
    assert "INSERT INTO stolen (token)" in rule and "new.token" in rule


async def test_unlogged_table_is_named(vde_conn: asyncpg.Connection) -> None:
    sql = "ALTER TABLE vde_llm_job_results SET UNLOGGED"
    assert await drift_after(vde_conn, sql) == [
        "persistence of table vde_llm_job_results: expected logged, found UNLOGGED"
    ]


async def test_row_level_security_and_policy_are_named(
    vde_conn: asyncpg.Connection,
) -> None:
    sql = """ALTER TABLE vde_users ENABLE ROW LEVEL SECURITY;
             ALTER TABLE vde_accounts ENABLE ROW LEVEL SECURITY,
               FORCE ROW LEVEL SECURITY;
             ALTER TABLE vde_sessions FORCE ROW LEVEL SECURITY;
             CREATE POLICY vde_everyone ON vde_users USING (true)"""
    assert await drift_after(vde_conn, sql) == [
        "extra policy vde_everyone on vde_users: PERMISSIVE FOR ALL TO PUBLIC"
        " USING (true)",
        "row-level security of table vde_accounts: expected off, found on, forced",
        "row-level security of table vde_sessions: expected off, found off, forced",
        "row-level security of table vde_users: expected off, found on",
    ]


async def test_changed_function_body_is_named(vde_conn: asyncpg.Connection) -> None:
    definition = await vde_conn.fetchval(
        "SELECT pg_get_functiondef('vde_map_items_tree_check()'::regprocedure)"
    )
    assert "RAISE" in definition
    # A body that checks nothing any more.
    start, end = definition.index("AS $function$"), definition.rindex("$function$")
    sql = (
        definition[:start]
        + "AS $function$ BEGIN RETURN NULL; END $function$"
        + definition[end + len("$function$") :]
    ).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    lines = await drift_after(vde_conn, sql)
    assert len(lines) == 1
    assert lines[0].startswith("definition of function vde_map_items_tree_check()")


async def test_changed_function_set_option_is_named(
    vde_conn: asyncpg.Connection,
) -> None:
    # Whatever the migrations pin (enable_seqscan; search_path), this differs.
    sql = "ALTER FUNCTION vde_map_items_tree_check() SET search_path = pg_temp, public"
    lines = await drift_after(vde_conn, sql)
    assert len(lines) == 1
    assert lines[0].startswith(
        "SET options of function vde_map_items_tree_check(): expected "
    )
    found = lines[0].split(", found ", 1)[1]
    assert "SET search_path TO 'pg_temp', 'public'" in found.split("; ")
