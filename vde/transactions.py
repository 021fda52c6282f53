"""Run a unit of work in a transaction, again when PostgreSQL asks for it.

Concurrent editors of one map lock overlapping rows (a move locks a subtree, a
cascading delete its children, an insert its parent), and PostgreSQL breaks a
lock cycle by aborting one transaction with a deadlock error (SQLSTATE 40P01);
serializable transactions may fail with 40001. Either way the whole transaction
was rolled back, so running it again is safe and is what PostgreSQL's manual
asks of the application. Constraint violations are not retried: they are
answers, not accidents.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")

#: The errors after which the same transaction may simply run again.
RETRYABLE: tuple[type[Exception], ...] = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


async def retry_transaction(
    conn: asyncpg.Connection,
    work: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base_delay: float = 0.005,
    on_retry: Callable[[Exception], None] | None = None,
) -> T:
    """``await work()`` inside a transaction on ``conn``; retry it on 40P01/40001.

    ``work`` must do all its writes on ``conn`` and be safe to run again (it is
    rolled back whole before each new attempt). The connection must not be in a
    transaction already: only the outermost transaction can be retried. After
    ``attempts`` failures the last error is raised. Waits grow exponentially
    with jitter, so the transactions that deadlocked do not meet again at once.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    if conn.is_in_transaction():
        raise ValueError("retry_transaction needs a connection outside a transaction")
    for attempt in range(1, attempts + 1):
        try:
            async with conn.transaction():
                return await work()
        except RETRYABLE as error:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(error)
            await asyncio.sleep(base_delay * 2**attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")
