"""What vde's raw-SQL query helpers share: the connection they take, their columns.

The helpers in ``vde.<app>.queries`` are plain SQL run through asyncpg, because
repositories use asyncpg's prepared statements (and PostgreSQL's generic plans)
directly. Their select lists come from the Piccolo tables, so a column added to a
table is returned too, and a column marked ``secret=True`` never is.
"""

from __future__ import annotations

from typing import Any, Protocol

from piccolo.table import Table


class Connection(Protocol):
    """An asyncpg ``Connection``, ``Pool`` or pooled connection: all fetch alike.

    asyncpg prepares each statement once per connection and caches it, so these
    helpers' SQL is written to plan well as a generic plan too.
    """

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any | None: ...


def public_columns(table: type[Table], alias: str | None = None) -> list[str]:
    """The database names of ``table``'s columns without its secret ones."""
    prefix = f"{alias}." if alias else ""
    return [
        f"{prefix}{column._meta.db_column_name}"
        for column in table._meta.columns
        if not column._meta.secret
    ]


def select_list(table: type[Table], alias: str | None = None) -> str:
    """``public_columns`` as a select list: ``a.id, a.name, ...``."""
    return ", ".join(public_columns(table, alias))
