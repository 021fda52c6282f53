"""How ``piccolo vde`` presents itself: its list of commands, clean ``--help``,
and no write to the database before a command runs.

Piccolo's CLI (targ) only knows ``piccolo <app> <command>``: ``piccolo vde``
alone or ``piccolo vde --help`` match no command, so it prints ``Unrecognised
command`` and every command of every app. And targ lists a command's
annotations as its arguments, the return annotation included, so each help
page showed a stray ``return`` argument.

:func:`finish` fixes both for an ``AppConfig``: it drops the return annotation
of each command (a command's result is not an argument; mypy reads the source,
not ``__annotations__``), and adds ``piccolo vde help``, one line per command.
:func:`route_app_help` turns ``piccolo vde`` and ``piccolo vde --help`` into
``piccolo vde help`` before targ reads the command line; Piccolo imports the
app (through ``piccolo_conf``) before it does.

Before any command whose argv holds none of ``migrations``, ``playground``,
``asgi``, Piccolo's ``main()`` counts unapplied migrations
(``CheckMigrationManager.havent_ran_count``), and that count creates Piccolo's
``migration`` table in a database that has none. vde's commands that only read
(``info``, ``lint``, ``drift``, ``diagram``, ``adopt``'s report) must leave
someone else's database as it was, and ``migrate`` creates the table itself,
under its lock: :func:`skip_start_up_count` skips the count for ``piccolo
<app> ...`` (Piccolo swallows the count's errors anyway, and its warning would
send vde's users to ``forwards all`` instead of ``piccolo vde migrate``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.conf.apps import AppConfig, Command

#: The command that lists the app's commands.
HELP = "help"


def finish(app: AppConfig) -> None:
    """Strip the commands' return annotations; add ``help``; route bare calls;
    keep the CLI from writing before the app's commands."""
    if not any(_name(command) == HELP for command in app.get_commands()):
        app.commands.append(Command(callable=_lister(app), command_name=HELP))
    for command in app.get_commands():
        _drop_return_annotation(command.callable)
    route_app_help(app.app_name)
    skip_start_up_count(app.app_name)


def running_app_command(app_name: str, argv: list[str] | None = None) -> bool:
    """True in a ``piccolo <app_name> ...`` process."""
    argv = sys.argv if argv is None else argv
    return bool(argv) and _is_piccolo(argv[0]) and argv[1:2] == [app_name]


def skip_start_up_count(app_name: str) -> None:
    """Piccolo's start-up count of unapplied migrations is 0 for ``piccolo
    <app_name> ...``; every other command keeps Piccolo's count."""
    original = CheckMigrationManager.havent_ran_count

    async def havent_ran_count(self: CheckMigrationManager) -> int:
        if running_app_command(app_name):
            return 0
        return int(await original(self))

    CheckMigrationManager.havent_ran_count = havent_ran_count  # type: ignore[method-assign]


def route_app_help(app_name: str, argv: list[str] | None = None) -> None:
    """``piccolo <app>`` or ``piccolo <app> --help`` -> ``piccolo <app> help``.

    Only when the program is Piccolo's CLI: importing the app elsewhere (a
    test run, a web app) leaves the command line alone.
    """
    argv = sys.argv if argv is None else argv
    if not argv or not _is_piccolo(argv[0]):
        return
    if argv[1:] in ([app_name], [app_name, "--help"], [app_name, "-h"]):
        argv[2:] = [HELP]


def command_lines(app: AppConfig) -> list[str]:
    """One line per command: its name and the first line of its docstring."""
    commands = sorted(app.get_commands(), key=_name)
    width = max(len(_name(command)) for command in commands)
    return [
        f"  {_name(command).ljust(width)}  {_summary(command.callable)}"
        for command in commands
    ]


def _lister(app: AppConfig) -> Callable[[], None]:
    def help() -> None:  # noqa: A001 - the command's name on the command line
        print(f"piccolo {app.app_name} <command> [--option=value ...]\n")
        print("\n".join(command_lines(app)))
        print(f"\n`piccolo {app.app_name} <command> --help` shows a command's options.")

    help.__doc__ = f"List the commands of `piccolo {app.app_name}`, one line each."
    return help


def _drop_return_annotation(function: Callable[..., Any]) -> None:
    annotations = getattr(function, "__annotations__", None)
    if isinstance(annotations, dict):
        annotations.pop("return", None)


def _name(command: Command) -> str:
    return command.command_name or command.callable.__name__


def _summary(function: Callable[..., Any]) -> str:
    doc = (function.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _is_piccolo(program: str) -> bool:
    path = Path(program)
    return path.name == "piccolo" or path.parts[-2:] == ("piccolo", "main.py")
