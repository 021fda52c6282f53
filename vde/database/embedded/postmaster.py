"""The server running on a data folder, and proof that it is that folder's.

``postmaster.pid`` belongs to the server's OS user and may be stale, copied
with the folder, or rewritten, so vde believes it only as far as it checks it:
the pid it names must be a postgres process of the server's user working in
this very folder (``/proc/<pid>/cwd``), and the server its socket reaches must
report this folder as its ``data_directory`` and the system identifier of the
folder's ``global/pg_control``. The pid is signalled through a pidfd, so a pid
reused after the check is never hit; a socket folder is removed only when vde
made it.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from vde.database.embedded.binaries import (
    EmbeddedServerError,
    RunAs,
    bin_dir,
    system_identifier,
)
from vde.database.embedded.link_safe_files import open_folder, read_regular
from vde.database.processes import program_name

#: The socket's file name (the port only names it: nothing listens on TCP).
SOCKET_NAME = ".s.PGSQL.5432"
#: Marks a socket folder vde made outside the data folder (removed at stop).
OWN_SOCKET_DIR_PREFIX = "vde-pg-"
STOP_TIMEOUT = 60.0


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


def socket_base() -> Path:
    """Where vde makes a socket folder when the data folder's path is too long."""
    base = tempfile.gettempdir()
    return Path("/tmp" if len(os.fsencode(base)) > 40 else base)


def running(data_dir: Path, folder: int, run_as: RunAs) -> EmbeddedServer | None:
    """The server ``postmaster.pid`` names, if it is this folder's and ready.

    A pid that is not a postgres of the server's user is a stale file, which
    postgres replaces itself; one working in another folder is refused."""
    lines = (read_regular(folder, "postmaster.pid") or b"").decode(errors="replace")
    fields = lines.splitlines()
    if len(fields) < 8 or fields[7].strip() != "ready" or not fields[4].strip():
        return None
    if not fields[0].strip().isdigit():
        return None
    pid = int(fields[0])
    cwd = _working_folder(pid, run_as.uid)
    if cwd is None:
        return None
    if not os.path.samestat(cwd, os.fstat(folder)):
        raise EmbeddedServerError(
            f"{str(data_dir / 'postmaster.pid')!r} names process {pid}, a server "
            f"of another data folder: this folder is a copy made while that server "
            f"ran (or the file is stale). vde neither uses nor stops that server. If "
            f"no server runs on {str(data_dir)!r}, delete its postmaster.pid (and "
            f"{SOCKET_NAME}.lock, if there) and start again."
        )
    return EmbeddedServer(data_dir, Path(fields[4].strip()), pid)


def check_identity(server: EmbeddedServer, folder: int, run_as: RunAs) -> None:
    """Refuse a server whose socket leads to another data folder's server."""
    reported = server.psql(
        "SELECT current_setting('data_directory') || '|' || system_identifier "
        "FROM pg_control_system()"
    ).strip()
    reported_dir, _, reported_id = reported.rpartition("|")
    own_id = system_identifier(server.data_dir, run_as)
    try:
        same_dir = os.path.samestat(os.stat(reported_dir), os.fstat(folder))
    except OSError:
        same_dir = False
    if not same_dir or reported_id != own_id:
        raise EmbeddedServerError(
            f"the socket in {str(server.socket_dir)!r} reaches the server of "
            f"{reported_dir!r} (system identifier {reported_id}), not of "
            f"{str(server.data_dir)!r} (system identifier {own_id}); vde neither "
            "uses nor stops it. Stop the server running on the data folder, or "
            "delete its postmaster.pid if none runs, and start again."
        )


def stop(server: EmbeddedServer, folder: int, run_as: RunAs) -> None:
    """Fast shutdown of ``server``, if its pid is still this folder's postgres."""
    try:
        pidfd = os.pidfd_open(server.pid)
    except ProcessLookupError:
        return
    try:
        cwd = _working_folder(server.pid, run_as.uid)
        if cwd is None or not os.path.samestat(cwd, os.fstat(folder)):
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(pidfd, signal.SIGINT)
        poll = select.poll()
        poll.register(pidfd, select.POLLIN)
        poll.poll(int(STOP_TIMEOUT * 1000))  # readable once it has exited
    finally:
        os.close(pidfd)


def remove_own_socket_folder(path: Path, run_as: RunAs) -> None:
    """Remove a socket folder vde made (in the socket base, named by its prefix,
    the server's user's), and in it only the socket's own files."""
    if path.parent != socket_base() or not path.name.startswith(OWN_SOCKET_DIR_PREFIX):
        return
    base = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = open_folder(path.name, dir_fd=base)
        try:
            if os.fstat(fd).st_uid != run_as.uid:
                return
            for name in (SOCKET_NAME, SOCKET_NAME + ".lock"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=fd)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):  # not empty: not only vde's
            os.rmdir(path.name, dir_fd=base)
    except OSError:
        pass
    finally:
        os.close(base)


def is_postgres(pid: int) -> bool:
    """``pid`` is a live postgres process (not a reused pid, not a zombie)."""
    return program_name(pid) == "postgres"


def _working_folder(pid: int, uid: int) -> os.stat_result | None:
    """The working folder of ``pid`` if it is a live postgres of ``uid``."""
    if not is_postgres(pid):
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:"))
        real_uid = int(uids.split()[1])
        return os.stat(f"/proc/{pid}/cwd") if real_uid == uid else None
    except (OSError, StopIteration, ValueError):
        return None
