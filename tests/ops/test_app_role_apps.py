"""``piccolo vde app_role --apps``: the tables of the apps named, no others.

The role's rights on the named apps' tables are what app_role gives; rights on
another app's tables are more than that, refused like any other unless forced.
A table of any name (a project's own) is granted and checked like vde's
(tests/test_downstream_project.py runs the command in such a project).
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import connect_as
from vde.auth.piccolo_app import APP_CONFIG as AUTH
from vde.ops.app_role_grants import AppRoleRefused, make_app_role, sql_names
from vde.ops.commands.app_role import app_role
from vde.ops.project_apps import registered_apps
from vde.testing import ScratchDatabase

AUTH_TABLES = {table._meta.tablename for table in AUTH.table_classes}


async def tables_with_dml(conn: asyncpg.Connection, role: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT table_name FROM information_schema.role_table_grants "
        "WHERE grantee = $1 AND privilege_type = 'DELETE'",
        role,
    )
    return {row["table_name"] for row in rows}


async def test_apps_grants_on_the_named_apps_tables_only(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await app_role(name=role, apps="auth")
    assert await tables_with_dml(vde_conn, role) == AUTH_TABLES
    assert "apps: auth" in capsys.readouterr().out.splitlines()


async def test_rights_on_an_app_left_out_are_refused_unless_forced(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await app_role(name=role)  # every registered app
    with pytest.raises(SystemExit) as refused:
        await app_role(name=role, apps="auth")
    assert "privileges on table vde_map_items" in str(refused.value.code)
    assert "vde_map_items" in await tables_with_dml(vde_conn, role)  # unchanged

    await app_role(name=role, apps="auth", force=True)
    assert await tables_with_dml(vde_conn, role) == AUTH_TABLES


async def test_an_unknown_app_is_refused_and_no_role_is_made(
    vde_conn: asyncpg.Connection, role: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        await app_role(name=role, apps="auth,hexmap")
    assert str(refused.value.code) == (
        "no app hexmap in piccolo_conf.py's APP_REGISTRY; "
        "its apps are auth, mapping, llm, vde"
    )
    assert not await vde_conn.fetchval(
        "SELECT true FROM pg_roles WHERE rolname = $1", role
    )


async def test_a_table_of_any_name_and_its_sequence_are_granted_and_checked(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    await vde_conn.execute(
        "CREATE TABLE hexmap_tile_tags (id serial PRIMARY KEY, tag text)"
    )
    tables = [*sql_names(registered_apps()[0].table_classes), '"hexmap_tile_tags"']
    lines = await make_app_role(vde_db.url, role, None, tables=tables)
    assert f"{role}: DML on 6 tables, USAGE on 1 sequences" in lines
    connection = await connect_as(vde_db, role)
    try:
        await connection.execute("INSERT INTO hexmap_tile_tags (tag) VALUES ('x')")
        assert await connection.fetchval("SELECT tag FROM hexmap_tile_tags") == "x"
        assert await connection.execute("DELETE FROM hexmap_tile_tags") == "DELETE 1"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("TRUNCATE hexmap_tile_tags")
    finally:
        await connection.close()


async def test_a_missing_table_is_refused_by_its_name_and_no_role_is_made(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    with pytest.raises(AppRoleRefused) as refused:
        await make_app_role(vde_db.url, role, None, tables=['"hexmap_tile_tags"'])
    assert str(refused.value) == (
        "tables missing: hexmap_tile_tags; run the migrations first"
    )
    assert not await vde_conn.fetchval(
        "SELECT true FROM pg_roles WHERE rolname = $1", role
    )
