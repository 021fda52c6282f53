"""``piccolo vde app_role``: a LOGIN role that can read and write rows, nothing else."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import asyncpg
import pytest

from tests.conftest import connect_as
from vde.ops.commands.app_role import app_role
from vde.ops.role_rights import ELEVATED_ATTRIBUTES
from vde.ops.scram import scram_sha256_verifier
from vde.registry import vde_tables
from vde.testing import ScratchDatabase

TABLES = [table._meta.tablename for table in vde_tables()]


async def test_app_role_twice_is_idempotent_and_grants_dml_only(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    await app_role(name=role)
    await app_role(name=role)

    attributes = await vde_conn.fetchrow(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
        "FROM pg_roles WHERE rolname = $1",
        role,
    )
    assert tuple(attributes) == (True, False, False, False, False)
    for table in TABLES:
        rights = await vde_conn.fetchrow(
            "SELECT "
            + ", ".join(
                f"has_table_privilege($1, $2, '{p}') AS {p}"
                for p in ("select", "insert", "update", "delete")
                + ("truncate", "references", "trigger")
            ),
            role,
            table,
        )
        assert tuple(rights) == (True, True, True, True, False, False, False), table
    assert not await vde_conn.fetchval(
        "SELECT has_schema_privilege($1, 'public', 'CREATE')", role
    )
    assert not await vde_conn.fetchval(
        "SELECT has_table_privilege($1, 'migration', 'SELECT')", role
    )
    owned = await vde_conn.fetchval(
        "SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) = $1", role
    )
    assert owned == 0
    # The grants are on the tables themselves, once each.
    grants = await vde_conn.fetchval(
        "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = $1",
        role,
    )
    assert grants == 4 * len(TABLES)


async def test_app_role_reads_and_writes_rows_identity_tables_included(
    vde_db: ScratchDatabase, role: str
) -> None:
    await app_role(name=role)
    connection = await connect_as(vde_db, role)
    try:
        await connection.execute(
            "INSERT INTO vde_users (id, email) VALUES ('u1', 'a@example.org')"
        )
        item_id = await connection.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (1, 't', 'c') RETURNING id"
        )
        await connection.execute(
            "INSERT INTO vde_map_items (coord_user_id, path, item_type, ref_item_id) "
            "VALUES (1, '', 'user', $1)",
            item_id,
        )
        await connection.execute(
            "UPDATE vde_base_items SET title = 'new' WHERE id = $1", item_id
        )
        assert (
            await connection.fetchval(
                "SELECT b.title FROM vde_map_items m "
                "JOIN vde_base_items b ON b.id = m.ref_item_id"
            )
            == "new"
        )
        await connection.execute("DELETE FROM vde_map_items")
        await connection.execute("DELETE FROM vde_base_items")
        await connection.execute("DELETE FROM vde_users")
        assert await connection.fetchval("SELECT count(*) FROM vde_users") == 0
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE vde_intruder (id integer)",
        "ALTER TABLE vde_users ADD COLUMN intruder integer",
        "DROP TABLE vde_llm_job_results",
        "TRUNCATE vde_users",
        "CREATE INDEX vde_intruder ON vde_users (name)",
    ],
)
async def test_app_role_cannot_change_the_schema(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str, statement: str
) -> None:
    await app_role(name=role)
    connection = await connect_as(vde_db, role)
    try:
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()
    columns = await vde_conn.fetchval(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'vde_users' AND column_name = 'intruder'"
    )
    assert columns == 0
    assert await vde_conn.fetchval("SELECT to_regclass('vde_llm_job_results')")


async def test_app_role_update_takes_back_table_rights_granted_by_hand(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await app_role(name=role)
    await vde_conn.execute(f'GRANT TRUNCATE ON vde_users TO "{role}"')
    capsys.readouterr()
    await app_role(name=role)
    assert not await vde_conn.fetchval(
        "SELECT has_table_privilege($1, 'vde_users', 'TRUNCATE')", role
    )
    out = capsys.readouterr().out
    assert f"updated role {role}" in out
    assert "alterd" not in out


# An existing role with more than DML: (how it got it, what the refusal names,
# a query that is true while it still has it).
ELEVATED = {
    **{
        keyword: (
            f'ALTER ROLE "{{role}}" {keyword}',
            keyword,
            f"SELECT {column} FROM pg_roles WHERE rolname = $1",
        )
        for column, keyword in ELEVATED_ATTRIBUTES.items()
    },
    "member of pg_read_all_data": (
        'GRANT pg_read_all_data TO "{role}"',
        "membership in pg_read_all_data",
        "SELECT pg_has_role($1, 'pg_read_all_data', 'MEMBER')",
    ),
    "CREATE on the database": (
        'GRANT CREATE ON DATABASE "{database}" TO "{role}"',
        "CREATE on this database",
        "SELECT has_database_privilege($1, current_database(), 'CREATE')",
    ),
    "CREATE on a schema": (
        'GRANT CREATE ON SCHEMA public TO "{role}"',
        "CREATE on schema public",
        "SELECT has_schema_privilege($1, 'public', 'CREATE')",
    ),
}


@pytest.mark.parametrize("case", ELEVATED)
async def test_app_role_refuses_an_existing_role_with_more_rights_unless_forced(
    vde_db: ScratchDatabase,
    vde_conn: asyncpg.Connection,
    role: str,
    case: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grant, named, still_has = ELEVATED[case]
    await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN')
    await vde_conn.execute(grant.format(role=role, database=vde_db.name))
    with pytest.raises(SystemExit) as refused:
        await app_role(name=role)
    assert f"{role} already exists with {named}" in str(refused.value)
    assert "--force" in str(refused.value)
    # Nothing was changed: neither taken away nor granted.
    assert await vde_conn.fetchval(still_has, role)
    grants = (
        "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = $1"
    )
    assert await vde_conn.fetchval(grants, role) == 0
    capsys.readouterr()

    await app_role(name=role, force=True)
    assert not await vde_conn.fetchval(still_has, role)
    out = capsys.readouterr().out
    assert f"took away from {role}: {named} (--force)" in out
    assert f"verified {role}: LOGIN, no SUPERUSER" in out


async def test_app_role_prints_the_effective_rights_it_verified(
    vde_db: ScratchDatabase, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await app_role(name=role)
    lines = capsys.readouterr().out.splitlines()
    sequences = await vde_db.engine.pool.fetchval(
        "SELECT count(*) FROM pg_sequences WHERE sequencename LIKE 'vde\\_%'"
    )
    assert sequences == 5  # four identity ids and the map owner ids
    assert f"created role {role}" in lines
    verified = [line for line in lines if line.startswith(f"verified {role}: ")]
    assert verified == [
        f"verified {role}: SELECT, INSERT, UPDATE, DELETE and no TRUNCATE, "
        f"REFERENCES, TRIGGER on {len(TABLES)} tables",
        f"verified {role}: USAGE, SELECT and no UPDATE on {sequences} sequences",
        f"verified {role}: CONNECT and no CREATE on database {vde_db.name}, "
        "no CREATE in any of its 1 schemas, USAGE on public",
        f"verified {role}: LOGIN, no SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, "
        "BYPASSRLS, member of no role",
        f"verified {role}: owns nothing here, no grant on other objects or on "
        "columns, no default privileges, no setting it could not SET itself",
    ]


async def test_two_app_role_runs_on_a_new_name_at_once_both_succeed(
    vde_conn: asyncpg.Connection, role: str
) -> None:
    # Both used to find no role and CREATE it; the second failed on the name.
    await asyncio.gather(app_role(name=role), app_role(name=role))
    assert await vde_conn.fetchval(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role
    )
    assert await vde_conn.fetchval(
        "SELECT has_table_privilege($1, 'vde_users', 'DELETE')", role
    )


class RecordingConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that keeps every statement and argument it sends."""

    sent: list[str] = []

    async def _execute(self, query: str, args: Any, *rest: Any, **kw: Any) -> Any:
        RecordingConnection.sent += [query, *map(str, args)]
        return await super()._execute(query, args, *rest, **kw)

    async def execute(self, query: str, *args: Any, **kw: Any) -> Any:
        RecordingConnection.sent += [query, *map(str, args)]
        return await super().execute(query, *args, **kw)


async def test_app_role_sends_a_scram_verifier_never_the_password(
    vde_conn: asyncpg.Connection, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "correct horse battery staple 42"
    RecordingConnection.sent = []
    connect = asyncpg.connect  # vde passes a connection class of its own: replaced
    monkeypatch.setattr(
        asyncpg,
        "connect",
        lambda *args, **kwargs: connect(
            *args, **{**kwargs, "connection_class": RecordingConnection}
        ),
    )
    monkeypatch.setenv("VDE_APP_PASSWORD", password)
    await app_role(name=role)
    assert RecordingConnection.sent
    assert not [text for text in RecordingConnection.sent if password in text]
    stored = await vde_conn.fetchval(
        "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
    )
    assert any(stored in text for text in RecordingConnection.sent)
    # The verifier checks the password: PostgreSQL's own computation with this
    # salt gives the same keys (tests/ops/test_scram.py), so the login works.
    iterations, salt = stored.split("$")[1].split(":")
    assert stored == scram_sha256_verifier(
        password, base64.b64decode(salt), int(iterations)
    )
    assert stored != scram_sha256_verifier("another password", base64.b64decode(salt))


async def test_app_role_password_is_set_and_kept_when_not_given(
    vde_conn: asyncpg.Connection, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VDE_APP_PASSWORD", raising=False)
    await app_role(name=role)
    query = "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = $1"
    assert not await vde_conn.fetchval(query, role)
    monkeypatch.setenv("VDE_APP_PASSWORD", "s3cret'; DROP TABLE vde_users; --")
    await app_role(name=role)
    assert await vde_conn.fetchval(query, role)
    monkeypatch.delenv("VDE_APP_PASSWORD")
    await app_role(name=role)
    assert await vde_conn.fetchval(query, role)
    assert await vde_conn.fetchval("SELECT to_regclass('vde_users')")


async def test_app_role_refuses_the_role_running_it(
    vde_conn: asyncpg.Connection,
) -> None:
    me = await vde_conn.fetchval("SELECT current_user")
    with pytest.raises(SystemExit, match="choose another name"):
        await app_role(name=me)


async def test_app_role_takes_create_on_public_from_public_as_pg15_does(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A database carried over from PostgreSQL 14 or older still has this grant;
    # it would let every role, the application's too, create tables.
    await vde_conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    await app_role(name=role)
    assert "revoked CREATE on schema public from PUBLIC" in capsys.readouterr().out
    assert not await vde_conn.fetchval(
        "SELECT has_schema_privilege($1, 'public', 'CREATE')", role
    )


async def test_app_role_temp_table_cannot_shadow_the_tree_check(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    # Before the tree check pinned its search_path, this TEMP table (pg_temp
    # comes first on the default path) gave the check a fake parent one level
    # deeper than the real one, and the misplaced tile was committed.
    await app_role(name=role)
    base = await vde_conn.fetchval(
        "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (1, 't', 'c') RETURNING id"
    )
    root = await vde_conn.fetchval(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, ref_item_id) "
        "VALUES (1, '', 'user', $1) RETURNING id",
        base,
    )
    before = await vde_conn.fetch("SELECT * FROM vde_map_items ORDER BY id")
    connection = await connect_as(vde_db, role)
    try:
        await connection.execute(
            "CREATE TEMP TABLE vde_map_items "
            "(id bigint, coord_user_id bigint, coord_group_id bigint, path text)"
        )
        await connection.execute(
            "INSERT INTO pg_temp.vde_map_items VALUES ($1, 1, 0, '1')", root
        )
        with pytest.raises(asyncpg.PostgresError) as caught:
            await connection.execute(
                "INSERT INTO public.vde_map_items "
                "(coord_user_id, path, item_type, parent_id, ref_item_id) "
                "VALUES (1, '1,2', 'base', $1, $2)",
                root,
                base,
            )
    finally:
        await connection.close()
    assert type(caught.value) is asyncpg.exceptions.CheckViolationError
    assert caught.value.constraint_name == "vde_map_items_tree_path"
    assert await vde_conn.fetch("SELECT * FROM vde_map_items ORDER BY id") == before


async def test_app_role_refuses_a_member_of_the_tables_owner_unless_forced(
    vde_conn: asyncpg.Connection, role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a member of the owner's role it could TRUNCATE and DROP vde_users,
    # whatever app_role granted or revoked on the table itself.
    owner = f"{role}_owner"
    await vde_conn.execute(f'CREATE ROLE "{owner}"')
    try:
        await vde_conn.execute(f'ALTER TABLE vde_users OWNER TO "{owner}"')
        await vde_conn.execute(f'CREATE ROLE "{role}" LOGIN IN ROLE "{owner}"')
        truncate = "SELECT has_table_privilege($1, 'vde_users', 'TRUNCATE')"
        assert await vde_conn.fetchval(truncate, role)
        with pytest.raises(SystemExit, match=f"membership in {owner}"):
            await app_role(name=role)
        assert await vde_conn.fetchval(truncate, role)
        await app_role(name=role, force=True)
        assert not await vde_conn.fetchval(truncate, role)
        assert not await vde_conn.fetchval(
            "SELECT pg_has_role($1, $2, 'MEMBER')", role, owner
        )
        assert (
            f"took away from {role}: membership in {owner}" in capsys.readouterr().out
        )
    finally:
        await vde_conn.execute("ALTER TABLE vde_users OWNER TO CURRENT_USER")
        await vde_conn.execute(f'DROP OWNED BY "{owner}"')
        await vde_conn.execute(f'DROP ROLE "{owner}"')
