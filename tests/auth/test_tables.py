"""The auth tables refuse what the spec says they must, and act as it says.

Rows are written with raw SQL (the ``insert`` fixture) so that the database, not
Python, is what refuses; a few tests go through Piccolo to show its errors are
the same asyncpg ones.
"""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import (
    ForeignKeyViolationError,
    NotNullViolationError,
    UniqueViolationError,
)
from piccolo.table import Table

from vde.auth.tables import Account, ApiKey, Session, User, VerificationToken
from vde.ops.catalog import read_catalog

Row = dict[str, Any]

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
PAST = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)

#: The smallest valid row of each table: exactly its columns that are NOT NULL
#: without a default (the ``user`` fixture provides user 'u1').
MINIMAL: dict[str, Row] = {
    "vde_users": {"id": "u2", "email": "grace@example.com"},
    "vde_accounts": {
        "id": "a2", "user_id": "u1", "account_id": "ada", "provider_id": "credential"
    },
    "vde_sessions": {"id": "s2", "user_id": "u1", "token": "t2", "expires_at": LATER},
    "vde_verification_tokens": {
        "id": "v2", "identifier": "ada@example.com", "value": "x2", "expires_at": LATER
    },
    "vde_api_keys": {"id": "k2", "key": "h2", "user_id": "u1"},
}

REQUIRED = [(table, column) for table, row in MINIMAL.items() for column in row]


async def test_minimal_rows_list_every_required_column(vde_conn: asyncpg.Connection):
    catalog = await read_catalog(vde_conn)
    for table, row in MINIMAL.items():
        required = {
            name
            for name, column in catalog[table].columns.items()
            if not column.nullable and column.default is None and not column.identity
        }
        assert set(row) == required, table


@pytest.mark.parametrize(("table", "column"), REQUIRED, ids="{0[0]}.{0[1]}".format)
async def test_missing_required_value_is_rejected(
    table: str, column: str, user: Row, insert_sql: Any, rejects: Any
):
    row = {name: value for name, value in MINIMAL[table].items() if name != column}
    await rejects(
        insert_sql(table, row),
        *row.values(),
        error=NotNullViolationError,
        constraint=None,
        column=column,
        tables=table,
    )


@pytest.mark.parametrize("table", MINIMAL)
async def test_minimal_row_goes_in(table: str, user: Row, insert: Any):
    row = await insert(table, **MINIMAL[table])
    assert {name: row[name] for name in MINIMAL[table]} == MINIMAL[table]


async def test_second_user_with_same_email_is_rejected(user: Row, rejects: Any):
    await rejects(
        "INSERT INTO vde_users (id, email) VALUES ('u2', $1)",
        user["email"],
        error=UniqueViolationError,
        constraint="vde_users_email_key",
        tables="vde_users",
    )


async def test_second_user_with_same_email_is_rejected_through_piccolo(
    user: Row, rejects: Any
):
    await rejects(
        lambda: User.insert(User(id="u2", email=user["email"])).run(),
        error=UniqueViolationError,
        constraint="vde_users_email_key",
        tables="vde_users",
    )


async def test_email_goes_to_another_user_once_the_first_changed_it(
    user: Row, insert: Any, vde_conn: asyncpg.Connection
):
    await vde_conn.execute("UPDATE vde_users SET email = 'ada@new.example'")
    second = await insert("vde_users", id="u2", email=user["email"])
    assert second["email"] == "ada@example.com"


async def test_duplicate_session_token_is_rejected(credentials: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_sessions (id, user_id, token, expires_at)"
        " VALUES ('s2', 'u1', 't1', $1)",
        LATER,
        error=UniqueViolationError,
        constraint="vde_sessions_token_key",
        tables="vde_sessions",
    )


async def test_second_session_with_its_own_token_goes_in(
    credentials: Any, insert: Any, vde_conn: asyncpg.Connection
):
    await insert("vde_sessions", id="s2", user_id="u1", token="t2", expires_at=LATER)
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_sessions") == 2


async def test_verification_value_may_repeat(
    insert: Any, vde_conn: asyncpg.Connection
):
    """better-auth's two open reset requests of one user: the user id twice."""
    for n in (1, 2):
        await insert(
            "vde_verification_tokens", id=f"v{n}",
            identifier=f"reset-password:token-{n}", value="u1", expires_at=LATER,
        )
    values = await vde_conn.fetch("SELECT value FROM vde_verification_tokens")
    assert [row["value"] for row in values] == ["u1", "u1"]


async def test_same_identifier_with_distinct_values_goes_in(
    insert: Any, vde_conn: asyncpg.Connection
):
    for n in (1, 2):
        await insert(
            "vde_verification_tokens", id=f"v{n}", identifier="a@x", value=f"x{n}",
            expires_at=LATER,
        )
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_verification_tokens") == 2


async def test_duplicate_api_key_is_rejected(credentials: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_api_keys (id, user_id, key) VALUES ('k2', 'u1', 'h1')",
        error=UniqueViolationError,
        constraint="vde_api_keys_key_key",
        tables="vde_api_keys",
    )


async def test_second_api_key_with_its_own_hash_goes_in(
    credentials: Any, insert: Any, vde_conn: asyncpg.Connection
):
    await insert("vde_api_keys", id="k2", user_id="u1", key="h2")
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_api_keys") == 2


async def test_provider_identity_of_another_user_is_rejected(
    credentials: Any, insert: Any, rejects: Any
):
    await insert("vde_users", id="u2", email="grace@example.com")
    await rejects(
        "INSERT INTO vde_accounts (id, user_id, account_id, provider_id)"
        " VALUES ('a2', 'u2', 'gh-1', 'github')",
        error=UniqueViolationError,
        constraint="vde_accounts_provider_account_unique",
        tables="vde_accounts",
    )


@pytest.mark.parametrize(
    ("user_id", "account_id", "provider_id"),
    [("u1", "gh-1", "gitlab"), ("u1", "gh-2", "github"), ("u2", "gh-1", "credential")],
)
async def test_other_provider_identities_go_in(
    user_id: str, account_id: str, provider_id: str,
    credentials: Any, insert: Any, vde_conn: asyncpg.Connection,
):
    await insert("vde_users", id="u2", email="grace@example.com")
    await insert(
        "vde_accounts", id="a2", user_id=user_id, account_id=account_id,
        provider_id=provider_id,
    )
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_accounts") == 2


@pytest.mark.parametrize("table", ["vde_accounts", "vde_sessions", "vde_api_keys"])
async def test_row_of_unknown_user_is_rejected(
    table: str, user: Row, insert_sql: Any, rejects: Any
):
    row = {**MINIMAL[table], "user_id": "nobody"}
    await rejects(
        insert_sql(table, row),
        *row.values(),
        error=ForeignKeyViolationError,
        constraint=f"{table}_user_id_fkey",
        tables=table,
    )


async def test_deleting_user_removes_accounts_sessions_and_api_keys(
    credentials: dict[str, Row], insert: Any, vde_conn: asyncpg.Connection
):
    await insert("vde_users", id="u2", email="grace@example.com")
    await insert("vde_api_keys", id="k2", user_id="u2", key="h2")
    await insert(
        "vde_verification_tokens", id="v1", identifier="ada@example.com", value="x1",
        expires_at=LATER,
    )

    await vde_conn.execute("DELETE FROM vde_users WHERE id = 'u1'")

    for table in credentials:
        left = f"SELECT count(*) FROM {table} WHERE user_id = 'u1'"
        assert await vde_conn.fetchval(left) == 0, table
    # Rows of other users, and tokens (no foreign key: keyed by address), stay.
    assert await vde_conn.fetchval("SELECT array_agg(id) FROM vde_users") == ["u2"]
    assert await vde_conn.fetchval("SELECT array_agg(id) FROM vde_api_keys") == ["k2"]
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_verification_tokens") == 1


async def test_user_defaults(insert: Any, vde_conn: asyncpg.Connection):
    async with vde_conn.transaction():
        row = await insert("vde_users", **MINIMAL["vde_users"])
        now = await vde_conn.fetchval("SELECT now()")
    assert row["email_verified"] is False
    assert row["name"] is None and row["image"] is None
    assert row["created_at"] == row["updated_at"] == now


async def test_api_key_defaults(user: Row, insert: Any, vde_conn: asyncpg.Connection):
    async with vde_conn.transaction():
        row = await insert("vde_api_keys", **MINIMAL["vde_api_keys"])
        now = await vde_conn.fetchval("SELECT now()")
    assert row["enabled"] is True
    assert row["rate_limit_enabled"] is True
    assert row["rate_limit_time_window"] == 86_400_000
    assert row["rate_limit_max"] == 10
    assert row["request_count"] == 0
    assert row["config_id"] == "default"
    assert row["created_at"] == row["updated_at"] == now


async def test_api_key_takes_a_30_day_refill_interval_in_milliseconds(
    user: Row, insert: Any
):
    """Past integer's range: why refill_interval is bigint (issue 9)."""
    row = await insert(
        "vde_api_keys", **MINIMAL["vde_api_keys"], refill_interval=2_592_000_000,
        rate_limit_time_window=2_592_000_000,
    )
    assert row["refill_interval"] == row["rate_limit_time_window"] == 2_592_000_000


@pytest.mark.parametrize("table", MINIMAL)
async def test_created_at_and_updated_at_default_to_now(
    table: str, user: Row, insert: Any, vde_conn: asyncpg.Connection
):
    async with vde_conn.transaction():
        row = await insert(table, **MINIMAL[table])
        now = await vde_conn.fetchval("SELECT now()")
    assert row["created_at"] == row["updated_at"] == now


async def _age(conn: asyncpg.Connection, table: str) -> None:
    """Put every row's timestamps in the past, so a bump is visible without sleeping."""
    await conn.execute(f"UPDATE {table} SET created_at = $1, updated_at = $1", PAST)


async def _stamps(conn: asyncpg.Connection, table: str, id_: str) -> Row:
    row = await conn.fetchrow(
        f"SELECT created_at, updated_at FROM {table} WHERE id = $1", id_
    )
    assert row is not None
    return dict(row)


@pytest.mark.parametrize(
    ("table_class", "column", "value"),
    [
        (User, User.name, "Ada"),
        (Account, Account.scope, "repo"),
        (Session, Session.user_agent, "curl"),
        (VerificationToken, VerificationToken.identifier, "new@example.com"),
        (ApiKey, ApiKey.name, "ci"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
async def test_update_through_piccolo_bumps_updated_at(
    table_class: type[Table], column: Any, value: str,
    user: Row, insert: Any, vde_conn: asyncpg.Connection,
):
    table = table_class._meta.tablename
    row = await insert(table, **MINIMAL[table])
    await _age(vde_conn, table)

    pk = table_class._meta.primary_key
    await table_class.update({column: value}).where(pk == row["id"]).run()

    stamps = await _stamps(vde_conn, table, row["id"])
    assert stamps["updated_at"] > PAST
    assert stamps["created_at"] == PAST


@pytest.mark.parametrize("columns", [None, [User.name]], ids=["all", "name"])
async def test_save_through_piccolo_bumps_updated_at(
    columns: Any, user: Row, vde_conn: asyncpg.Connection
):
    await _age(vde_conn, "vde_users")
    ada = await User.objects().get(User.id == user["id"]).run()
    assert ada is not None
    ada.name = "Ada"
    await ada.save(columns=columns).run()

    stamps = await _stamps(vde_conn, "vde_users", user["id"])
    assert stamps["updated_at"] > PAST
    assert stamps["created_at"] == PAST
    assert await vde_conn.fetchval("SELECT name FROM vde_users") == "Ada"
