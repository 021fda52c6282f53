"""One unit of work for Piccolo's tables and vde's helpers alike.

:func:`atomic` opens Piccolo's transaction on the tables' engine and hands its
connection to vde's helpers as a :class:`Tx`, so both run in one transaction;
:func:`run_atomic` runs the unit again when PostgreSQL picks it as a deadlock or
serialization victim (constraint violations are answers, never retried).
docs/usage.md ("Connections and units of work") tells the story.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from piccolo.engine.postgres import PostgresEngine

from vde.errors import EngineMismatchError, InvalidArgumentError, VdeError, echo
from vde.registry import tables_engine

__all__ = [
    "RETRYABLE",
    "EngineMismatchError",
    "Executor",
    "Tx",
    "atomic",
    "connection_of",
    "run_atomic",
    "tables_engine",
    "transaction_of",
]

#: What the unit of work given to :func:`run_atomic` returns.
Result = TypeVar("Result")

#: The errors after which the same transaction may simply run again.
RETRYABLE: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


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
Executor: TypeAlias = Tx | asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool


@asynccontextmanager
async def atomic(*, engine: PostgresEngine | None = None) -> AsyncIterator[Tx]:
    """Open ONE transaction for the block; an exception rolls all of it back.

    Every Piccolo table query in the block (in this task and the tasks it
    starts) and every vde helper given the :class:`Tx` (or ``tx.connection``)
    runs in it. Inside another ``atomic`` block (or Piccolo's own
    ``DB.transaction()``) it is a savepoint: its failure undoes only its part.

    Piccolo's transaction is what makes its queries join (they look for it in a
    context variable), but its ``__aexit__`` leaves that variable set and the
    connection out of the pool when COMMIT itself fails (a serialization
    failure, a deferred constraint); this block always resets and releases.
    """
    engine = tables_engine(engine)
    outer = engine.current_transaction.get()
    if outer is not None:
        async with outer.connection.transaction():
            yield Tx(outer.connection, engine)
        return
    transaction = engine.transaction()
    pool = engine.pool
    connection = await (pool.acquire() if pool else engine.get_new_connection())
    token = None
    try:
        # What Piccolo's own __aenter__ sets: its queries and savepoints use them.
        transaction.connection = connection
        transaction.transaction = connection.transaction()
        await transaction.transaction.start()
        token = engine.current_transaction.set(transaction)
        try:
            yield Tx(connection, engine)
        except BaseException:
            try:
                if not connection.is_closed():
                    await transaction.transaction.rollback()
            except Exception:
                # The block's own error is the one to see; a connection that
                # could not roll back must never go back to the pool.
                connection.terminate()
            raise
        await transaction.transaction.commit()
    finally:
        if token is not None:
            engine.current_transaction.reset(token)
        if pool is not None:
            await pool.release(connection)
        else:
            await connection.close()


async def run_atomic(
    work: Callable[[Tx], Awaitable[Result]],
    *,
    attempts: int = 3,
    engine: PostgresEngine | None = None,
    base_delay: float = 0.005,
    on_retry: Callable[[Exception], None] | None = None,
) -> Result:
    """``await work(tx)`` in :func:`atomic`; run it again if chosen as a victim.

    ``work`` must do all its writes through the tables or ``tx`` and be safe to
    run again: it is rolled back whole before each new attempt. Only a
    transaction of its own can be retried, so it refuses to start inside an
    open one. After ``attempts`` failures the last error is raised. Waits grow
    exponentially with jitter, so the transactions that deadlocked do not meet
    again at once.
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise InvalidArgumentError(
            f"attempts must be an integer >= 1, got {echo(attempts)}"
        )
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
    """A connection inside a transaction, for one helper's writes.

    A :class:`Tx` or a connection gets a savepoint in its transaction (or a
    transaction, if none is open), so a refused helper undoes only itself. A
    pool lends a connection for one transaction of the helper's own; but inside
    an :func:`atomic` block of the engine that owns that pool, the helper joins
    the block (a second transaction there would commit apart from it, and could
    wait forever on the block's own row locks).
    """
    _check(executor)
    if isinstance(executor, asyncpg.Pool):
        joined = _open_transaction_on(executor)
        if joined is None:
            async with executor.acquire() as connection, connection.transaction():
                yield connection
            return
        executor = joined
    connection = executor.connection if isinstance(executor, Tx) else executor
    async with connection.transaction():
        yield connection


@asynccontextmanager
async def connection_of(executor: Executor) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reads: the Tx's or the given one, or one lent by a pool.

    A pool inside an :func:`atomic` block of its engine reads in the block, so
    the reads see the block's own writes.
    """
    _check(executor)
    if isinstance(executor, asyncpg.Pool):
        joined = _open_transaction_on(executor)
        if joined is None:
            async with executor.acquire() as connection:
                yield connection
            return
        executor = joined
    yield executor.connection if isinstance(executor, Tx) else executor


def _check(executor: object) -> None:
    if not isinstance(
        executor, Tx | asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool
    ):
        hint = " (pass its .pool)" if hasattr(executor, "pool") else ""
        raise InvalidArgumentError(
            "a vde helper needs a Tx (from atomic()), an asyncpg connection or "
            f"pool, got {type(executor).__name__}{hint}"
        )


def _open_transaction_on(pool: asyncpg.Pool) -> asyncpg.Connection | None:
    """The connection of this task's open transaction on the tables' engine, if
    that engine runs on ``pool``."""
    try:
        engine = tables_engine()
    except EngineMismatchError:
        return None
    transaction = engine.current_transaction.get()
    if transaction is None or engine.pool is not pool:
        return None
    connection: asyncpg.Connection = transaction.connection
    return connection
