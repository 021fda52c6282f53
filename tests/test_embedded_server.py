"""The embedded server (``vde.embedded_server``) lets in no other local user and
runs nothing from its path.

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

from vde import database, embedded_server
from vde.embedded_server import EmbeddedServer

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
from vde import database, embedded_server
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
        assert embedded_server._alive(pid)  # the second still uses it
        second.communicate("\n", timeout=60)
        assert not embedded_server._alive(pid)
        assert not (data / "postmaster.pid").exists()
    finally:
        for process in (first, second):
            process.kill()
