"""One unit of work for Piccolo's tables and vde's helpers alike.

Piccolo runs each query on a connection of its own (or of its pool) unless a
transaction of *its* engine is open: then every query of that engine joins the
transaction's connection (a context variable). vde's SQL helpers take an
asyncpg connection. So one transaction for both must be Piccolo's, opened on the
engine the tables use, and handed to the helpers as its connection: that is
:func:`atomic`, and :class:`Tx` is what it yields.

Concurrent editors of one map lock overlapping rows, and PostgreSQL breaks a
lock cycle by aborting one transaction (deadlock, SQLSTATE 40P01; serializable
transactions may fail with 40001). The whole transaction was rolled back, so
running the whole unit again is safe and is what PostgreSQL's manual asks of
the application: :func:`run_atomic`. Constraint violations are answers, not
accidents, and are never retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from vde.errors import VdeError

T = TypeVar("T")

#: The errors after which the same transaction may simply run again.
RETRYABLE: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


class EngineMismatchError(VdeError):
    """A unit of work was asked to run on an engine the tables do not use."""


@dataclass(frozen=True)
class Tx:
    """One open transaction: Piccolo's queries in the block and vde's helpers given it.

    ``connection`` is the asyncpg connection the transaction runs on, for SQL of
    your own; ``engine`` is the Piccolo engine it belongs to.
    """

    connection: asyncpg.Connection
    engine: PostgresEngine


#: What vde's helpers accept as their unit of work: a :class:`Tx`, an asyncpg
#: connection (pooled or not) or an asyncpg pool (one transaction of its own).
Executor: TypeAlias = Tx | asyncpg.Connection | asyncpg.Pool


def tables_engine(engine: PostgresEngine | None = None) -> PostgresEngine:
    """The engine vde's tables run on; ``engine`` must be that one when given.

    A transaction on any other engine would not contain the tables' queries:
    they would commit on their own while the block rolled back.
    """
    from vde.registry import vde_tables

    used = {id(table._meta.db): table._meta.db for table in vde_tables()}
    if len(used) != 1:
        raise EngineMismatchError(
            "vde's tables run on several engines; point them all at one "
            "(piccolo_conf.DB) before opening a unit of work"
        )
    (theirs,) = used.values()
    if not isinstance(theirs, PostgresEngine):
        raise EngineMismatchError(
            f"vde's tables run on {type(theirs).__name__}; a unit of work needs "
            "a PostgresEngine as DB in piccolo_conf.py"
        )
    if engine is not None and engine is not theirs:
        raise EngineMismatchError(
            "this engine is not the one vde's tables use, so their queries would "
            "run outside the transaction; pass the tables' engine "
            "(piccolo_conf.DB, or Table._meta.db) or leave engine= out"
        )
    return theirs


@asynccontextmanager
async def atomic(*, engine: PostgresEngine | None = None) -> AsyncIterator[Tx]:
    """Open ONE transaction for the block; an exception rolls all of it back.

    Every Piccolo table query in the block and every vde helper given the
    :class:`Tx` (or ``tx.connection``) runs in it. Inside another ``atomic``
    block it is a savepoint: its failure undoes only its own part.
    """
    engine = tables_engine(engine)
    outer = engine.current_transaction.get()
    if outer is not None:
        async with outer.connection.transaction():
            yield Tx(outer.connection, engine)
        return
    async with engine.transaction() as transaction:
        yield Tx(transaction.connection, engine)


async def run_atomic(
    work: Callable[[Tx], Awaitable[T]],
    *,
    attempts: int = 3,
    engine: PostgresEngine | None = None,
    base_delay: float = 0.005,
    on_retry: Callable[[Exception], None] | None = None,
) -> T:
    """``await work(tx)`` in :func:`atomic`; run it again if chosen as a victim.

    ``work`` must do all its writes through the tables or ``tx`` and be safe to
    run again: it is rolled back whole before each new attempt. Only a
    transaction of its own can be retried, so it refuses to start inside an
    open one. After ``attempts`` failures the last error is raised. Waits grow
    exponentially with jitter, so the transactions that deadlocked do not meet
    again at once.
    """
    if not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"attempts must be an integer >= 1, got {attempts!r}")
    engine = tables_engine(engine)
    if engine.current_transaction.get() is not None:
        raise VdeError(
            "run_atomic needs a transaction of its own to retry it; call it "
            "outside atomic(), or use atomic() alone inside"
        )
    for attempt in range(1, attempts + 1):
        try:
            async with atomic(engine=engine) as tx:
                return await work(tx)
        except RETRYABLE as error:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(error)
            await asyncio.sleep(base_delay * 2**attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


@asynccontextmanager
async def transaction_of(executor: Executor) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction for one helper's writes.

    A :class:`Tx` or a connection gets a savepoint in its transaction (or a
    transaction, if none is open), so a refused helper undoes only itself; a
    pool lends a connection for one transaction of the helper's own.
    """
    if isinstance(executor, asyncpg.Pool):
        async with executor.acquire() as connection, connection.transaction():
            yield connection
        return
    connection = executor.connection if isinstance(executor, Tx) else executor
    async with connection.transaction():
        yield connection


@asynccontextmanager
async def connection_of(executor: Executor) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reads: the Tx's or the given one, or one lent by a pool."""
    if isinstance(executor, asyncpg.Pool):
        async with executor.acquire() as connection:
            yield connection
        return
    yield executor.connection if isinstance(executor, Tx) else executor
