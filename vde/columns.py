"""Column helpers shared by every app's tables.

Piccolo gives columns a database default unless told not to (``Text()`` becomes
``DEFAULT ''``); the spec wants a forgotten required value to fail, so every
column here without a spec default is built with ``default=None``.
"""

from __future__ import annotations

import datetime

from piccolo.columns import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

#: Every vde table name starts with this (the seed applied it only to some tables).
TABLE_PREFIX = "vde_"


def tablename(name: str) -> str:
    """The database name of a vde table: the one place the prefix is applied."""
    return f"{TABLE_PREFIX}{name}"


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def created_at() -> Timestamptz:
    """``created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP``."""
    return Timestamptz(default=TimestamptzNow())


def updated_at() -> Timestamptz:
    """Like :func:`created_at`, and bumped by every update made through Piccolo.

    Raw SQL updates bypass ``auto_update``; repositories that write raw SQL set
    ``updated_at = now()`` themselves.
    """
    return Timestamptz(default=TimestamptzNow(), auto_update=utc_now)
