"""What vde's raw-SQL query helpers share: their select lists.

The helpers in ``vde.<app>.queries`` are plain SQL run through asyncpg, because
repositories use asyncpg's prepared statements (and PostgreSQL's generic plans)
directly. Their select lists come from the Piccolo tables, so a column added to a
table is returned too, and a column marked ``secret=True`` never is.
"""

from __future__ import annotations

from piccolo.table import Table


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
