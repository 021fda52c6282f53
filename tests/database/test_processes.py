"""``process_alive``: the one answer to "does this pid still run here?" that
scratch names, the embedded server's handles and ``is_postgres`` share."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vde.database.processes import process_alive, program_name


def test_a_running_process_lives_and_a_reaped_one_does_not() -> None:
    running = subprocess.Popen(["sleep", "60"])
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    try:
        assert process_alive(running.pid) and process_alive(os.getpid())
        assert program_name(running.pid) == "sleep"
        assert not process_alive(finished.pid)
        assert program_name(finished.pid) is None
    finally:
        running.kill()
        running.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_zombie_has_ended() -> None:
    # posix_spawn: no Popen object, so nothing reaps the child behind our back.
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 0"], os.environ)
    try:
        deadline = time.monotonic() + 30
        stat = Path(f"/proc/{pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        assert not process_alive(pid)
        assert program_name(pid) is None
    finally:
        os.waitpid(pid, 0)


@pytest.mark.parametrize("pid", [0, -1, -os.getpid(), 2**40])
def test_no_process_group_or_impossible_pid_counts_as_alive(pid: int) -> None:
    assert not process_alive(pid)
