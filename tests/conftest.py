from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
import pytest_asyncio

from vde.sql import quoted

if TYPE_CHECKING:  # importing vde.testing here would precede the plugin
    from vde.testing import ScratchDatabase

pytest_plugins = ["vde.testing", "tests.pooler"]
#: A project of its own, with its own tests: tests/test_downstream_project.py
#: runs them there.
collect_ignore = ["downstream_project"]

Row = dict[str, Any]
Insert = Callable[..., Awaitable[Row]]
Rejects = Callable[..., Awaitable[asyncpg.PostgresError]]


async def table_rows(conn: asyncpg.Connection, table: str) -> list[Row]:
    """Every row of ``table`` (each vde table has an ``id``), for before/after."""
    rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY id")
    return [dict(row) for row in rows]


def _insert_sql(table: str, row: Row) -> str:
    """``INSERT INTO table (row's columns) VALUES ($1, ...)``; args: row's values."""
    marks = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})"


@pytest.fixture
def insert_sql() -> Callable[[str, Row], str]:
    """The SQL of a raw insert, for writes that ``rejects`` must see refused."""
    return _insert_sql


@pytest.fixture
def insert(vde_conn: asyncpg.Connection) -> Insert:
    """``await insert("vde_users", id=..., email=...)``: a raw SQL insert, row returned.

    Raw SQL so that the database, not Piccolo, decides what is accepted.
    """

    async def run(table: str, **values: Any) -> Row:
        sql = _insert_sql(table, values) + " RETURNING *"
        row = await vde_conn.fetchrow(sql, *values.values())
        assert row is not None
        return dict(row)

    return run


#: How ``rejects`` checks the error it caught against the one named: the
#: caught error, the class, the constraint and the column named.
Judge = Callable[
    [asyncpg.PostgresError, type[asyncpg.PostgresError], str | None, str | None],
    None,
]


def exact_error(
    found: asyncpg.PostgresError,
    error: type[asyncpg.PostgresError],
    constraint: str | None,
    column: str | None,
) -> None:
    """The class, constraint and column of one server's error, exactly."""
    assert type(found) is error, found
    assert found.constraint_name == constraint
    if column is not None:
        assert found.column_name == column


def rejecting(conn: asyncpg.Connection, judge: Judge = exact_error) -> Rejects:
    """A ``rejects`` on ``conn`` that checks the error with ``judge``."""

    async def check(
        action: str | Callable[[], Awaitable[Any]],
        *args: Any,
        error: type[asyncpg.PostgresError],
        constraint: str | None,
        tables: str | Sequence[str],
        column: str | None = None,
    ) -> asyncpg.PostgresError:
        watched = [tables] if isinstance(tables, str) else list(tables)
        before = {table: await table_rows(conn, table) for table in watched}
        with pytest.raises(asyncpg.PostgresError) as caught:
            if isinstance(action, str):
                await conn.execute(action, *args)
            else:
                await action()
        judge(caught.value, error, constraint, column)
        for table in watched:
            assert await table_rows(conn, table) == before[table], table
        return caught.value

    return check


@pytest.fixture
def rejects(vde_conn: asyncpg.Connection) -> Rejects:
    """Run a write the database must refuse; check the error and that nothing changed.

    ``action`` is SQL (run on ``vde_conn``) or a no-argument coroutine function (a
    Piccolo query). ``constraint`` is None for NOT NULL, which names the column.
    """
    return rejecting(vde_conn)


@pytest_asyncio.fixture
async def role(vde_db: ScratchDatabase) -> AsyncIterator[str]:
    """A unique role name; the role is dropped afterwards (roles are cluster-wide)."""
    name = f"vde_test_role_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        connection = await vde_db.connect()
        try:
            exists = await connection.fetchval(
                "SELECT true FROM pg_roles WHERE rolname = $1", name
            )
            if exists:
                # Its grants live in this database (and on it): remove them first.
                await connection.execute(f"DROP OWNED BY {quoted(name)}")
                await connection.execute(f"DROP ROLE {quoted(name)}")
        finally:
            await connection.close()


async def connect_as(vde_db: ScratchDatabase, role: str) -> asyncpg.Connection:
    """A connection as ``role``: both test servers trust local connections."""
    return await asyncpg.connect(vde_db.url, user=role)
