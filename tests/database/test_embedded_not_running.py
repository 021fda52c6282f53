"""A URL that names the embedded server while it is not running gets a message
that says so and how to start it, from ``piccolo vde migrate`` and ``info`` and
from a plain ``make_engine()``; asyncpg's ``FileNotFoundError`` reached them
before. A socket folder that is not vde's keeps asyncpg's own error.

Each server runs on a temporary data folder; nothing depends on
``DATABASE_URL``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from vde.database import make_engine
from vde.database.embedded import server as embedded_server
from vde.database.embedded.not_running import (
    EmbeddedServerNotRunning,
    not_running,
    socket_path,
)

REPO = Path(__file__).resolve().parents[2]
PICCOLO = Path(sys.executable).with_name("piccolo")


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    """A short folder the server's user may enter (as root: embedded_postgres)."""
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="vde-t-"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def stopped(base: Path) -> str:
    """The URL of an embedded server's vde database, the server stopped."""
    data = base / "stopped"
    url = embedded_server.start(data).get_uri("vde")
    embedded_server.stop_if_last(data)
    assert not (data / embedded_server.SOCKET_NAME).exists()
    return url


def piccolo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("PICCOLO_CONF", None)
    return subprocess.run(
        [str(PICCOLO), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["migrate", "info"])
def test_a_command_on_a_stopped_servers_url_says_it_is_not_running(
    stopped: str, base: Path, command: str
) -> None:
    done = piccolo(stopped, "vde", command)
    printed = done.stdout + done.stderr
    assert done.returncode == 1, printed
    data = base / "stopped"
    assert f"{str(data)!r} is the socket folder of vde's embedded server" in printed
    assert "not running" in printed
    assert f"VDE_PGDATA={data} piccolo vde server" in printed
    assert "leave DATABASE_URL unset" in printed
    assert "FileNotFoundError" not in printed
    assert "No such file" not in printed
    assert "Migration failed" not in printed
    assert not (data / "postmaster.pid").exists()  # nothing started it


async def test_make_engine_on_a_stopped_servers_url_raises_not_running(
    stopped: str,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Piccolo's version check stays quiet
        engine = make_engine(stopped)
    with pytest.raises(EmbeddedServerNotRunning, match="piccolo vde server"):
        await engine.run_ddl("SELECT 1")
    with pytest.raises(EmbeddedServerNotRunning, match="not running"):
        await engine.start_connection_pool()
    assert engine.pool is None


def test_the_host_is_found_in_every_spelling_of_the_url(
    stopped: str, base: Path
) -> None:
    socket = base / "stopped" / embedded_server.SOCKET_NAME
    folder = quote(str(socket.parent), safe="")
    spellings = [
        {"dsn": stopped},
        {"dsn": f"postgresql://postgres@{folder}/vde"},
        {"dsn": f"postgresql://postgres@{folder}:5432/vde"},
        {"dsn": "postgresql://postgres@/vde", "host": str(socket.parent)},
        {"dsn": f"postgresql://postgres@/vde?host={folder}&port=5432"},
    ]
    for config in spellings:
        assert socket_path(config) == socket, config
        assert isinstance(not_running(config), EmbeddedServerNotRunning), config
    other_port = {"dsn": f"postgresql://postgres@/vde?host={folder}&port=5433"}
    assert socket_path(other_port) == socket.with_name(".s.PGSQL.5433")
    listing = {"dsn": f"postgresql://postgres@/vde?host={folder},/tmp"}
    assert socket_path(listing) is None  # several hosts: asyncpg tries each


async def test_a_folder_that_is_not_vdes_keeps_asyncpgs_error(base: Path) -> None:
    folder = base / "not-vde"
    folder.mkdir()
    url = f"postgresql://postgres@/vde?host={quote(str(folder), safe='')}"
    assert not_running({"dsn": url}) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Piccolo's version check warns
        engine = make_engine(url)
    with pytest.raises(FileNotFoundError):
        await engine.run_ddl("SELECT 1")


async def test_the_socket_folder_of_a_long_data_path_is_named_after_it_went(
    base: Path,
) -> None:
    data = base / ("long-" + "z" * 100)
    server = embedded_server.start(data)
    embedded_server.stop_if_last(data)
    assert server.socket_dir.name.startswith(embedded_server.OWN_SOCKET_DIR_PREFIX)
    assert not server.socket_dir.exists()  # vde removed it with the server
    engine = make_engine(server.get_uri("vde"))
    with pytest.raises(EmbeddedServerNotRunning, match="was a socket folder"):
        await engine.run_ddl("SELECT 1")


async def test_the_socket_of_a_killed_server_says_not_running(base: Path) -> None:
    data = base / "killed"
    server = embedded_server.start(data)
    try:
        os.kill(server.pid, signal.SIGKILL)  # its socket file stays behind
        deadline = time.monotonic() + 30
        while embedded_server.is_postgres(server.pid):
            assert time.monotonic() < deadline, "postgres outlived SIGKILL"
            time.sleep(0.05)
        assert (data / embedded_server.SOCKET_NAME).is_socket()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Piccolo's version check: the same
            engine = make_engine(server.get_uri("vde"))
        with pytest.raises(EmbeddedServerNotRunning) as caught:
            await engine.run_ddl("SELECT 1")
        assert isinstance(caught.value.__cause__, ConnectionRefusedError)
        done = piccolo(server.get_uri("vde"), "vde", "migrate")
        assert done.returncode == 1
        assert "is the socket folder of vde's embedded server" in done.stderr
        assert "Migration failed" not in done.stdout + done.stderr
    finally:
        embedded_server.stop_if_last(data)
