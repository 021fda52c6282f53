"""A user's auth rows and back, from Python, with no secret selected (one test each)."""

import datetime

import pytest

from vde.auth.relations import accounts_of, api_keys_of, sessions_of
from vde.auth.tables import Account, ApiKey, Session, User

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
SECRET_VALUES = {"PASSWORD-HASH", "ACCESS", "REFRESH", "ID-TOKEN", "SESSION-TOKEN",
                 "KEY-HASH"}


@pytest.fixture
async def users(vde_db) -> None:
    """Ada (u1) with two of each, Bob (u2) with one of each."""
    await User.insert(User(id="u1", email="ada@example.com"),
                      User(id="u2", email="bob@example.com")).run()
    for n, user in enumerate(["u1", "u1", "u2"]):
        await Account.insert(Account(
            id=f"a{n}", user=user, account_id=f"gh-{n}", provider_id="github",
            password="PASSWORD-HASH", access_token="ACCESS", refresh_token="REFRESH",
            id_token="ID-TOKEN")).run()
        await Session.insert(Session(id=f"s{n}", user=user, expires_at=LATER,
                                     token=f"SESSION-TOKEN-{n}")).run()
        await ApiKey.insert(ApiKey(id=f"k{n}", user=user, key=f"KEY-HASH-{n}")).run()


def assert_no_secret(rows):
    assert rows
    text = repr(rows)
    assert not any(secret in text for secret in SECRET_VALUES)


async def test_user_to_accounts_without_secrets(users):
    rows = await accounts_of("u1").order_by(Account.id)
    assert [r["id"] for r in rows] == ["a0", "a1"]
    assert_no_secret(rows)


async def test_user_to_sessions_without_tokens(users):
    rows = await sessions_of("u1").order_by(Session.id)
    assert [r["id"] for r in rows] == ["s0", "s1"]
    assert_no_secret(rows)


async def test_user_to_api_keys_without_hashes(users):
    rows = await api_keys_of("u2")
    assert [r["id"] for r in rows] == ["k2"]
    assert_no_secret(rows)


@pytest.mark.parametrize(
    ("table", "row_id"), [(Account, "a2"), (Session, "s2"), (ApiKey, "k2")],
    ids=["account", "session", "api_key"],
)
async def test_credential_row_to_its_user(users, table, row_id):
    row = await table.select(table.user.email).where(table.id == row_id).first()
    assert row == {"user_id.email": "bob@example.com"}
    # and the other way round: rows found by their user's e-mail
    ids = await table.select(table.id).where(table.user.email == "bob@example.com")
    assert ids == [{"id": row_id}]
