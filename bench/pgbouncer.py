"""A PgBouncer in transaction mode in front of a server, for the tests and benches.

``python -m bench.pgbouncer`` runs one in front of ``DATABASE_URL``'s server
until Ctrl-C and prints what to give an application. The pooler tests
(``tests/pooler.py``) and ``bench/pooler.py`` start one per run with
:func:`running`. The configuration is ``interop/pgbouncer/pgbouncer.ini``; its
pid, log, socket and list of users go into a temporary folder, removed
afterwards. PgBouncer refuses to run as root, so as root it runs as the
``postgres`` OS user (Debian's PostgreSQL packages make it).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import pwd
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg

from vde.database import DATABASE_URL_VARIABLE, database_url
from vde.database.scratch import with_database

CONFIG = Path(__file__).resolve().parents[1] / "interop" / "pgbouncer" / "pgbouncer.ini"
#: The OS user PgBouncer runs as when started by root.
OS_USER = "postgres"
START_TIMEOUT = 15.0

Result = TypeVar("Result")


class PgBouncerError(RuntimeError):
    """PgBouncer is missing, cannot reach the server, or did not start."""


@dataclass(frozen=True)
class Upstream:
    """The server PgBouncer passes connections on to, and the role to admit."""

    host: str  # an address, or a Unix socket's folder
    port: int
    user: str
    database: str


@dataclass(frozen=True)
class PgBouncer:
    """A running PgBouncer: ``url(database)`` is a pooled URL of that database."""

    port: int
    folder: Path
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def binary() -> str | None:
    """The ``pgbouncer`` program (Debian installs it in /usr/sbin)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("pgbouncer", path=path)


def unreachable_reason() -> str | None:
    """Why PgBouncer cannot reach the server vde uses here (``DATABASE_URL``'s,
    else the embedded one), if it cannot.

    The embedded server listens on a socket in a folder of its own and admits
    only the OS user who started it; as root that is root, whom PgBouncer
    refuses to run as.
    """
    if os.geteuid() == 0 and not os.environ.get(DATABASE_URL_VARIABLE):
        return (
            "the embedded server admits only its starter (root) on its socket, "
            "and PgBouncer refuses to run as root: set DATABASE_URL to a server "
            "PgBouncer can reach (CI's run on 127.0.0.1:5432 does)"
        )
    return None


async def _ask(url: str) -> Upstream:
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT host(inet_server_addr()) AS address, inet_server_port() AS port,"
            " current_user AS user, current_database() AS database,"
            " current_setting('unix_socket_directories') AS sockets,"
            " current_setting('port')::int AS socket_port"
        )
    finally:
        await connection.close()
    if row["address"] is not None:
        return Upstream(row["address"], row["port"], row["user"], row["database"])
    folder = row["sockets"].split(",")[0].strip().strip('"')
    return Upstream(folder, row["socket_port"], row["user"], row["database"])


def _in_a_thread(work: Coroutine[Any, Any, Result]) -> Result:
    """Run ``work`` on an event loop of its own (callable while one runs here)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, work).result()


def upstream_of(url: str) -> Upstream:
    """Where the server at ``url`` listens, as it says itself."""
    return _in_a_thread(_ask(url))


async def _probe(url: str) -> None:
    connection = await asyncpg.connect(url, statement_cache_size=0)
    await connection.close()


def _check_reaches(bouncer: PgBouncer, upstream: Upstream, database: str) -> None:
    try:
        _in_a_thread(_probe(bouncer.url(database)))
    except (asyncpg.PostgresError, OSError) as error:
        hint = (
            " (PgBouncer runs as the postgres OS user, whom a server listening "
            "only on a private socket, as the embedded one does, refuses)"
            if upstream.host.startswith("/") and os.geteuid() == 0
            else ""
        )
        raise PgBouncerError(
            f"PgBouncer cannot reach the server: {error}{hint}"
        ) from error


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _write(
    folder: Path, upstream: Upstream, port: int, only: Sequence[str] | None
) -> Path:
    config = string.Template(CONFIG.read_text()).substitute(
        server_host=upstream.host,
        server_port=upstream.port,
        port=port,
        folder=folder,
    )
    if only is not None:  # as hosted poolers do: the databases listed, no other
        server = f"host={upstream.host} port={upstream.port}"
        listed = "\n".join(f"{name} = {server} dbname={name}" for name in only)
        config = re.sub(r"^\* = .*$", lambda _: listed, config, flags=re.M)
    files = {
        folder / "pgbouncer.ini": config,
        folder / "users.txt": f'"{upstream.user}" ""\n',
    }
    for path, text in files.items():
        path.write_text(text)
        path.chmod(0o644)
    return folder / "pgbouncer.ini"


def _start(
    folder: Path, upstream: Upstream, program: str, only: Sequence[str] | None
) -> tuple[PgBouncer, subprocess.Popen[bytes]]:
    for _ in range(3):  # another process may take the free port first
        port = _free_port()
        ini = _write(folder, upstream, port, only)
        command = [program, "-q", str(ini)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", OS_USER]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        bouncer = PgBouncer(port, folder, upstream.user)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _listening(port):
                return bouncer, process
            time.sleep(0.05)
        _stop(process)
        if "Address already in use" not in bouncer.log():
            raise PgBouncerError(f"PgBouncer did not start; its log:\n{bouncer.log()}")
    raise PgBouncerError("PgBouncer found no free port in three tries")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # 1.18: immediate shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(server: str, only: Sequence[str] | None = None) -> Iterator[PgBouncer]:
    """A PgBouncer in transaction mode in front of the server of URL ``server``
    for the block; stopped, and its folder removed, afterwards.

    It passes on every database name, unless ``only`` lists the ones to pass.
    """
    program = binary()
    if program is None:
        raise PgBouncerError(
            "pgbouncer is not installed (apt-get install -y pgbouncer)"
        )
    upstream = upstream_of(server)
    folder = Path(tempfile.mkdtemp(prefix="vde-pgbouncer-"))
    try:
        if os.geteuid() == 0:
            account = pwd.getpwnam(OS_USER)
            os.chown(folder, account.pw_uid, account.pw_gid)
        bouncer, process = _start(folder, upstream, program, only)
        try:
            _check_reaches(bouncer, upstream, only[0] if only else upstream.database)
            yield bouncer
        finally:
            _stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    # A plain kill stops it as Ctrl-C does: PgBouncer stopped, folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = database_url()
    with running(server) as bouncer:
        database = unquote(urlsplit(server).path.lstrip("/")) or "postgres"
        print(
            f"PgBouncer (transaction mode) listening; give the application:\n"
            f"  DATABASE_URL={with_database(bouncer.url('postgres'), database)}\n"
            f"  VDE_POOL_MODE=transaction\n"
            f"Ctrl-C stops it. Log: {bouncer.folder / 'pgbouncer.log'}",
            flush=True,
        )
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
