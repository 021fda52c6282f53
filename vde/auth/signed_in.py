"""Who sent a request: the user, the session and the map owner id, in one call.

A web layer hands over what the request carries (its cookies, its
``Authorization`` header) and better-auth's secret; :func:`signed_in` checks the
signature (``vde.auth.session_tokens``), then reads the session, its user and
the user's map-owner id in one query. A missing, forged, altered or expired
session gives None, never an error: the caller answers 401 as it sees fit.

The owner id is only read, never made: a user who has no map yet has none
(``owner_id`` None). :func:`owner_id_of` is the same read on its own;
``vde.mapping.mapping_user_id_for`` is the one that makes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.table import Table

from vde.auth.models import SessionRead, UserRead
from vde.auth.session_tokens import (
    COOKIE_PREFIX,
    token_from_authorization,
    token_from_cookies,
)
from vde.auth.tables import Session, User
from vde.mapping.arguments import check_text, check_user_id
from vde.sql import public_columns
from vde.transactions import Executor, connection_of

#: The table of map-owner ids (vde's mapping app), read here by name only.
USER_MAPPING = "vde_user_mapping"


@dataclass(frozen=True)
class SignedIn:
    """A request's signed-in user: no token, password or key hash in it."""

    user: UserRead
    session: SessionRead
    #: The user's ``vde_user_mapping.mapping_user_id``; None before their first map.
    owner_id: int | None


def _aliased(table: type[Table], alias: str) -> str:
    """``s.id AS "s.id", ...``: two tables' columns apart in one row."""
    return ", ".join(f'{alias}.{c} AS "{alias}.{c}"' for c in public_columns(table))


SIGNED_IN_SQL = f"""SELECT {_aliased(Session, "s")},
       {_aliased(User, "u")},
       m.mapping_user_id
FROM {Session._meta.tablename} s
JOIN {User._meta.tablename} u ON u.id = s.user_id
LEFT JOIN {USER_MAPPING} m ON m.auth_user_id = u.id
WHERE s.token = $1 AND s.expires_at >= now()"""

OWNER_ID_SQL = f"SELECT mapping_user_id FROM {USER_MAPPING} WHERE auth_user_id = $1"


def _part(row: Mapping[str, Any], table_alias: str) -> dict[str, Any]:
    prefix = f"{table_alias}."
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


async def signed_in_by_token(executor: Executor, token: str) -> SignedIn | None:
    """The unexpired session whose token is ``token`` (already verified), or None."""
    check_text("token", token)
    async with connection_of(executor) as conn:
        row = await conn.fetchrow(SIGNED_IN_SQL, token)
    if row is None:
        return None
    found = dict(row)
    return SignedIn(
        user=UserRead.model_validate(_part(found, "u")),
        session=SessionRead.model_validate(_part(found, "s")),
        owner_id=found["mapping_user_id"],
    )


async def signed_in(
    executor: Executor,
    secret: str,
    *,
    cookies: Mapping[str, str] | None = None,
    authorization: str | None = None,
    cookie_prefix: str = COOKIE_PREFIX,
    unsigned_bearer: bool = False,
) -> SignedIn | None:
    """The signed-in user of a request, or None.

    ``cookies`` are the request's (``request.cookies``), ``authorization`` its
    ``Authorization`` header, ``secret`` better-auth's. A bearer token whose
    signature holds is used as better-auth's bearer plugin uses it, in place of
    the cookie; else the session cookie. ``cookie_prefix`` is better-auth's
    ``advanced.cookiePrefix``; ``unsigned_bearer`` also takes a bare token.
    """
    token = token_from_authorization(authorization, secret, unsigned=unsigned_bearer)
    if token is None and cookies:
        token = token_from_cookies(cookies, secret, prefix=cookie_prefix)
    if token is None:
        return None
    return await signed_in_by_token(executor, token)


async def owner_id_of(executor: Executor, user_id: str) -> int | None:
    """The map-owner id of auth user ``user_id``, or None if it has none yet.

    Only reads: unlike ``mapping_user_id_for`` it never creates one, so a GET
    handler may call it without writing.
    """
    check_user_id("user_id", user_id)
    async with connection_of(executor) as conn:
        found = await conn.fetchval(OWNER_ID_SQL, user_id)
    return None if found is None else int(found)
