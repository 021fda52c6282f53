"""The sign-in layer's two hot lookups: an api key by its hash, a session by token.

Both run on every authenticated request, so each is one unique-index probe
(``vde_api_keys_key_key``, ``vde_sessions_token_key``; checked on 20,000 rows of
each, custom and generic plans, by tests/auth/test_queries.py). The secret they
are looked up by is not returned: the caller has it, and a row that travels on
(to a log, a template, a response) cannot leak it. Other secret columns are left
out too (``vde.sql.select_list``). Each takes a unit of work
(``vde.transactions.Executor``: a ``Tx``, a connection or a pool) and returns a
typed row.
"""

from __future__ import annotations

from vde.auth.models import ApiKeyRead, SessionRead
from vde.auth.tables import ApiKey, Session
from vde.sql import select_list
from vde.transactions import Executor, connection_of

API_KEY_BY_HASH_SQL = (
    f"SELECT {select_list(ApiKey)}\nFROM {ApiKey._meta.tablename}\nWHERE key = $1"
)
SESSION_BY_TOKEN_SQL = (
    f"SELECT {select_list(Session)}\nFROM {Session._meta.tablename}\nWHERE token = $1"
)


async def api_key_by_hash(executor: Executor, key_hash: str) -> ApiKeyRead | None:
    """The api key whose stored hash is ``key_hash`` (hash the presented key first).

    Enabled, expiry and rate-limit columns are returned for the caller to judge.
    """
    async with connection_of(executor) as conn:
        row = await conn.fetchrow(API_KEY_BY_HASH_SQL, key_hash)
    return None if row is None else ApiKeyRead.model_validate(dict(row))


async def session_by_token(executor: Executor, token: str) -> SessionRead | None:
    """The session with ``token``, expired or not (``expires_at`` says which)."""
    async with connection_of(executor) as conn:
        row = await conn.fetchrow(SESSION_BY_TOKEN_SQL, token)
    return None if row is None else SessionRead.model_validate(dict(row))
