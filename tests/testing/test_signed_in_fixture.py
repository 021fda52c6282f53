"""``vde_signed_in``: a user, a live session and an owner id, ready for a request."""

from __future__ import annotations

import asyncpg

from vde.auth.signed_in import signed_in
from vde.testing import ScratchDatabase, SignedInUser

SECRET = "the-app-secret-of-this-test-0123"


async def test_the_rows_are_in_the_tests_database(
    vde_signed_in: SignedInUser, vde_conn: asyncpg.Connection
) -> None:
    user = await vde_conn.fetchrow("SELECT * FROM vde_users")
    session = await vde_conn.fetchrow("SELECT * FROM vde_sessions")
    owner = await vde_conn.fetchval(
        "SELECT mapping_user_id FROM vde_user_mapping WHERE auth_user_id = $1",
        user["id"],
    )
    assert (vde_signed_in.user.id, vde_signed_in.user.email) == (
        user["id"],
        user["email"],
    )
    assert vde_signed_in.session.id == session["id"]
    assert vde_signed_in.token == session["token"]
    assert session["expires_at"] > await vde_conn.fetchval("SELECT now()")
    assert vde_signed_in.owner_id == owner
    assert vde_signed_in.token not in repr(vde_signed_in)


async def test_its_cookie_and_bearer_sign_a_request_in(
    vde_signed_in: SignedInUser, vde_db: ScratchDatabase
) -> None:
    pool = vde_db.engine.pool
    expected = (vde_signed_in.user, vde_signed_in.session, vde_signed_in.owner_id)
    for carried in (
        {"cookies": vde_signed_in.cookies(SECRET)},
        {"cookies": vde_signed_in.cookies(SECRET, secure=True)},
        {"authorization": vde_signed_in.authorization(SECRET)},
    ):
        found = await signed_in(pool, SECRET, **carried)  # type: ignore[arg-type]
        assert found is not None, carried
        assert (found.user, found.session, found.owner_id) == expected
    # signed with a secret other than the app's: nobody
    assert await signed_in(pool, SECRET, cookies=vde_signed_in.cookies("other")) is None
