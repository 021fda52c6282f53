from __future__ import annotations

import datetime
from typing import Any

import pytest
import pytest_asyncio

from tests.typed_rows import by_column
from vde.auth import queries as typed_queries
from vde.auth.models import ApiKeyRead, SessionRead
from vde.testing.plans import explain, indexes_used, loaded_database, nodes, seq_scanned

#: The helpers' typed rows, checked, then read as dicts by column name.
queries = by_column(typed_queries, ApiKeyRead, SessionRead)

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
EARLIER = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)

#: Every vde_api_keys column but ``key`` (the hash), in table order.
API_KEY_COLUMNS = [
    "id",
    "name",
    "start",
    "prefix",
    "user_id",
    "refill_interval",
    "refill_amount",
    "last_refill_at",
    "enabled",
    "rate_limit_enabled",
    "rate_limit_time_window",
    "rate_limit_max",
    "request_count",
    "remaining",
    "last_request",
    "expires_at",
    "created_at",
    "updated_at",
    "permissions",
    "metadata",
    "config_id",
]
#: Every vde_sessions column but ``token``.
SESSION_COLUMNS = [
    "id",
    "user_id",
    "expires_at",
    "ip_address",
    "user_agent",
    "created_at",
    "updated_at",
]


async def _users(conn: Any, *ids: str) -> None:
    for user_id in ids:
        await conn.execute(
            "INSERT INTO vde_users (id, email) VALUES ($1, $2)",
            user_id,
            f"{user_id}@example.com",
        )


async def test_api_key_by_hash_returns_the_key_row_without_the_hash(vde_conn):
    await _users(vde_conn, "u1", "u2")
    await vde_conn.execute(
        "INSERT INTO vde_api_keys (id, name, start, prefix, key, user_id, remaining,"
        " expires_at, permissions, created_at, updated_at)"
        " VALUES ('k1', 'ci', 'vde_ab', 'vde_', 'hash-1', 'u1', 5, $1,"
        ' \'{"map":["read"]}\', $2, $2)',
        LATER,
        EARLIER,
    )
    await vde_conn.execute(
        "INSERT INTO vde_api_keys (id, key, user_id) VALUES ('k2', 'hash-2', 'u2')"
    )
    row = await queries.api_key_by_hash(vde_conn, "hash-1")
    assert row is not None
    assert list(row.keys()) == API_KEY_COLUMNS
    assert dict(row) == {
        "id": "k1",
        "name": "ci",
        "start": "vde_ab",
        "prefix": "vde_",
        "user_id": "u1",
        "refill_interval": None,
        "refill_amount": None,
        "last_refill_at": None,
        "enabled": True,
        "rate_limit_enabled": True,
        "rate_limit_time_window": 86_400_000,
        "rate_limit_max": 10,
        "request_count": 0,
        "remaining": 5,
        "last_request": None,
        "expires_at": LATER,
        "created_at": EARLIER,
        "updated_at": EARLIER,
        "permissions": '{"map":["read"]}',
        "metadata": None,
        "config_id": "default",
    }
    assert "hash-1" not in [str(value) for value in row.values()]
    other = await queries.api_key_by_hash(vde_conn, "hash-2")
    assert other is not None and other["id"] == "k2"
    assert await queries.api_key_by_hash(vde_conn, "hash-3") is None
    # The presented key, not its hash, finds nothing: the caller hashes first.
    assert await queries.api_key_by_hash(vde_conn, "vde_ab") is None


async def test_session_by_token_returns_the_session_without_the_token(vde_conn):
    await _users(vde_conn, "u1")
    for session_id, token, expires in (("s1", "t-1", LATER), ("s2", "t-2", EARLIER)):
        await vde_conn.execute(
            "INSERT INTO vde_sessions (id, user_id, token, expires_at, ip_address,"
            " user_agent, created_at, updated_at)"
            " VALUES ($1, 'u1', $2, $3, '10.0.0.1', 'curl/8', $4, $4)",
            session_id,
            token,
            expires,
            EARLIER,
        )
    row = await queries.session_by_token(vde_conn, "t-1")
    assert row is not None
    assert list(row.keys()) == SESSION_COLUMNS
    assert dict(row) == {
        "id": "s1",
        "user_id": "u1",
        "expires_at": LATER,
        "ip_address": "10.0.0.1",
        "user_agent": "curl/8",
        "created_at": EARLIER,
        "updated_at": EARLIER,
    }
    assert "t-1" not in [str(value) for value in row.values()]
    expired = await queries.session_by_token(vde_conn, "t-2")
    assert expired is not None
    assert (expired["id"], expired["expires_at"]) == ("s2", EARLIER)
    assert await queries.session_by_token(vde_conn, "t-3") is None


# -- Plans on 20,000 sessions and 20,000 api keys -----------------------------

#: 2,000 users with 10 sessions and 10 api keys each.
SIGN_IN_SQL = """
INSERT INTO vde_users (id, email)
SELECT 'u' || g, 'u' || g || '@example.com' FROM generate_series(1, 2000) g;

INSERT INTO vde_sessions (id, user_id, token, expires_at)
SELECT 's' || g, 'u' || (g % 2000 + 1), md5('token ' || g),
       now() + g * interval '1 minute'
FROM generate_series(1, 20000) g;

INSERT INTO vde_api_keys (id, user_id, key, start)
SELECT 'k' || g, 'u' || (g % 2000 + 1), md5('key ' || g), 'vde_' || g
FROM generate_series(1, 20000) g;
"""

WATCHED = {"vde_sessions", "vde_api_keys"}

PLAN_CASES = {
    "api_key_by_hash": (queries.API_KEY_BY_HASH_SQL, "key", "vde_api_keys_key_key"),
    "session_by_token": (
        queries.SESSION_BY_TOKEN_SQL,
        "token",
        "vde_sessions_token_key",
    ),
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sign_ins(vde_template):
    async with loaded_database(vde_template, SIGN_IN_SQL) as conn:
        assert await conn.fetchval("SELECT count(*) FROM vde_sessions") == 20_000
        assert await conn.fetchval("SELECT count(*) FROM vde_api_keys") == 20_000
        yield conn


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", list(PLAN_CASES))
async def test_lookup_plan_is_one_unique_index_probe(sign_ins, case, generic):
    sql, secret, index = PLAN_CASES[case]
    value = await _a_secret(sign_ins, secret)
    plan = await explain(sign_ins, sql, value, generic=generic)
    assert seq_scanned(plan) & WATCHED == set(), plan
    assert indexes_used(plan) == {index}, plan
    conditions = " ".join(node.get("Index Cond", "") for node in nodes(plan))
    assert ("$1" in conditions) is generic, conditions


async def _a_secret(conn: Any, column: str) -> str:
    """The stored key hash or token of row 1234 of its table."""
    table, row_id = (
        ("vde_api_keys", "k1234") if column == "key" else ("vde_sessions", "s1234")
    )
    value = await conn.fetchval(f"SELECT {column} FROM {table} WHERE id = $1", row_id)
    assert isinstance(value, str)
    return value
