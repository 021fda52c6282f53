"""better-auth 1.7 runs on vde's auth tables with nothing but the shipped mapping.

``interop/better-auth/flows.mjs`` calls better-auth's server API (``auth.api.*``)
with ``vde-schema.mjs`` and schema validation on; after each step the test
reads vde's tables and checks the rows better-auth left there. At the end of
each flow the read models of ``vde.auth.models`` validate every row written,
and no dump of them holds a credential.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import unicodedata
from typing import Any

import asyncpg
import pydantic
import pytest

from tests.interop.conftest import Flows
from vde.auth.models import (
    AccountRead,
    ApiKeyRead,
    SessionRead,
    UserRead,
    VerificationTokenRead,
)

Row = dict[str, Any]

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "battery staple horse"
THIRTY_DAYS_MS = 2_592_000_000
SCRYPT_HASH = re.compile(r"[0-9a-f]{32}:[0-9a-f]{128}")

READ_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "vde_users": UserRead,
    "vde_accounts": AccountRead,
    "vde_sessions": SessionRead,
    "vde_verification_tokens": VerificationTokenRead,
    "vde_api_keys": ApiKeyRead,
}
#: Credential columns: never in a read model's dump.
SECRET_COLUMNS = {
    "vde_accounts": ("password", "access_token", "refresh_token", "id_token"),
    "vde_sessions": ("token",),
    "vde_verification_tokens": ("identifier", "value"),
    "vde_api_keys": ("key",),
}


async def rows(conn: asyncpg.Connection, table: str, where: str = "") -> list[Row]:
    sql = f"SELECT * FROM {table} {where} ORDER BY created_at, id"
    return [dict(row) for row in await conn.fetch(sql)]


async def one(conn: asyncpg.Connection, table: str, where: str = "") -> Row:
    found = await rows(conn, table, where)
    assert len(found) == 1, found
    return found[0]


def is_scrypt_hash_of(stored: str, password: str) -> bool:
    """better-auth's format: hex salt ':' hex scrypt key (N=16384, r=16, p=1)."""
    if not SCRYPT_HASH.fullmatch(stored):
        return False
    salt, key = stored.split(":")
    derived = hashlib.scrypt(
        unicodedata.normalize("NFKC", password).encode(),
        salt=salt.encode(),
        n=16384,
        r=16,
        p=1,
        dklen=64,
        maxmem=2**26,
    )
    return derived.hex() == key


def key_hash(plain: str) -> str:
    """The api-key plugin's stored hash: SHA-256, base64url without padding."""
    digest = hashlib.sha256(plain.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def soon(seconds: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)


async def assert_read_models_hide_every_credential(
    conn: asyncpg.Connection, *plain_secrets: str
) -> None:
    """Every row of the five tables validates; no dump holds a credential.

    ``plain_secrets`` are what better-auth handed out (passwords, plaintext
    keys, reset tokens); the stored ones are read from the secret columns.
    """
    secrets = {s for s in plain_secrets if s}
    for table, columns in SECRET_COLUMNS.items():
        for row in await rows(conn, table):
            secrets |= {row[c] for c in columns if row[c] and c != "value"}
    validated = 0
    for table, model in READ_MODELS.items():
        for row in await rows(conn, table):
            read = model.model_validate(row)
            dumps = [
                read.model_dump_json(),
                str(read.model_dump()),
                repr(read),
                str(read.model_dump(by_alias=True)),
            ]
            assert set(SECRET_COLUMNS.get(table, ())).isdisjoint(read.model_dump())
            for dump in dumps:
                leaked = [secret for secret in secrets if secret in dump]
                assert not leaked, f"{table} read model leaks {leaked}"
            validated += 1
    assert validated > 0


async def sign_up(flows: Flows, conn: asyncpg.Connection) -> dict[str, Any]:
    """Sign Ada up and check the three rows that makes."""
    answer = await flows.step("signUp", name="Ada", email=EMAIL, password=PASSWORD)
    user_id = answer["userId"]

    user = await one(conn, "vde_users")
    assert (user["id"], user["email"], user["name"]) == (user_id, EMAIL, "Ada")
    assert (user["email_verified"], user["image"]) == (False, None)

    account = await one(conn, "vde_accounts")
    assert (account["user_id"], account["account_id"], account["provider_id"]) == (
        user_id,
        user_id,
        "credential",
    )
    assert PASSWORD not in account["password"]
    assert is_scrypt_hash_of(account["password"], PASSWORD)
    assert not is_scrypt_hash_of(account["password"], NEW_PASSWORD)
    assert [account[c] for c in ("access_token", "refresh_token", "id_token")] == [
        None,
        None,
        None,
    ]

    session = await one(conn, "vde_sessions")
    assert (session["user_id"], session["token"]) == (user_id, answer["token"])
    # better-auth's default session lifetime: 7 days.
    assert soon(7 * 86400 - 60) < session["expires_at"] < soon(7 * 86400 + 60)
    return answer


async def test_sign_up_sign_in_sessions_and_password_change(
    flows: Flows, vde_conn: asyncpg.Connection
) -> None:
    user_id = (await sign_up(flows, vde_conn))["userId"]

    # sign-in: a second session row, with the token better-auth returned
    second = await flows.step("signIn", email=EMAIL, password=PASSWORD, saveAs="second")
    sessions = await rows(vde_conn, "vde_sessions")
    assert len(sessions) == 2 and sessions[1]["token"] == second["token"]
    assert {s["user_id"] for s in sessions} == {user_id}

    # wrong password: refused, no session written
    refused = await flows.refused("signIn", email=EMAIL, password="not the password")
    assert (refused["statusCode"], refused["code"]) == (
        401,
        "INVALID_EMAIL_OR_PASSWORD",
    )
    assert await rows(vde_conn, "vde_sessions") == sessions

    # get session by cookie: the second session's row
    got = await flows.step("getSession", **{"as": "second"})
    assert got["session"]["token"] == second["token"]
    assert got["session"]["id"] == sessions[1]["id"]
    assert got["user"]["id"] == user_id

    # update user: the row changes, nothing else does
    before = await one(vde_conn, "vde_users")
    image = "https://example.com/ada.png"
    await flows.step("updateUser", name="Ada Lovelace", image=image, **{"as": "second"})
    after = await one(vde_conn, "vde_users")
    assert (after["name"], after["image"]) == ("Ada Lovelace", image)
    assert after["updated_at"] > before["updated_at"]
    assert {
        k: v for k, v in after.items() if k not in ("name", "image", "updated_at")
    } == {k: v for k, v in before.items() if k not in ("name", "image", "updated_at")}

    # change password, revoking the other sessions: one new session is left
    changed = await flows.step(
        "changePassword",
        currentPassword=PASSWORD,
        newPassword=NEW_PASSWORD,
        saveAs="main",
        **{"as": "second"},
    )
    session = await one(vde_conn, "vde_sessions")
    assert session["token"] == changed["token"]
    assert session["token"] not in {s["token"] for s in sessions}
    account = await one(vde_conn, "vde_accounts")
    assert is_scrypt_hash_of(account["password"], NEW_PASSWORD)
    assert not is_scrypt_hash_of(account["password"], PASSWORD)
    await flows.refused("signIn", email=EMAIL, password=PASSWORD)
    gone = await flows.step("getSession", **{"as": "second"})
    assert gone["session"] is None

    # sign-out: the session row is gone
    await flows.step("signOut", **{"as": "main"})
    assert await rows(vde_conn, "vde_sessions") == []

    # a second user with the same e-mail: refused, nothing written
    users, accounts = (
        await rows(vde_conn, "vde_users"),
        await rows(vde_conn, "vde_accounts"),
    )
    duplicate = await flows.refused(
        "signUp", name="Another Ada", email=EMAIL, password="another password"
    )
    assert (duplicate["statusCode"], duplicate["code"]) == (
        422,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    )
    assert await rows(vde_conn, "vde_users") == users
    assert await rows(vde_conn, "vde_accounts") == accounts

    await assert_read_models_hide_every_credential(
        vde_conn, PASSWORD, NEW_PASSWORD, second["token"], changed["token"]
    )


async def test_api_keys_create_verify_refill_list_and_delete(
    flows: Flows, vde_conn: asyncpg.Connection
) -> None:
    user_id = (await sign_up(flows, vde_conn))["userId"]

    # created by the signed-in user
    cli = await flows.step("createApiKey", name="cli", prefix="vde_", save="cli")
    plain = cli["key"]
    row = await one(vde_conn, "vde_api_keys")
    assert (row["id"], row["user_id"], row["config_id"]) == (
        cli["apiKey"]["id"],
        user_id,
        "default",
    )
    assert (row["name"], row["prefix"], row["start"]) == ("cli", "vde_", plain[:6])
    assert row["key"] == key_hash(plain) and plain not in row["key"]
    assert (row["enabled"], row["rate_limit_enabled"]) == (True, True)
    assert (row["rate_limit_time_window"], row["rate_limit_max"]) == (86_400_000, 10)
    assert (row["request_count"], row["remaining"], row["refill_interval"]) == (
        0,
        None,
        None,
    )

    # created server-side: a 30-day refill (past int4) and a usage budget
    refill = await flows.step(
        "createApiKey",
        userId=user_id,
        name="refill",
        save="refill",
        refillInterval=THIRTY_DAYS_MS,
        refillAmount=100,
        remaining=100,
        permissions={"map": ["read"]},
    )
    row = await one(vde_conn, "vde_api_keys", "WHERE name = 'refill'")
    assert (row["id"], row["user_id"]) == (refill["apiKey"]["id"], user_id)
    assert (row["refill_interval"], row["refill_amount"], row["remaining"]) == (
        THIRTY_DAYS_MS,
        100,
        100,
    )
    assert json.loads(row["permissions"]) == {"map": ["read"]}
    assert row["key"] == key_hash(refill["key"])

    # verify: a valid key counts the request
    valid = await flows.step("verifyApiKey", keyName="cli")
    assert (valid["valid"], valid["apiKey"]["id"]) == (True, cli["apiKey"]["id"])
    row = await one(vde_conn, "vde_api_keys", "WHERE name = 'cli'")
    assert row["request_count"] == 1 and row["last_request"] is not None

    # verify: a bogus key is invalid and changes nothing
    keys = await rows(vde_conn, "vde_api_keys")
    bogus = await flows.step("verifyApiKey", key="vde_" + "x" * 64)
    assert (bogus["valid"], bogus["error"]["code"]) == (False, "INVALID_API_KEY")
    assert await rows(vde_conn, "vde_api_keys") == keys

    # verify with a permission check: granted uses one of the budget, denied none
    granted = await flows.step(
        "verifyApiKey", keyName="refill", permissions={"map": ["read"]}
    )
    assert granted["valid"] is True
    denied = await flows.step(
        "verifyApiKey", keyName="refill", permissions={"map": ["write"]}
    )
    assert (denied["valid"], denied["error"]["code"]) == (False, "KEY_NOT_FOUND")
    row = await one(vde_conn, "vde_api_keys", "WHERE name = 'refill'")
    assert row["remaining"] == 99

    # the 30-day refill: once the interval has passed, the budget comes back
    await vde_conn.execute(
        "UPDATE vde_api_keys SET remaining = 0, created_at = now() - interval '31 days'"
        " WHERE name = 'refill'"
    )
    refilled = await flows.step("verifyApiKey", keyName="refill")
    assert refilled["valid"] is True
    row = await one(vde_conn, "vde_api_keys", "WHERE name = 'refill'")
    assert row["remaining"] == 99 and row["last_refill_at"] is not None

    # list: both keys, and no hash (nor plaintext key) anywhere in it
    listed = (await flows.step("listApiKeys"))["apiKeys"]
    assert sorted(k["id"] for k in listed) == sorted(k["id"] for k in keys)
    assert all("key" not in k for k in listed)
    text = json.dumps(listed)
    for key in await rows(vde_conn, "vde_api_keys"):
        assert key["key"] not in text
    assert plain not in text and refill["key"] not in text
    # pg returns bigint as a string; better-auth compares it as a number
    # (docs/better-auth.md)
    by_name = {k["name"]: k for k in listed}
    assert by_name["refill"]["refillInterval"] == str(THIRTY_DAYS_MS)

    # delete: the row is gone, the other key stays
    await flows.step("deleteApiKey", keyId=cli["apiKey"]["id"])
    assert [k["name"] for k in await rows(vde_conn, "vde_api_keys")] == ["refill"]
    deleted = await flows.step("verifyApiKey", keyName="cli")
    assert deleted["valid"] is False

    await assert_read_models_hide_every_credential(
        vde_conn, PASSWORD, plain, refill["key"]
    )


async def test_two_password_resets_before_the_first_is_used(
    flows: Flows, vde_conn: asyncpg.Connection
) -> None:
    user_id = (await sign_up(flows, vde_conn))["userId"]

    first = (await flows.step("requestPasswordReset", email=EMAIL))["token"]
    [token] = await rows(vde_conn, "vde_verification_tokens")
    assert (token["identifier"], token["value"]) == (f"reset-password:{first}", user_id)
    assert soon(3600 - 60) < token["expires_at"] < soon(3600 + 60)

    # the second request repeats value (the user id): what the UNIQUE refused
    second = (await flows.step("requestPasswordReset", email=EMAIL))["token"]
    assert second != first
    tokens = await rows(vde_conn, "vde_verification_tokens")
    assert [(t["identifier"], t["value"]) for t in tokens] == [
        (f"reset-password:{first}", user_id),
        (f"reset-password:{second}", user_id),
    ]

    # reset with the first token: it is used up, the second stays open
    await flows.step("resetPassword", token=first, newPassword=NEW_PASSWORD)
    assert [
        t["identifier"] for t in await rows(vde_conn, "vde_verification_tokens")
    ] == [f"reset-password:{second}"]
    account = await one(vde_conn, "vde_accounts")
    assert is_scrypt_hash_of(account["password"], NEW_PASSWORD)
    again = await flows.refused("resetPassword", token=first, newPassword="third one!")
    assert again["code"] == "INVALID_TOKEN"

    # sign in with the new password; the old one is refused
    sessions = await rows(vde_conn, "vde_sessions")
    signed_in = await flows.step("signIn", email=EMAIL, password=NEW_PASSWORD)
    assert [s["token"] for s in await rows(vde_conn, "vde_sessions")] == [
        *(s["token"] for s in sessions),
        signed_in["token"],
    ]
    await flows.refused("signIn", email=EMAIL, password=PASSWORD)

    await assert_read_models_hide_every_credential(
        vde_conn, PASSWORD, NEW_PASSWORD, first, second, signed_in["token"]
    )


@pytest.mark.parametrize("table", list(READ_MODELS))
def test_read_models_leave_out_every_secret_column(table: str) -> None:
    fields = set(READ_MODELS[table].model_fields)
    assert fields.isdisjoint(SECRET_COLUMNS.get(table, ()))
