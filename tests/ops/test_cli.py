"""``piccolo vde`` lists vde's commands, one line each; no help shows ``return``.

Run through Piccolo's own console script, as a user types it, in the repository
(its ``piccolo_conf.py``) on the test's scratch database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vde.ops.cli import HELP, command_lines, route_app_help
from vde.ops.piccolo_app import APP_CONFIG
from vde.testing import ScratchDatabase

REPO = Path(__file__).resolve().parents[2]
PICCOLO = Path(sys.executable).with_name("piccolo")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COMMANDS = sorted(
    command.command_name or command.callable.__name__
    for command in APP_CONFIG.get_commands()
)


def piccolo(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    env.pop("PICCOLO_CONF", None)
    return subprocess.Popen(
        [str(PICCOLO), *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def output(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stdout + stderr
    return ANSI.sub("", stdout)


def test_vde_and_vde_help_list_the_commands_one_line_each(
    vde_db: ScratchDatabase,
) -> None:
    runs = [piccolo(vde_db.url, "vde"), piccolo(vde_db.url, "vde", "--help")]
    for printed in map(output, runs):
        assert "Unrecognised command" not in printed
        assert "migrations forwards" not in printed  # not Piccolo's whole list
        listed = [line for line in printed.splitlines() if line.startswith("  ")]
        assert [line.split()[0] for line in listed] == COMMANDS
        assert listed == command_lines(APP_CONFIG)
        assert all(len(line.split(maxsplit=1)) == 2 for line in listed)  # a summary
    assert "migrate" in COMMANDS and HELP in COMMANDS


def test_no_command_help_shows_a_return_argument(vde_db: ScratchDatabase) -> None:
    runs = {name: piccolo(vde_db.url, "vde", name, "--help") for name in COMMANDS}
    for name, process in runs.items():
        printed = output(process)
        args = printed.split("Args\n----\n", 1)[1]
        assert not re.search(r"^return\b", args, re.MULTILINE), (name, printed)
        assert printed.lstrip().startswith(name), printed
    assert "timeout [default=0]" in output(
        piccolo(vde_db.url, "vde", "migrate", "--help")
    )


@pytest.mark.parametrize(
    ("argv", "routed"),
    [
        (["/venv/bin/piccolo", "vde"], ["/venv/bin/piccolo", "vde", "help"]),
        (["piccolo", "vde", "--help"], ["piccolo", "vde", "help"]),
        (["/x/piccolo/main.py", "vde", "-h"], ["/x/piccolo/main.py", "vde", "help"]),
        (["piccolo", "vde", "migrate"], ["piccolo", "vde", "migrate"]),
        (["piccolo", "migrations", "--help"], ["piccolo", "migrations", "--help"]),
        (["pytest", "vde"], ["pytest", "vde"]),
    ],
)
def test_only_a_bare_piccolo_vde_is_routed_to_help(
    argv: list[str], routed: list[str]
) -> None:
    route_app_help("vde", argv)
    assert argv == routed
