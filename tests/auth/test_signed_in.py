"""``signed_in``: the user, session and owner id of a request, or None.

Rows are written with Piccolo's tables; the cookie is signed here with
``sign_session_token`` (tests/interop/test_signed_in.py checks it against the
one better-auth sets). The lookup is one query on unique indexes, under custom
and generic plans alike.
"""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from vde.auth.session_tokens import session_cookie_name, sign_session_token
from vde.auth.signed_in import (
    OWNER_ID_SQL,
    SIGNED_IN_SQL,
    SignedIn,
    owner_id_of,
    signed_in,
    signed_in_by_token,
)
from vde.auth.tables import Session, User
from vde.errors import InvalidArgumentError, InvalidArgumentTypeError
from vde.mapping import mapping_user_id_for
from vde.mapping.tables import UserMapping
from vde.testing import ScratchDatabase
from vde.testing.plans import explain, indexes_used, loaded_database, seq_scanned

SECRET = "a-test-secret-of-32-characters-x"
TOKEN = "Yq3kT0pWm8ZrB2cXv7nL5sD1fH9gJ4aE"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def _sign_in(
    user_id: str = "u1", token: str = TOKEN, expires_in: float = 3600
) -> None:
    if not await User.exists().where(User.id == user_id):
        await User.insert(User(id=user_id, email=f"{user_id}@example.com", name="Ada"))
    await Session.insert(
        Session(
            id=f"s-{token[:8]}",
            user=user_id,
            token=token,
            expires_at=_now() + datetime.timedelta(seconds=expires_in),
            ip_address="10.0.0.1",
        )
    )


def _cookies(token: str = TOKEN) -> dict[str, str]:
    return {session_cookie_name(): sign_session_token(token, SECRET)}


async def test_a_signed_cookie_gives_the_user_the_session_and_the_owner(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    await _sign_in()
    pool = vde_db.engine.pool
    found = await signed_in(pool, SECRET, cookies=_cookies())
    assert isinstance(found, SignedIn)
    assert (found.user.id, found.user.email, found.user.name) == (
        "u1",
        "u1@example.com",
        "Ada",
    )
    assert (found.session.id, found.session.user, found.session.ip_address) == (
        "s-Yq3kT0pW",
        "u1",
        "10.0.0.1",
    )
    assert found.owner_id is None
    assert TOKEN not in repr(found)

    owner = await mapping_user_id_for(pool, "u1")
    again = await signed_in(pool, SECRET, cookies=_cookies())
    assert again == SignedIn(user=found.user, session=found.session, owner_id=owner)
    # the same through a bearer header, and through the verified token
    bearer = f"Bearer {sign_session_token(TOKEN, SECRET)}"
    assert await signed_in(pool, SECRET, authorization=bearer) == again
    assert await signed_in_by_token(vde_conn, TOKEN) == again


@pytest.mark.parametrize(
    "request_carries",
    [
        {},
        {"cookies": {}},
        {"cookies": {session_cookie_name(): TOKEN}},
        {"cookies": {session_cookie_name(): sign_session_token(TOKEN, "other")}},
        {"cookies": {"better-auth.session_data": sign_session_token(TOKEN, SECRET)}},
        {"authorization": f"Bearer {TOKEN}"},
        {"authorization": f"Bearer {sign_session_token(TOKEN, 'other')}"},
        {"cookies": {session_cookie_name(): sign_session_token("unknown", SECRET)}},
    ],
    ids=[
        "nothing",
        "no cookie",
        "unsigned cookie",
        "other secret",
        "other cookie",
        "bare bearer",
        "forged bearer",
        "unknown token",
    ],
)
async def test_a_request_without_a_genuine_session_gives_none(
    vde_db: ScratchDatabase, request_carries: dict[str, Any]
) -> None:
    await _sign_in()
    assert await signed_in(vde_db.engine.pool, SECRET, **request_carries) is None


async def test_an_expired_session_gives_none(vde_db: ScratchDatabase) -> None:
    expired = "Expired0000000000000000000000000"
    await _sign_in(token=expired, expires_in=-1)
    await _sign_in(token=TOKEN, expires_in=60)
    pool = vde_db.engine.pool
    assert await signed_in(pool, SECRET, cookies=_cookies(expired)) is None
    assert await signed_in(pool, SECRET, cookies=_cookies()) is not None


async def test_a_bearer_whose_signature_holds_wins_over_the_cookie(
    vde_db: ScratchDatabase,
) -> None:
    other = "Other0000000000000000000000token"
    await _sign_in("u1", TOKEN)
    await _sign_in("u2", other)
    pool = vde_db.engine.pool
    bearer = f"Bearer {sign_session_token(other, SECRET)}"
    found = await signed_in(pool, SECRET, cookies=_cookies(), authorization=bearer)
    assert found is not None and found.user.id == "u2"
    # a bearer that does not hold leaves the cookie to decide, as in better-auth
    forged = f"Bearer {sign_session_token(other, 'other')}"
    found = await signed_in(pool, SECRET, cookies=_cookies(), authorization=forged)
    assert found is not None and found.user.id == "u1"


async def test_the_bare_bearer_token_counts_only_when_asked(
    vde_db: ScratchDatabase,
) -> None:
    await _sign_in()
    pool = vde_db.engine.pool
    bare = f"Bearer {TOKEN}"
    assert await signed_in(pool, SECRET, authorization=bare) is None
    found = await signed_in(pool, SECRET, authorization=bare, unsigned_bearer=True)
    assert found is not None and found.user.id == "u1"


async def test_owner_id_of_reads_and_never_creates(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    await User.insert(User(id="u1", email="u1@example.com"))
    pool = vde_db.engine.pool
    assert await owner_id_of(pool, "u1") is None
    assert await owner_id_of(pool, "nobody") is None
    assert await UserMapping.count() == 0
    owner = await mapping_user_id_for(pool, "u1")
    assert await owner_id_of(pool, "u1") == owner
    assert await owner_id_of(vde_conn, "u1") == owner


@pytest.mark.parametrize(
    ("user_id", "error"),
    [
        (7, InvalidArgumentTypeError),
        ("", InvalidArgumentError),
        ("x" * 256, InvalidArgumentError),
        ("nul\x00inside", InvalidArgumentError),
    ],
    ids=["int", "empty", "long", "nul"],
)
async def test_owner_id_of_refuses_what_no_user_id_can_be(
    vde_db: ScratchDatabase, user_id: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        await owner_id_of(vde_db.engine.pool, user_id)
    assert type(caught.value) is error


@pytest.mark.parametrize(
    ("token", "error"),
    [(b"bytes", InvalidArgumentTypeError), ("nul\x00inside", InvalidArgumentError)],
    ids=["bytes", "nul"],
)
async def test_signed_in_by_token_refuses_what_no_token_can_be(
    vde_db: ScratchDatabase, token: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        await signed_in_by_token(vde_db.engine.pool, token)
    assert type(caught.value) is error


# -- Plans on 20,000 sessions ---------------------------------------------------

SESSIONS_SQL = """
INSERT INTO vde_users (id, email)
SELECT 'u' || g, 'u' || g || '@example.com' FROM generate_series(1, 2000) g;

INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id)
SELECT 'u' || g, g FROM generate_series(1, 2000) g;

INSERT INTO vde_sessions (id, user_id, token, expires_at)
SELECT 's' || g, 'u' || (g % 2000 + 1), md5('token ' || g),
       now() + g * interval '1 minute'
FROM generate_series(1, 20000) g;
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sessions(vde_template: str) -> Any:
    async with loaded_database(vde_template, SESSIONS_SQL) as conn:
        yield conn


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
async def test_the_signed_in_lookup_reads_three_unique_indexes(
    sessions: asyncpg.Connection, generic: bool
) -> None:
    token = await sessions.fetchval("SELECT token FROM vde_sessions WHERE id = 's1234'")
    plan = await explain(sessions, SIGNED_IN_SQL, token, generic=generic)
    assert seq_scanned(plan) == set(), plan
    assert indexes_used(plan) == {
        "vde_sessions_token_key",
        "vde_users_pkey",
        "vde_user_mapping_auth_user_id_key",
    }, plan


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
async def test_the_owner_lookup_reads_one_unique_index(
    sessions: asyncpg.Connection, generic: bool
) -> None:
    plan = await explain(sessions, OWNER_ID_SQL, "u1234", generic=generic)
    assert seq_scanned(plan) == set(), plan
    assert indexes_used(plan) == {"vde_user_mapping_auth_user_id_key"}, plan
