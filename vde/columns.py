"""Column helpers shared by every app's tables.

Piccolo gives columns a database default unless told not to (``Text()`` becomes
``DEFAULT ''``); vde wants a forgotten required value to fail, so every column
without a default of its own is built with ``default=None``. docs/schema.md
describes the tables.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from piccolo.columns import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow

#: Every vde table name starts with this.
TABLE_PREFIX = "vde_"


def tablename(name: str) -> str:
    """The database name of a vde table: the one place the prefix is applied."""
    return f"{TABLE_PREFIX}{name}"


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK condition: ``column IN ('a', 'b')``, the values of an enum in order.

    The values are vde's own names (no quote in them), never input.
    """
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


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
