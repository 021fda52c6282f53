"""SCRAM-SHA-256 password verifiers computed on the client (RFC 5802, RFC 7677).

``ALTER ROLE ... PASSWORD 'secret'`` puts the password itself into the
statement, where ``log_statement = ddl``, ``pg_stat_activity`` and the server's
error log can see it. PostgreSQL stores a string that already has the form of
a SCRAM verifier as it is, so vde computes the verifier here and sends only
that; the server can check a login with it but cannot recover the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata

#: PostgreSQL's default (``scram_iterations``, PostgreSQL 16+; fixed before).
ITERATIONS = 4096
SALT_BYTES = 16

_PROHIBITED = (
    stringprep.in_table_a1,  # unassigned code points: PostgreSQL refuses them too
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
)


def saslprep(password: str) -> str:
    """``password`` as PostgreSQL normalises it before hashing (``pg_saslprep``).

    Where SASLprep would fail (prohibited or badly mixed bidirectional
    characters, or nothing left), PostgreSQL hashes the password unchanged, and
    so does this.
    """
    if password.isascii():
        return password
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c
        for c in password
        if not stringprep.in_table_b1(c)
    )
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized:
        return password
    if any(prohibited(c) for c in normalized for prohibited in _PROHIBITED):
        return password
    if any(stringprep.in_table_d1(c) for c in normalized):
        ends_rtl = stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(
            normalized[-1]
        )
        if not ends_rtl or any(stringprep.in_table_d2(c) for c in normalized):
            return password
    return normalized


def scram_sha256_verifier(
    password: str, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for ``password``.

    The format of ``pg_authid.rolpassword``; a fresh random salt unless given.
    """
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac(
        "sha256", saslprep(password).encode("utf-8"), salt, iterations
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
