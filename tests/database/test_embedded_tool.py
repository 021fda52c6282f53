"""The embedded server outside the test suite: ``piccolo vde server`` keeps it
up and prints a URL and a psql command line that work; ``piccolo vde psql``
holds it while psql runs; and a SIGTERM to the last vde process stops it, while
another process still using it keeps it up.

Real processes on a real server, each test on a temporary data folder of its
own; nothing depends on ``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from vde.database.embedded import server as embedded_server

REPO = Path(__file__).resolve().parents[2]
PICCOLO = Path(sys.executable).with_name("piccolo")

#: A process that uses the server until the test signals it or closes stdin.
HOLD = """
import sys
from pathlib import Path
from vde.database.embedded import server as embedded_server
server = embedded_server.start(Path(sys.argv[1]))
print(server.pid, flush=True)
sys.stdin.read()
"""


@pytest.fixture
def data() -> Iterator[Path]:
    """A data folder under a short folder the server's user may enter; any
    server left on it is stopped at teardown."""
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="vde-t-"))
    base.chmod(0o711)
    try:
        yield base / "pgdata"
    finally:
        if (base / "pgdata").is_dir():
            embedded_server.stop_if_last(base / "pgdata")
        shutil.rmtree(base, ignore_errors=True)


def env_for(data: Path) -> dict[str, str]:
    env = {**os.environ, "VDE_PGDATA": str(data)}
    env.pop("DATABASE_URL", None)
    env.pop("PICCOLO_CONF", None)
    return env


def vde_command(data: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [str(PICCOLO), "vde", *args],
        cwd=REPO,
        env=env_for(data),
        text=True,
        **popen,
    )


def hold(data: Path) -> tuple[subprocess.Popen[str], int]:
    """A process using the server on ``data``, and the server's pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def start_server_command(data: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``piccolo vde server`` on ``data``, once it says the server is up, and
    the lines it printed by their labels."""
    process = vde_command(
        data, "server", stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    printed: dict[str, str] = {}
    for line in process.stdout:
        label, _, value = line.strip().partition(": ")
        printed[label] = value.strip()
        if line.startswith("It stays up"):
            return process, printed
    raise AssertionError(f"piccolo vde server ended: {printed}")


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split()[0])


def current_database(url: str) -> str:
    async def ask() -> str:
        connection = await asyncpg.connect(url)
        try:
            return str(await connection.fetchval("SELECT current_database()"))
        finally:
            await connection.close()

    return asyncio.run(ask())


def test_server_prints_a_working_url_and_psql_line_and_sigterm_stops_it(
    data: Path,
) -> None:
    process, printed = start_server_command(data)
    try:
        pid = postmaster_pid(data)
        assert current_database(printed["URL"]) == "vde"
        asked = subprocess.run(
            [*shlex.split(printed["psql"]), "-At", "-c", "SELECT 41 + 1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert asked.stdout.strip() == "42", asked.stderr
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, rest
        assert "SIGTERM: the embedded server stopped." in rest
        assert not embedded_server.is_postgres(pid)
    finally:
        process.kill()


def test_ctrl_c_leaves_the_server_up_while_another_process_uses_it(
    data: Path,
) -> None:
    holder, pid = hold(data)
    process, printed = start_server_command(data)
    try:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, rest
        stays = f"SIGINT: the server stays up for the vde processes {holder.pid}."
        assert stays in rest
        assert embedded_server.is_postgres(pid)
        assert current_database(printed["URL"]) == "vde"
        holder.communicate("", timeout=60)  # the last user leaves
        assert not embedded_server.is_postgres(pid)
    finally:
        for running in (holder, process):
            running.kill()


def test_psql_runs_on_the_vde_database_and_holds_the_server_until_it_ends(
    data: Path,
) -> None:
    holder, pid = hold(data)
    psql = vde_command(
        data, "psql", "--args=-At", stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert psql.stdin is not None and psql.stdout is not None
    try:
        psql.stdin.write("SELECT current_database();\n")
        psql.stdin.flush()
        assert psql.stdout.readline().strip() == "vde"
        holder.communicate("", timeout=60)  # psql's process is the last user
        psql.send_signal(signal.SIGINT)  # Ctrl-C is psql's: the session goes on
        psql.stdin.write("SELECT 41 + 1;\n")
        psql.stdin.flush()
        assert psql.stdout.readline().strip() == "42"
        assert embedded_server.is_postgres(pid)
        psql.send_signal(signal.SIGTERM)  # passed on to psql, which ends
        assert psql.wait(timeout=60) == 128 + signal.SIGTERM
        assert not embedded_server.is_postgres(pid)  # it left last: stopped
    finally:
        for running in (holder, psql):
            running.kill()


def test_psql_command_stops_at_an_error_with_psqls_status(data: Path) -> None:
    done = vde_command(
        data,
        "psql",
        "--command=SELECT 1 AS one; SELECT nope; SELECT 2 AS two",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, out + err
    assert 'column "nope" does not exist' in err
    assert "two" not in out
    assert not (data / "postmaster.pid").exists()  # the server stopped after it


def test_sigterm_to_the_last_user_stops_the_server_not_before(data: Path) -> None:
    first, pid = hold(data)
    second, same = hold(data)
    try:
        assert same == pid
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 128 + signal.SIGTERM  # exited, not killed
        assert embedded_server.is_postgres(pid)  # the second still uses it
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 128 + signal.SIGTERM
        assert not embedded_server.is_postgres(pid)
        assert not (data / "postmaster.pid").exists()
    finally:
        for running in (first, second):
            running.kill()


OWN_HANDLER = """
import signal
import sys
import threading
from pathlib import Path
from vde.database.embedded import server as embedded_server

def own(signum, frame):
    pass

data = Path(sys.argv[1])
if sys.argv[2] == "own":
    signal.signal(signal.SIGTERM, own)
    embedded_server.start(data)
    print(signal.getsignal(signal.SIGTERM) is own)
else:  # started from another thread, where Python refuses to set handlers
    started = []
    start = lambda: started.append(embedded_server.start(data))
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    print(bool(started) and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
"""


@pytest.mark.parametrize("case", ["own", "thread"])
def test_a_programs_own_sigterm_handler_and_other_threads_are_left_alone(
    data: Path, case: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", OWN_HANDLER, str(data), case],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert not (data / "postmaster.pid").exists()  # it left at exit, last
