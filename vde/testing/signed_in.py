"""A signed-in user for a downstream project's request tests: ``vde_signed_in``.

The user, a live session and a map-owner id are written with vde's own inserts
(Piccolo's tables and ``mapping_user_id_for``) into the test's ``vde_db``, as
better-auth would have left them after a sign-in. The session's cookie or
bearer header, signed with the app's secret, signs a request in through
``vde.auth.signed_in.signed_in``.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

import pytest_asyncio

from vde.auth.models import SessionRead, UserRead
from vde.auth.session_tokens import session_cookie_name, sign_session_token
from vde.auth.tables import Session, User
from vde.mapping import mapping_user_id_for
from vde.testing.fixtures import ScratchDatabase
from vde.transactions import atomic

#: better-auth's default session lifetime.
SESSION_LIFETIME = datetime.timedelta(days=7)


@dataclass(frozen=True)
class SignedInUser:
    """A user with a live session and a map-owner id, in the test's database."""

    user: UserRead
    session: SessionRead
    owner_id: int
    #: The session's token (the secret a cookie carries signed); not in the repr.
    token: str = field(repr=False)

    def cookies(self, secret: str, *, secure: bool = False) -> dict[str, str]:
        """The session cookie as better-auth sets it, signed with ``secret``:
        hand it to a test client (``cookies=...``)."""
        return {
            session_cookie_name(secure=secure): sign_session_token(self.token, secret)
        }

    def authorization(self, secret: str) -> str:
        """An ``Authorization`` header value: the signed token as a bearer."""
        return f"Bearer {sign_session_token(self.token, secret)}"


async def sign_in(
    user_id: str = "vde-test-user",
    email: str = "signed-in@example.com",
    name: str | None = "Signed-in User",
) -> SignedInUser:
    """Write a user, a session of theirs and their owner id; one transaction."""
    token = secrets.token_urlsafe(24)  # 32 characters, like better-auth's
    expires_at = datetime.datetime.now(datetime.UTC) + SESSION_LIFETIME
    async with atomic() as tx:
        await User.insert(User(id=user_id, email=email, name=name))
        await Session.insert(
            Session(
                id=f"{user_id}-session",
                user=user_id,
                token=token,
                expires_at=expires_at,
            )
        )
        owner_id = await mapping_user_id_for(tx, user_id)
        user = await User.select().where(User.id == user_id).first()
        session = (
            await Session.select(exclude_secrets=True)
            .where(Session.token == token)
            .first()
        )
    return SignedInUser(
        user=UserRead.model_validate(user),
        session=SessionRead.model_validate(session),
        owner_id=owner_id,
        token=token,
    )


@pytest_asyncio.fixture
async def vde_signed_in(vde_db: ScratchDatabase) -> SignedInUser:
    """A signed-in user in this test's database (see :class:`SignedInUser`)."""
    return await sign_in()
