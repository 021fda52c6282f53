"""better-auth's signed session token, checked without a database.

tests/interop/test_signed_in.py proves the format against better-auth itself
(the cookie it sets is ``sign_session_token``'s, byte for byte); these tests
pin the edges: encodings, names, headers and what is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote

import pytest

from vde.auth.session_tokens import (
    MAX_TOKEN_LENGTH,
    session_cookie_name,
    sign_session_token,
    token_from_authorization,
    token_from_cookies,
    verified_token,
)
from vde.errors import InvalidArgumentError

SECRET = "a-test-secret-of-32-characters-x"
TOKEN = "Yq3kT0pWm8ZrB2cXv7nL5sD1fH9gJ4aE"


def test_the_signature_is_base64_hmac_sha256_of_the_token_url_encoded() -> None:
    digest = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    assert len(signature) == 44 and signature.endswith("=")
    signed = sign_session_token(TOKEN, SECRET)
    assert unquote(signed) == f"{TOKEN}.{signature}"
    assert "=" not in signed and "+" not in signed and "/" not in signed


def test_a_signed_value_gives_its_token_encoded_or_not() -> None:
    signed = sign_session_token(TOKEN, SECRET)
    assert verified_token(signed, SECRET) == TOKEN
    assert verified_token(unquote(signed), SECRET) == TOKEN


@pytest.mark.parametrize(
    "value",
    [
        "",
        TOKEN,
        f"{TOKEN}.",
        f".{TOKEN}",
        f"{TOKEN}.not-base64-but-44-characters-long-xxxxxxxxx=",
        f"{TOKEN}.{'A' * 43}=",
    ],
    ids=["empty", "bare", "dot only", "no token", "not base64", "wrong signature"],
)
def test_a_value_without_the_secrets_signature_gives_none(value: str) -> None:
    assert verified_token(value, SECRET) is None


def test_the_signature_of_another_secret_gives_none() -> None:
    assert verified_token(sign_session_token(TOKEN, "another secret"), SECRET) is None


def test_a_base64url_signature_is_refused_as_better_call_refuses_it() -> None:
    # atob() takes the standard alphabet only; find a token whose signature uses + or /
    for n in range(100):
        token = f"{TOKEN}{n}"
        standard = unquote(sign_session_token(token, SECRET))
        if "+" in standard or "/" in standard:
            break
    else:
        pytest.fail("no signature with + or / among 100 tokens")
    url_safe = standard.replace("+", "-").replace("/", "_")
    assert verified_token(standard, SECRET) == token
    assert verified_token(url_safe, SECRET) is None


@pytest.mark.parametrize(
    "token", ["x" * (MAX_TOKEN_LENGTH + 1), "nul\x00inside"], ids=["long", "nul"]
)
def test_a_signed_token_vde_would_not_look_up_gives_none(token: str) -> None:
    assert verified_token(sign_session_token(token, SECRET), SECRET) is None


def test_the_session_cookie_is_read_by_either_name_the_secure_one_first() -> None:
    signed = sign_session_token(TOKEN, SECRET)
    assert session_cookie_name() == "better-auth.session_token"
    assert session_cookie_name(secure=True) == "__Secure-better-auth.session_token"
    assert token_from_cookies({"better-auth.session_token": signed}, SECRET) == TOKEN
    secure = {"__Secure-better-auth.session_token": signed}
    assert token_from_cookies(secure, SECRET) == TOKEN
    other = sign_session_token("another-token", SECRET)
    both = {"__Secure-better-auth.session_token": signed, session_cookie_name(): other}
    assert token_from_cookies(both, SECRET) == TOKEN
    # a forged secure cookie does not hide a genuine plain one
    forged = {"__Secure-better-auth.session_token": TOKEN, session_cookie_name(): other}
    assert token_from_cookies(forged, SECRET) == "another-token"


def test_a_cookie_prefix_other_than_better_auths_is_followed() -> None:
    signed = sign_session_token(TOKEN, SECRET)
    cookies = {"my-app.session_token": signed}
    assert token_from_cookies(cookies, SECRET) is None
    assert token_from_cookies(cookies, SECRET, prefix="my-app") == TOKEN
    assert token_from_cookies({"better-auth.session_data": signed}, SECRET) is None


@pytest.mark.parametrize(
    ("header", "unsigned", "expected"),
    [
        (None, False, None),
        ("", False, None),
        ("Bearer ", False, None),
        (f"Basic {TOKEN}", False, None),
        (f"Bearer {TOKEN}", False, None),
        (f"Bearer {TOKEN}", True, TOKEN),
        (f"Bearer   {TOKEN}  ", True, TOKEN),
        ("Bearer nul\x00inside", True, None),
        (f"Bearer {'x' * (MAX_TOKEN_LENGTH + 1)}", True, None),
        (f"Bearer {TOKEN}.{'A' * 43}=", True, None),
    ],
    ids=[
        "none",
        "empty",
        "no token",
        "basic",
        "bare refused",
        "bare taken",
        "spaces",
        "bare nul",
        "bare long",
        "forged with unsigned",
    ],
)
def test_authorization_headers(
    header: str | None, unsigned: bool, expected: str | None
) -> None:
    assert token_from_authorization(header, SECRET, unsigned=unsigned) == expected


def test_a_signed_bearer_gives_its_token_encoded_or_not() -> None:
    signed = sign_session_token(TOKEN, SECRET)
    assert token_from_authorization(f"Bearer {signed}", SECRET) == TOKEN
    assert token_from_authorization(f"bearer {unquote(signed)}", SECRET) == TOKEN


@pytest.mark.parametrize("secret", ["", None, b"bytes"], ids=["empty", "none", "bytes"])
def test_a_missing_secret_is_an_error_that_names_it(secret: object) -> None:
    signed = sign_session_token(TOKEN, SECRET)
    for check in (
        lambda: verified_token(signed, secret),  # type: ignore[arg-type]
        lambda: sign_session_token(TOKEN, secret),  # type: ignore[arg-type]
        lambda: token_from_cookies({}, secret),  # type: ignore[arg-type]
        lambda: token_from_authorization(None, secret),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidArgumentError, match="BETTER_AUTH_SECRET"):
            check()
