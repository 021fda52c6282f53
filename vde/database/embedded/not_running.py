"""A URL that names vde's embedded server while that server is not running.

The URL of the embedded server (``piccolo vde info``, ``piccolo vde server``)
names its socket folder: the data folder, or a private folder when that path
is too long for a socket. Once the last vde process has stopped the server the
socket is gone, and all asyncpg can say is ``FileNotFoundError``, which reads
as a failed query. So where vde connects it first recognises such a folder as
the embedded server's (a data folder vde keeps, or a socket folder of the kind
vde makes) and says that the server is not running and how to start it. A
folder that is not vde's (a system server's socket folder) is left to asyncpg's
own error.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from piccolo.engine.postgres import PostgresEngine

from vde.database.embedded.binaries import EmbeddedServerError
from vde.database.embedded.handles import HANDLES_FILE
from vde.database.embedded.postmaster import OWN_SOCKET_DIR_PREFIX, socket_base

DEFAULT_PORT = 5432
#: What leaves the server to vde again; said in every message.
UNSET = (
    "or leave DATABASE_URL unset: vde then starts the embedded server itself "
    "in every process that needs it"
)


class EmbeddedServerNotRunning(EmbeddedServerError):
    """The URL names vde's embedded server, which is not running."""


def not_running(config: Mapping[str, Any]) -> EmbeddedServerNotRunning | None:
    """The error for asyncpg ``connect`` arguments (a Piccolo engine's
    ``config``) whose host is a socket folder of vde's embedded server with no
    socket in it; None when they name anything else or the socket is there."""
    found = socket_path(config)
    if found is None:
        return None
    try:
        os.lstat(found)
    except FileNotFoundError:
        return _error(found)
    except OSError:  # a folder this user may not look into: not for vde to say
        return None
    return None


def refused(
    config: Mapping[str, Any], error: OSError
) -> EmbeddedServerNotRunning | None:
    """The error for a failed connection to vde's embedded server: its socket is
    missing, or left behind by a killed server so that nothing listens."""
    if not isinstance(error, FileNotFoundError | ConnectionRefusedError):
        return None
    found = socket_path(config)
    return None if found is None else _error(found)


def socket_path(config: Mapping[str, Any]) -> Path | None:
    """The socket path the arguments name when their one host is a socket
    folder of vde's embedded server (whether or not the socket is there)."""
    host, port = _host_and_port(config)
    if not host.startswith("/") or "," in host or not port.isdigit():
        return None
    folder = Path(host)
    if not (_is_data_folder(folder) or _is_own_socket_folder(folder)):
        return None
    return folder / f".s.PGSQL.{port}"


class EmbeddedAwareEngine(PostgresEngine):
    """A ``PostgresEngine`` that, asked to connect to vde's embedded server
    while it is not running, raises :class:`EmbeddedServerNotRunning` instead of
    asyncpg's ``FileNotFoundError``; it skips Piccolo's version check at
    construction then (a warning that would name that same error)."""

    async def check_version(self) -> None:
        if not_running(self.config) is None:
            await super().check_version()  # type: ignore[no-untyped-call]

    async def get_new_connection(self) -> Any:
        try:
            return await super().get_new_connection()
        except OSError as error:
            stopped = refused(self.config, error)
            if stopped is None:
                raise
            raise stopped from error

    async def start_connection_pool(self, **kwargs: Any) -> None:
        try:
            await super().start_connection_pool(**kwargs)
        except OSError as error:
            stopped = refused({**self.config, **kwargs}, error)
            if stopped is None:
                raise
            raise stopped from error


def _host_and_port(config: Mapping[str, Any]) -> tuple[str, str]:
    """The host and port asyncpg would use: keyword arguments win over the
    URL's query, which wins over its authority, then PGHOST and PGPORT."""
    dsn = config.get("dsn")
    url_host = url_port = ""
    if isinstance(dsn, str) and dsn:
        parts = urlsplit(dsn)
        query = dict(parse_qsl(parts.query))
        authority = parts.netloc.rpartition("@")[2]
        if not authority.startswith("["):
            name, _, number = authority.rpartition(":")
            if not number.isdigit():
                name, number = authority, ""
            url_host, url_port = unquote(name), number
        url_host = query.get("host", url_host)
        url_port = query.get("port", url_port)
    host = config.get("host") or url_host or os.environ.get("PGHOST", "")
    port = config.get("port") or url_port or os.environ.get("PGPORT", "")
    return (
        host if isinstance(host, str) else "",
        str(port) if isinstance(port, int | str) and port else str(DEFAULT_PORT),
    )


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def _is_data_folder(folder: Path) -> bool:
    """A PostgreSQL data folder that vde's processes have used."""
    return _exists(folder / "PG_VERSION") and _exists(folder / HANDLES_FILE)


def _is_own_socket_folder(folder: Path) -> bool:
    """A socket folder of the kind vde makes (it goes when its server stops)."""
    return folder.parent == socket_base() and folder.name.startswith(
        OWN_SOCKET_DIR_PREFIX
    )


def _error(socket: Path) -> EmbeddedServerNotRunning:
    folder = socket.parent
    if _is_own_socket_folder(folder):
        return EmbeddedServerNotRunning(
            f"{str(folder)!r} was a socket folder of vde's embedded server, which "
            "is not running: vde makes such a folder when the data folder's path "
            "is too long to hold the socket, and a new one at each start. Start "
            "the server and keep it up with `piccolo vde server`, then use the "
            f"URL it prints; {UNSET}."
        )
    return EmbeddedServerNotRunning(
        f"{str(folder)!r} is the socket folder of vde's embedded server, which is "
        f"not running (nothing listens on {socket.name} there). Start it and "
        f"keep it up with `VDE_PGDATA={shlex.quote(str(folder))} piccolo vde "
        f"server`; {UNSET}."
    )
