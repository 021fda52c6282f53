"""The cookie and bearer token better-auth hands out sign a request in with vde.

``flows.mjs`` signs users up with better-auth; the test gives vde's
``signed_in`` exactly what the browser or client got (the ``Set-Cookie`` line,
the ``set-auth-token`` header) and checks who it finds. Every forged, altered
or expired one is refused by vde, and better-auth's own ``getSession`` is
asked the same question, so the two agree on each.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import asyncpg

from tests.interop.conftest import SECRET, Flows
from vde.auth.session_tokens import session_cookie_name, sign_session_token
from vde.auth.signed_in import SignedIn, owner_id_of, signed_in
from vde.mapping import mapping_user_id_for
from vde.testing import ScratchDatabase

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
COOKIE = session_cookie_name()


def session_cookie(set_cookie: list[str]) -> str:
    """The session cookie's value in a response's ``Set-Cookie`` lines."""
    for line in set_cookie:
        name, _, value = line.split(";")[0].partition("=")
        if name == COOKIE:
            return value
    raise AssertionError(f"no {COOKIE} cookie in {set_cookie}")


async def sign_up(flows: Flows, email: str = EMAIL) -> dict[str, Any]:
    return await flows.step("signUp", name="Ada", email=email, password=PASSWORD)


async def theirs(flows: Flows, **headers: str) -> str | None:
    """The session id better-auth finds for a request with ``headers``."""
    answer = await flows.step("getSessionFrom", **headers)
    return None if answer["session"] is None else str(answer["session"]["id"])


def cookies(value: str) -> dict[str, str]:
    return {COOKIE: value}


async def test_the_cookie_better_auth_sets_gives_user_session_and_owner(
    flows: Flows, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    answer = await sign_up(flows)
    value = session_cookie(answer["setCookie"])
    # vde signs a token exactly as better-auth does (what the fixture relies on)
    assert value == sign_session_token(answer["token"], SECRET)
    pool = vde_db.engine.pool

    found = await signed_in(pool, SECRET, cookies=cookies(value))
    assert isinstance(found, SignedIn)
    session_id = await vde_conn.fetchval("SELECT id FROM vde_sessions")
    assert (found.user.id, found.user.email, found.user.name) == (
        answer["userId"],
        EMAIL,
        "Ada",
    )
    assert (found.session.id, found.session.user) == (session_id, answer["userId"])
    assert await theirs(flows, cookie=f"{COOKIE}={value}") == found.session.id
    # the token stays out of what vde hands back
    assert answer["token"] not in repr(found)
    assert answer["token"] not in found.session.model_dump_json()

    # the owner id is read, never made
    assert found.owner_id is None
    assert await owner_id_of(pool, answer["userId"]) is None
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_user_mapping") == 0
    owner = await mapping_user_id_for(pool, answer["userId"])
    again = await signed_in(pool, SECRET, cookies=cookies(value))
    assert again is not None and again.owner_id == owner
    assert await owner_id_of(pool, answer["userId"]) == owner


def forgeries(token: str, value: str) -> dict[str, str]:
    """Cookie values a client could send instead of the one it was given."""
    signed = unquote(value)
    other = "a" if token[-1] != "a" else "b"
    first = "A" if signed[len(token) + 1] != "A" else "B"
    return {
        "token changed": quote_cookie(token[:-1] + other + signed[len(token) :]),
        "signature changed": quote_cookie(
            f"{token}.{first}{signed[len(token) + 2 :]}"
        ),
        "signed with another secret": sign_session_token(token, "another secret"),
        "the bare token": token,
        "signature cut short": value[:-6],
        "signature only": value[len(token) :],
    }


def quote_cookie(signed: str) -> str:
    return signed.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


async def test_a_forged_cookie_is_refused_by_vde_as_by_better_auth(
    flows: Flows, vde_db: ScratchDatabase
) -> None:
    answer = await sign_up(flows)
    value = session_cookie(answer["setCookie"])
    pool = vde_db.engine.pool
    for what, forged in forgeries(answer["token"], value).items():
        assert forged != value, what
        assert await signed_in(pool, SECRET, cookies=cookies(forged)) is None, what
        assert await theirs(flows, cookie=f"{COOKIE}={forged}") is None, what
    # the checked-and-refused values did not spoil the genuine one
    assert await signed_in(pool, SECRET, cookies=cookies(value)) is not None
    # a secret other than the app's finds nobody, even with the genuine cookie
    assert await signed_in(pool, "not the secret", cookies=cookies(value)) is None


async def test_an_expired_or_signed_out_session_signs_nobody_in(
    flows: Flows, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    answer = await sign_up(flows)
    value = session_cookie(answer["setCookie"])
    pool = vde_db.engine.pool

    await vde_conn.execute(
        "UPDATE vde_sessions SET expires_at = now() - interval '1 second'"
    )
    assert await signed_in(pool, SECRET, cookies=cookies(value)) is None
    assert await theirs(flows, cookie=f"{COOKIE}={value}") is None

    again = await flows.step("signIn", email=EMAIL, password=PASSWORD)
    fresh = session_cookie(again["setCookie"])
    assert await signed_in(pool, SECRET, cookies=cookies(fresh)) is not None
    await flows.step("signOut")
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_sessions") == 0
    assert await signed_in(pool, SECRET, cookies=cookies(fresh)) is None


async def test_the_bearer_token_better_auth_hands_out_signs_in(
    flows: Flows, vde_db: ScratchDatabase
) -> None:
    ada = await sign_up(flows)
    grace = await sign_up(flows, "grace@example.com")
    pool = vde_db.engine.pool
    bearer = f"Bearer {grace['authToken']}"
    assert grace["authToken"].startswith(grace["token"] + ".")

    found = await signed_in(pool, SECRET, authorization=bearer)
    assert found is not None and found.user.id == grace["userId"]
    assert await theirs(flows, authorization=bearer) == found.session.id
    for scheme in ("bearer", "BEARER"):  # the scheme is read in any case
        header = f"{scheme} {grace['authToken']}"
        assert await signed_in(pool, SECRET, authorization=header) == found

    # a bearer token whose signature holds wins over the cookie, in both
    ada_cookie = session_cookie(ada["setCookie"])
    both = await signed_in(
        pool, SECRET, cookies=cookies(ada_cookie), authorization=bearer
    )
    assert both is not None and both.user.id == grace["userId"]
    assert (
        await theirs(flows, cookie=f"{COOKIE}={ada_cookie}", authorization=bearer)
        == found.session.id
    )

    # the bare token: better-auth's default takes it, vde only when told to
    bare = f"Bearer {grace['token']}"
    assert await theirs(flows, authorization=bare) == found.session.id
    assert await signed_in(pool, SECRET, authorization=bare) is None
    unsigned = await signed_in(pool, SECRET, authorization=bare, unsigned_bearer=True)
    assert unsigned is not None and unsigned.session.id == found.session.id

    # signed with another secret: refused by both
    forged = f"Bearer {sign_session_token(grace['token'], 'another secret')}"
    assert await signed_in(pool, SECRET, authorization=forged) is None
    assert await theirs(flows, authorization=forged) is None
