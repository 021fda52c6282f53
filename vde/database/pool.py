"""The engine Piccolo is configured with, and a pool of connections for a block."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde.database.pool_mode import connect_options
from vde.errors import EngineMismatchError, VdeError, echo


@dataclass(frozen=True)
class PooledEngine:
    """An engine with its running pool: ``pool`` is never None inside the block."""

    engine: PostgresEngine
    pool: asyncpg.Pool


def configured_engine() -> PostgresEngine:
    """``piccolo_conf.DB``, the engine the tables use; it must be a PostgresEngine."""
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        raise EngineMismatchError(
            "vde needs a PostgresEngine as DB in piccolo_conf.py (found "
            f"{echo(engine)}): is piccolo_conf.py (or PICCOLO_CONF) set up?"
        )
    return engine


@contextlib.asynccontextmanager
async def connection_pool(
    engine: PostgresEngine | None = None,
    *,
    pool_mode: str | None = None,
    **pool_kwargs: Any,
) -> AsyncIterator[PooledEngine]:
    """Run the block's Piccolo queries on a pool of reused connections.

    Without a pool Piccolo opens and closes a new connection for every query
    (see docs/benchmarks.md for the cost). ``engine`` defaults to ``piccolo_conf.DB``,
    the engine the tables use; ``pool_kwargs`` go to ``asyncpg.create_pool``
    (``min_size``, ``max_size``, ...). An engine whose pool is already running
    (a web app's, or ``vde.testing``'s) is used as it is and left open. The
    block gets a :class:`PooledEngine`: ``db.pool`` for vde's query helpers
    outside a unit of work, ``db.engine`` for Piccolo.

    ``pool_mode="transaction"`` (default: the engine's, else ``VDE_POOL_MODE``)
    makes the pool's connections work behind a transaction pooler
    (``vde.database.pool_mode``); an engine made for the other mode refuses.
    """
    engine = engine or configured_engine()
    options = connect_options({**engine.config, **pool_kwargs}, pool_mode)
    if engine.pool is not None:
        yield PooledEngine(engine, engine.pool)
        return
    await engine.start_connection_pool(**options)
    try:
        pool = engine.pool
        if pool is None:  # Piccolo's start_connection_pool always sets it
            raise VdeError("the engine's pool did not start")
        yield PooledEngine(engine, pool)
    finally:
        await engine.close_connection_pool()
