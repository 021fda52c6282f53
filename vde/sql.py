"""What vde's raw SQL shares: select lists, and quoting of names and values.

The helpers in ``vde.<app>.queries`` are plain SQL run through asyncpg, because
repositories use asyncpg's prepared statements (and PostgreSQL's generic plans)
directly. Their select lists come from the Piccolo tables, so a column added to a
table is returned too, and a column marked ``secret=True`` never is.

Utility statements (``CREATE DATABASE``, ``DROP DATABASE``, ...) take no
parameters, so a name that comes from a caller or the catalog is spliced in as
text; :func:`quoted` is the one way vde does that, so a name holding ``"`` stays
one name instead of ending the identifier and adding clauses of its own.
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


def quoted(*names: str) -> str:
    """``"a"."b"``: each name as one SQL identifier, ``"`` doubled inside it."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def literal(value: str) -> str:
    """``value`` as one SQL string constant (``'`` doubled), for text run where
    no parameter can be bound (psql ``-c``); assumes
    ``standard_conforming_strings``, on by default since PostgreSQL 9.1."""
    return "'" + value.replace("'", "''") + "'"
