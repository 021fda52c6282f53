"""The sign-in layer's two hot lookups: an api key by its hash, a session by token.

Both run on every authenticated request, so each is one unique-index probe
(``vde_api_keys_key_key``, ``vde_sessions_token_key``; checked on 20,000 rows of
each, custom and generic plans, by tests/auth/test_queries.py). The secret they
are looked up by is not returned: the caller has it, and a row that travels on
(to a log, a template, a response) cannot leak it. Other secret columns are left
out too (``vde.sql.select_list``).
"""

from __future__ import annotations

import asyncpg

from vde.auth.tables import ApiKey, Session
from vde.sql import Connection, select_list

API_KEY_BY_HASH_SQL = (
    f"SELECT {select_list(ApiKey)}\nFROM {ApiKey._meta.tablename}\nWHERE key = $1"
)
SESSION_BY_TOKEN_SQL = (
    f"SELECT {select_list(Session)}\nFROM {Session._meta.tablename}\nWHERE token = $1"
)


async def api_key_by_hash(conn: Connection, key_hash: str) -> asyncpg.Record | None:
    """The api key whose stored hash is ``key_hash`` (hash the presented key first).

    Enabled, expiry and rate-limit columns are returned for the caller to judge.
    """
    return await conn.fetchrow(API_KEY_BY_HASH_SQL, key_hash)


async def session_by_token(conn: Connection, token: str) -> asyncpg.Record | None:
    """The session with ``token``, expired or not (``expires_at`` says which)."""
    return await conn.fetchrow(SESSION_BY_TOKEN_SQL, token)
