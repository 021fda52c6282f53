"""vde's SCRAM-SHA-256 verifier is the one PostgreSQL computes for a password."""

from __future__ import annotations

import base64
import secrets

import asyncpg
import pytest

from vde.ops.scram import saslprep, scram_sha256_verifier

PASSWORDS = [
    "s3cret'; DROP TABLE vde_users; --",
    "pässwörd with ümlauts",
    "ｆｕｌｌｗｉｄｔｈ",  # SASLprep's NFKC makes it "fullwidth"
    "soft\u00adhyphen and\u2003em space",  # mapped to nothing / to a space
    "\u0627\u0644\u0633\u0631",  # right-to-left only: normalised
    "mixed \u0627 bidi",  # SASLprep fails: hashed as it is
]


@pytest.mark.parametrize("password", PASSWORDS)
async def test_verifier_equals_postgresqls_own_for_the_same_salt(
    vde_empty_url: str, password: str
) -> None:
    connection = await asyncpg.connect(vde_empty_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute("SET LOCAL password_encryption = 'scram-sha-256'")
            name = f"vde_scram_{secrets.token_hex(4)}"
            quoted = await connection.fetchval("SELECT quote_literal($1)", password)
            await connection.execute(f'CREATE ROLE "{name}" PASSWORD {quoted}')
            server = await connection.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", name
            )
        finally:
            await transaction.rollback()  # the role was never committed
    finally:
        await connection.close()
    iterations, salt = server.split("$")[1].split(":")
    assert (
        scram_sha256_verifier(password, base64.b64decode(salt), int(iterations))
        == server
    )


def test_verifier_has_a_fresh_salt_each_time() -> None:
    first, second = scram_sha256_verifier("pw"), scram_sha256_verifier("pw")
    assert first.startswith("SCRAM-SHA-256$4096:") and first != second


def test_saslprep_keeps_ascii_and_what_it_cannot_prepare() -> None:
    assert saslprep("plain ascii") == "plain ascii"
    assert saslprep("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"
    assert saslprep("mixed \u0627 bidi") == "mixed \u0627 bidi"
