"""``piccolo vde app_role`` sees what an existing role holds beside vde's tables.

Objects it owns, grants on other objects or on columns, default privileges and
settings it could not make itself are refused (or taken away with --force),
and the final check finds them too.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import connect_as
from vde.ops.commands.app_role import app_role
from vde.ops.role_rights import verify_dml_only
from vde.registry import vde_tables
from vde.testing import ScratchDatabase

TABLES = [table._meta.tablename for table in vde_tables()]

_ROLE = "(SELECT oid FROM pg_roles WHERE rolname = $1)"

# (statements that give it, what the refusal names, a query true while it has
# it, a query true afterwards too: what --force must not destroy).
HOLDINGS: dict[str, tuple[list[str], str, str, str | None]] = {
    "a setting it cannot SET": (
        ['ALTER ROLE "{role}" SET session_replication_role = replica'],
        "setting session_replication_role=replica",
        "SELECT EXISTS (SELECT FROM pg_db_role_setting, unnest(setconfig) c "
        f"WHERE setrole = {_ROLE} AND c LIKE 'session\\_replication\\_role=%')",
        None,
    ),
    "a setting in this database": (
        ['ALTER ROLE "{role}" IN DATABASE "{database}" SET lo_compat_privileges = on'],
        "setting lo_compat_privileges=on in database {database}",
        "SELECT EXISTS (SELECT FROM pg_db_role_setting "
        f"WHERE setrole = {_ROLE} AND setdatabase <> 0)",
        None,
    ),
    "a column of Piccolo's migration table": (
        ['GRANT UPDATE (name) ON migration TO "{role}"'],
        "privileges on column name of table migration",
        "SELECT has_column_privilege($1, 'migration', 'name', 'UPDATE')",
        None,
    ),
    "a column of a vde table": (
        ['GRANT REFERENCES (email) ON vde_users TO "{role}"'],
        "privileges on column email of table vde_users",
        "SELECT has_column_privilege($1, 'vde_users', 'email', 'REFERENCES')",
        None,
    ),
    "another table": (
        ['GRANT SELECT ON migration TO "{role}"'],
        "privileges on table migration",
        "SELECT has_table_privilege($1, 'migration', 'SELECT')",
        None,
    ),
    "a security definer function": (
        [
            "CREATE FUNCTION vde_test_definer() RETURNS int LANGUAGE sql "
            "SECURITY DEFINER AS 'SELECT 1'",
            "REVOKE EXECUTE ON FUNCTION vde_test_definer() FROM PUBLIC",
            'GRANT EXECUTE ON FUNCTION vde_test_definer() TO "{role}"',
        ],
        "privileges on function vde_test_definer()",
        "SELECT has_function_privilege($1, 'vde_test_definer()', 'EXECUTE')",
        "SELECT to_regprocedure('vde_test_definer()') IS NOT NULL",
    ),
    "a parameter": (
        ['GRANT SET ON PARAMETER lo_compat_privileges TO "{role}"'],
        "privileges on parameter lo_compat_privileges",
        "SELECT has_parameter_privilege($1, 'lo_compat_privileges', 'SET')",
        None,
    ),
    "an owned function": (
        [
            "CREATE FUNCTION vde_test_owned() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            'ALTER FUNCTION vde_test_owned() OWNER TO "{role}"',
        ],
        "ownership of function vde_test_owned()",
        "SELECT EXISTS (SELECT FROM pg_proc "
        f"WHERE proname = 'vde_test_owned' AND proowner = {_ROLE})",
        "SELECT to_regprocedure('vde_test_owned()') IS NOT NULL",
    ),
    "an owned large object": (
        ["SELECT lo_create(4242)", 'ALTER LARGE OBJECT 4242 OWNER TO "{role}"'],
        "ownership of large object 4242",
        "SELECT EXISTS (SELECT FROM pg_largeobject_metadata "
        f"WHERE oid = 4242 AND lomowner = {_ROLE})",
        "SELECT EXISTS (SELECT FROM pg_largeobject_metadata WHERE oid = 4242)",
    ),
    "an owned schema": (
        ['CREATE SCHEMA vde_test_owned AUTHORIZATION "{role}"'],
        "ownership of schema vde_test_owned",
        "SELECT EXISTS (SELECT FROM pg_namespace "
        f"WHERE nspname = 'vde_test_owned' AND nspowner = {_ROLE})",
        "SELECT to_regnamespace('vde_test_owned') IS NOT NULL",
    ),
    "default privileges that grant to it": (
        ['ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO "{role}"'],
        "default privileges on new relations belonging to role {me}, which grant to it",
        "SELECT EXISTS (SELECT FROM pg_default_acl, aclexplode(defaclacl) a "
        f"WHERE a.grantee = {_ROLE})",
        None,
    ),
    "default privileges of its own": (
        [
            'ALTER DEFAULT PRIVILEGES FOR ROLE "{role}" '
            "REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
        ],
        "default privileges on new functions belonging to role {role}",
        f"SELECT EXISTS (SELECT FROM pg_default_acl WHERE defaclrole = {_ROLE})",
        None,
    ),
}


@pytest.mark.parametrize("case", HOLDINGS)
async def test_app_role_refuses_what_an_existing_role_holds_unless_forced(
    vde_db: ScratchDatabase,
    vde_conn: asyncpg.Connection,
    role: str,
    case: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    statements, named, still_has, kept = HOLDINGS[case]
    me = await vde_conn.fetchval("SELECT current_user")
    names = {"role": role, "database": vde_db.name, "me": me}
    named = named.format(**names)
    await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN')
    for statement in statements:
        await vde_conn.execute(statement.format(**names))
    with pytest.raises(SystemExit) as refused:
        await app_role(name=role)
    assert f"{role} already exists with " in str(refused.value)
    assert named in str(refused.value)
    assert "--force" in str(refused.value)
    assert await vde_conn.fetchval(still_has, role)
    grants = (
        "SELECT count(*) FROM information_schema.role_table_grants "
        "WHERE grantee = $1 AND table_name LIKE 'vde\\_%'"
    )
    assert await vde_conn.fetchval(grants, role) == 0
    capsys.readouterr()

    await app_role(name=role, force=True)
    assert not await vde_conn.fetchval(still_has, role)
    if kept:
        assert await vde_conn.fetchval(kept)
    out = capsys.readouterr().out
    assert f"took away from {role}: {named} (--force)" in out
    assert f"verified {role}: owns nothing here, no grant on other objects" in out


async def test_app_role_resets_the_setting_that_let_it_skip_the_tree_check(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    # In replica mode no ordinary trigger fires: the role stored a misplaced tile.
    await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN')
    await vde_conn.execute(
        f'ALTER ROLE "{role}" SET session_replication_role = replica'
    )
    await app_role(name=role, force=True)
    base = await vde_conn.fetchval(
        "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (1, 't', 'c') RETURNING id"
    )
    root = await vde_conn.fetchval(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, ref_item_id) "
        "VALUES (1, '', 'user', $1) RETURNING id",
        base,
    )
    connection = await connect_as(vde_db, role)
    try:
        assert await connection.fetchval("SHOW session_replication_role") == "origin"
        with pytest.raises(asyncpg.exceptions.CheckViolationError) as caught:
            await connection.execute(
                "INSERT INTO vde_map_items "
                "(coord_user_id, path, item_type, parent_id, ref_item_id) "
                "VALUES (1, '1,2', 'base', $1, $2)",
                root,
                base,
            )
    finally:
        await connection.close()
    assert caught.value.constraint_name == "vde_map_items_tree_path"
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 1


async def test_app_role_keeps_and_prints_settings_the_role_could_make_itself(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN')
    await vde_conn.execute(f"ALTER ROLE \"{role}\" SET statement_timeout = '5s'")
    await app_role(name=role)
    assert "; keeps its own statement_timeout=5s" in capsys.readouterr().out
    assert await vde_conn.fetchval(
        "SELECT setconfig FROM pg_db_role_setting "
        "WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)",
        role,
    ) == ["statement_timeout=5s"]


async def test_app_role_accepts_and_names_the_roles_that_are_members_of_it(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # They share its DML rights; it gains nothing from them. (A non-superuser
    # that creates a role on PostgreSQL 16+ becomes such a member itself.)
    member = f"{role}_member"
    await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN')
    await vde_conn.execute(f'CREATE ROLE "{member}" IN ROLE "{role}"')
    try:
        await app_role(name=role)
        out = capsys.readouterr().out
        assert f"{role}'s rights are shared by its members {member}" in out
        assert await vde_conn.fetchval(
            "SELECT pg_has_role($1, $2, 'MEMBER')", member, role
        )
    finally:
        await vde_conn.execute(f'DROP ROLE "{member}"')


async def test_the_final_check_finds_what_the_role_holds(
    vde_conn: asyncpg.Connection, role: str
) -> None:
    await app_role(name=role)
    sequences = [
        row[0]
        for row in await vde_conn.fetch(
            "SELECT sequencename::text FROM pg_sequences "
            "WHERE sequencename LIKE 'vde\\_%'"
        )
    ]
    check = (vde_conn, role, TABLES, sequences, ["public"])
    assert (await verify_dml_only(*check))[1] == []
    await vde_conn.execute(f'GRANT UPDATE (name) ON migration TO "{role}"')
    await vde_conn.execute(
        f'ALTER ROLE "{role}" SET session_replication_role = replica'
    )
    await vde_conn.execute(
        "CREATE FUNCTION vde_test_owned() RETURNS int LANGUAGE sql AS 'SELECT 1'"
    )
    await vde_conn.execute(f'ALTER FUNCTION vde_test_owned() OWNER TO "{role}"')
    assert (await verify_dml_only(*check))[1] == [
        "has setting session_replication_role=replica",
        "has ownership of function vde_test_owned()",
        "has privileges on column name of table migration",
    ]
