"""The drift comparison names each hand-made change to a migrated database.

Each test reads a freshly migrated copy (the expected schema), changes it by
hand as an operator might, reads it again and checks the exact report.
"""

from __future__ import annotations

import asyncpg

from vde.ops.catalog import Catalog, ColumnInfo, TableInfo
from vde.ops.commands.drift import read_schema, reference_schema
from vde.ops.drift import Schema, diff_functions, diff_migrations, differences
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
    # What an auto-migration changing path's length would do (piccolo-notes 20).
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


async def test_extra_table_and_function_are_named(vde_conn: asyncpg.Connection) -> None:
    sql = """CREATE TABLE vde_scratchpad (id integer);
             CREATE FUNCTION vde_answer() RETURNS integer LANGUAGE sql
               AS 'SELECT 42'"""
    assert await drift_after(vde_conn, sql) == [
        "extra table vde_scratchpad",
        "extra function vde_answer()",
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
