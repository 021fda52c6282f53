"""A user's rows in the auth tables, as Piccolo queries that never select a secret.

To-one relations need no helper: traverse the foreign key, e.g.
``Session.select(Session.user.email)`` or ``.where(ApiKey.user.email == ...)``.
The to-many side is a ``where(FK == id)`` query; these helpers write it once,
with ``exclude_secrets=True`` so that hashes and tokens stay in the database.
Each returns an unrun ``Select``: chain ``.order_by()``, ``.limit()``,
``.first()`` or ``.output()``, then ``await`` it (or ``.run()``).
"""

from __future__ import annotations

from piccolo.query.methods.select import Select

from vde.auth.tables import Account, ApiKey, Session


def accounts_of(user_id: str) -> Select[Account]:
    """The user's sign-in methods, without passwords or provider tokens."""
    return Account.select(exclude_secrets=True).where(Account.user == user_id)


def sessions_of(user_id: str) -> Select[Session]:
    """The user's sessions, without their tokens."""
    return Session.select(exclude_secrets=True).where(Session.user == user_id)


def api_keys_of(user_id: str) -> Select[ApiKey]:
    """The user's API keys, without their hashes."""
    return ApiKey.select(exclude_secrets=True).where(ApiKey.user == user_id)
