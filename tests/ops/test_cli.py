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


IMPORT_THEN_INSTALL = """
import sys

from piccolo.apps.migrations.commands.check import CheckMigrationManager

piccolos_count = CheckMigrationManager.havent_ran_count
sys.argv = ["/venv/bin/piccolo", "vde"]

from vde.ops import cli
from vde.ops.commands.migrate import migrate
from vde.ops.piccolo_app import APP_CONFIG

assert sys.argv == ["/venv/bin/piccolo", "vde"], sys.argv
assert CheckMigrationManager.havent_ran_count is piccolos_count
assert "return" in migrate.__annotations__  # the command itself is untouched
shown = {c.callable.__name__: c.callable for c in APP_CONFIG.get_commands()}
assert "return" not in shown["migrate"].__annotations__

cli.install()
assert sys.argv == ["/venv/bin/piccolo", "vde", "help"], sys.argv
assert CheckMigrationManager.havent_ran_count is not piccolos_count
print("ok")
"""


def test_importing_the_app_changes_nothing_until_install() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_INSTALL],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr


@pytest.mark.parametrize(
    "argv",
    [["pytest", "vde"], ["/venv/bin/piccolo", "migrations", "forwards", "all"]],
)
def test_install_leaves_piccolos_count_outside_piccolo_vde(argv: list[str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from piccolo.apps.migrations.commands.check import CheckMigrationManager\n"
            "count = CheckMigrationManager.havent_ran_count\n"
            f"sys.argv = {argv!r}\n"
            "from vde.ops import cli\n"
            "cli.install()\n"
            f"assert sys.argv == {argv!r}, sys.argv\n"
            "assert CheckMigrationManager.havent_ran_count is count\n",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
