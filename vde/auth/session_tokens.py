"""better-auth's session token as a browser or a client presents it, checked.

better-auth keeps a session's token in the cookie ``better-auth.session_token``
(``__Secure-better-auth.session_token`` on https), signed by better-call:
the value is ``<token>.<signature>``, URL-encoded, where the signature is the
standard base64 (44 characters, padded) of HMAC-SHA256 of the token under the
app's secret (``BETTER_AUTH_SECRET``; with ``secrets=[...]`` the first one).
A token is only looked up once its signature holds, so a forged or altered
cookie costs no query, and a token read from the database alone (a leaked
backup) does not sign anyone in.

better-auth's bearer plugin takes the same signed value in ``Authorization:
Bearer`` (what it sends as ``set-auth-token``), and by default also the bare
token. vde takes the signed value only, as the plugin does with
``requireSignature: true``; ``unsigned=True`` accepts the bare token too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote, unquote

from vde.errors import InvalidArgumentError

#: better-auth's default cookie prefix (its ``advanced.cookiePrefix``).
COOKIE_PREFIX = "better-auth"
#: The prefix better-auth adds to its cookies' names when they are ``Secure``.
SECURE_PREFIX = "__Secure-"
#: A base64 HMAC-SHA256: 32 bytes are 44 characters, the last one ``=``.
SIGNATURE_LENGTH = 44
#: Longer than any token better-auth makes (32 characters); anything past this
#: is refused before it reaches the database.
MAX_TOKEN_LENGTH = 255
#: What a bearer header starts with (any case), as the bearer plugin reads it.
BEARER = "bearer "


def session_cookie_name(prefix: str = COOKIE_PREFIX, *, secure: bool = False) -> str:
    """``better-auth.session_token``, or with ``__Secure-`` before it."""
    return f"{SECURE_PREFIX if secure else ''}{prefix}.session_token"


def _key(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        raise InvalidArgumentError(
            "pass better-auth's secret (the app's BETTER_AUTH_SECRET): session "
            "cookies are signed with it"
        )
    return secret.encode()


def _signature(token: str, key: bytes) -> bytes:
    return hmac.new(key, token.encode(), hashlib.sha256).digest()


def _plausible(token: str) -> bool:
    """A token vde may look up: not empty, not huge, no NUL, encodable."""
    if not token or len(token) > MAX_TOKEN_LENGTH or "\x00" in token:
        return False
    try:
        token.encode()
    except UnicodeEncodeError:
        return False
    return True


def sign_session_token(token: str, secret: str) -> str:
    """The cookie value better-auth sets for ``token``: signed and URL-encoded."""
    signature = base64.b64encode(_signature(token, _key(secret))).decode()
    return quote(f"{token}.{signature}", safe="")


def verified_token(value: str, secret: str) -> str | None:
    """The token of a signed value (a cookie's or a bearer's), or None.

    None when the value is not ``<token>.<signature>`` (URL-encoded or not), or
    the signature is not the secret's.
    """
    key = _key(secret)
    if "%" in value:
        value = unquote(value)
    token, dot, signature = value.rpartition(".")
    if not dot or len(signature) != SIGNATURE_LENGTH or not signature.endswith("="):
        return None
    if not _plausible(token):
        return None
    try:
        presented = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None
    return token if hmac.compare_digest(presented, _signature(token, key)) else None


def token_from_cookies(
    cookies: Mapping[str, str], secret: str, *, prefix: str = COOKIE_PREFIX
) -> str | None:
    """The verified token of the session cookie in ``cookies`` (e.g. FastAPI's
    ``request.cookies``), the ``__Secure-`` one first; None if none holds."""
    _key(secret)
    for secure in (True, False):
        value = cookies.get(session_cookie_name(prefix, secure=secure))
        if value:
            token = verified_token(value, secret)
            if token is not None:
                return token
    return None


def token_from_authorization(
    authorization: str | None, secret: str, *, unsigned: bool = False
) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None.

    A value with a dot must be signed by ``secret``; a bare token counts only
    with ``unsigned=True``.
    """
    _key(secret)
    if not authorization or authorization[: len(BEARER)].lower() != BEARER:
        return None
    presented = authorization[len(BEARER) :].strip()
    if "." in presented:
        return verified_token(presented, secret)
    if unsigned and _plausible(presented):
        return presented
    return None
