"""``VDE_POOL_MODE`` / ``pool_mode=``: what each mode does to vde's connections,
on the test server itself (tests/database/test_pooler*.py go through PgBouncer).

A statement that vanished from the server connection is made here with
``DEALLOCATE ALL``: what a transaction pooler does by lending another one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine

from vde.database import connection_pool, make_engine
from vde.database.pool_mode import (
    POOL_MODE_VARIABLE,
    PoolerConnection,
    PoolerModeError,
    VdeConnection,
    connect_options,
    pool_mode,
)
from vde.errors import InvalidArgumentError
from vde.testing import ScratchDatabase

VDE = Path(__file__).resolve().parents[2] / "vde"
#: What opens connections: asyncpg.connect / create_pool, Piccolo's engine.
OPENERS = {"asyncpg.connect", "asyncpg.create_pool", "PostgresEngine"}
#: What gives connect arguments their pool mode.
MODE_GIVERS = {"connect_options", "connect_kwargs"}
QUERY = "SELECT $1::int + 1"
PREPARED = "SELECT count(*) FROM pg_prepared_statements"


def test_the_mode_comes_from_the_argument_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(POOL_MODE_VARIABLE, raising=False)
    assert pool_mode() == "session"
    monkeypatch.setenv(POOL_MODE_VARIABLE, "transaction")
    assert pool_mode() == "transaction"
    assert pool_mode("session") == "session"


@pytest.mark.parametrize("given", ["Transaction", "pgbouncer", " session"])
def test_an_unknown_mode_is_refused_naming_both(given: str) -> None:
    with pytest.raises(InvalidArgumentError, match="'session' .* or 'transaction'"):
        pool_mode(given)


def test_statement_mode_is_refused_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POOL_MODE_VARIABLE, "statement")
    with pytest.raises(InvalidArgumentError, match="no unit of work can run"):
        make_engine("postgresql://nowhere.invalid/x")


async def test_engines_carry_the_mode_in_their_connect_arguments(
    vde_db: ScratchDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(POOL_MODE_VARIABLE, raising=False)
    url = vde_db.url
    assert make_engine(url).config == {"dsn": url, "connection_class": VdeConnection}
    assert make_engine(url, pool_mode="transaction").config == {
        "dsn": url,
        "connection_class": PoolerConnection,
        "statement_cache_size": 0,
    }
    monkeypatch.setenv(POOL_MODE_VARIABLE, "transaction")
    assert make_engine(url).config["connection_class"] is PoolerConnection


def test_a_statement_cache_behind_a_transaction_pooler_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="statement_cache_size must be 0"):
        make_engine("postgresql://x.invalid/x", pool_mode="transaction",
                    statement_cache_size=100)


def test_arguments_made_for_one_mode_refuse_the_other() -> None:
    made = connect_options({"dsn": "postgresql://x.invalid/x"}, "session")
    assert connect_options(made) == made  # kept, whatever VDE_POOL_MODE says
    with pytest.raises(InvalidArgumentError, match="made for pool_mode='session'"):
        connect_options(made, "transaction")


async def test_connection_pool_refuses_a_mode_its_engine_was_not_made_for(
    vde_db: ScratchDatabase,
) -> None:
    engine = make_engine(vde_db.url, pool_mode="session")
    with pytest.raises(InvalidArgumentError, match="made for pool_mode='session'"):
        async with connection_pool(engine, pool_mode="transaction"):
            pass
    assert engine.pool is None


async def prepared_after_two_runs(connection: asyncpg.Connection) -> int:
    for _ in range(2):
        assert await connection.fetchval(QUERY, 1) == 2
    count: int = await connection.fetchval(PREPARED)
    return count


async def test_a_pool_in_transaction_mode_prepares_no_named_statement(
    vde_db: ScratchDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An engine made without vde's options takes the environment's mode.
    monkeypatch.setenv(POOL_MODE_VARIABLE, "transaction")
    engine = PostgresEngine(config={"dsn": vde_db.url})
    async with connection_pool(engine, min_size=1, max_size=1) as pooled:
        async with pooled.pool.acquire() as connection:
            assert await prepared_after_two_runs(connection) == 0
    monkeypatch.setenv(POOL_MODE_VARIABLE, "session")
    engine = PostgresEngine(config={"dsn": vde_db.url})
    async with connection_pool(engine, min_size=1, max_size=1) as pooled:
        async with pooled.pool.acquire() as connection:
            assert await prepared_after_two_runs(connection) >= 1


async def test_a_vanished_statement_names_the_switch(vde_db: ScratchDatabase) -> None:
    connection = await asyncpg.connect(
        **connect_options({"dsn": vde_db.url}, "session")
    )
    try:
        assert await prepared_after_two_runs(connection) >= 1
        await connection.execute("DEALLOCATE ALL")
        with pytest.raises(PoolerModeError) as caught:
            await connection.fetchval(QUERY, 1)
    finally:
        await connection.close()
    assert "Set VDE_POOL_MODE=transaction" in str(caught.value)
    assert isinstance(caught.value.__cause__, asyncpg.InvalidSQLStatementNameError)


async def test_in_transaction_mode_a_named_statement_is_told_to_stay_in_one(
    vde_db: ScratchDatabase,
) -> None:
    connection = await asyncpg.connect(
        **connect_options({"dsn": vde_db.url}, "transaction")
    )
    try:
        await connection.prepare("SELECT 1", name="vde_twice")
        with pytest.raises(PoolerModeError, match=r"inside one \(vde.transactions"):
            await connection.prepare("SELECT 1", name="vde_twice")
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("mode", "after_release"), [("session", ""), ("transaction", "kept")]
)
async def test_only_a_session_mode_pool_resets_what_a_connection_set(
    vde_db: ScratchDatabase, mode: str, after_release: str
) -> None:
    # Behind a transaction pooler the reset would run on another client's
    # server connection; there it is not sent at all.
    engine = make_engine(vde_db.url, pool_mode=mode)
    async with connection_pool(engine, min_size=1, max_size=1) as pooled:
        async with pooled.pool.acquire() as connection:
            await connection.execute("SET application_name = 'kept'")
        async with pooled.pool.acquire() as connection:
            assert await connection.fetchval("SHOW application_name") == after_release


def _called(node: ast.expr) -> str:
    """``name`` or ``module.name`` of what a call calls."""
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else ""
        return f"{owner}.{node.attr}".lstrip(".")
    return node.id if isinstance(node, ast.Name) else ""


def openers_without_the_mode(source: str) -> list[int]:
    """Lines of ``source`` that open connections with arguments that did not
    pass through ``connect_options`` (or ``connect_kwargs``, which calls it)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _called(node.func) in OPENERS:
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            inner = {
                _called(call.func).rpartition(".")[2]
                for argument in arguments
                for call in ast.walk(argument)
                if isinstance(call, ast.Call)
            }
            if not inner & MODE_GIVERS:
                lines.append(node.lineno)
    return sorted(lines)


def test_every_connection_vde_opens_takes_the_pool_mode() -> None:
    found = {
        str(path.relative_to(VDE)): openers_without_the_mode(path.read_text())
        for path in VDE.rglob("*.py")
    }
    assert {path: lines for path, lines in found.items() if lines} == {}
    assert found["database/engine.py"] == []  # make_engine was seen


def test_an_opener_without_the_mode_is_caught() -> None:
    source = """
conn = await asyncpg.connect(url)
ok = await asyncpg.connect(**connect_options({"dsn": url}))
engine = PostgresEngine(config={"dsn": url})
"""
    assert openers_without_the_mode(source) == [2, 4]
