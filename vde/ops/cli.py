"""How ``piccolo vde`` presents itself: its list of commands, clean ``--help``,
and no write to the database before a command runs.

Piccolo's CLI (targ) only knows ``piccolo <app> <command>``: ``piccolo vde``
alone or ``piccolo vde --help`` match no command, so it prints ``Unrecognised
command`` and every command of every app. And targ lists a command's
annotations as its arguments, the return annotation included, so each help
page would show a stray ``return`` argument. :func:`app_commands` builds the
app's commands without either fault, as plain data for its ``AppConfig``: a
copy of each command without its return annotation (a command's result is not
an argument; mypy reads the source), and ``help``, one line per command.
Importing the app changes nothing else.

Two fixes must change Piccolo's run itself, so they belong where the CLI
starts, not in an import: ``piccolo vde`` and ``piccolo vde --help`` become
``piccolo vde help`` before targ reads the command line; and Piccolo's start-up
count of unapplied migrations is skipped. Before any command whose argv holds
none of ``migrations``, ``playground``, ``asgi``, Piccolo's ``main()`` counts
them (``CheckMigrationManager.havent_ran_count``), and that count creates
Piccolo's ``migration`` table in a database that has none. vde's commands that
only read (``info``, ``lint``, ``drift``, ``diagram``, ``adopt``'s report) must
leave someone else's database as it was, and ``migrate`` creates the table
itself, under its lock (Piccolo swallows the count's errors anyway, and its
warning would send vde's users to ``forwards all`` instead of ``piccolo vde
migrate``).

The only code Piccolo's ``main()`` runs between starting and parsing the
command line is the import of ``piccolo_conf`` (and of the apps it lists), so
``piccolo_conf.py`` calls :func:`install`, which acts only in a ``piccolo``
process. A console script of vde's own could patch Piccolo and then call
``piccolo.main.main()``, but ``piccolo vde ...``, the command users type, would
not pass through it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.conf.apps import AppConfig, Command
from piccolo.engine.postgres import PostgresEngine

from vde.database.embedded.not_running import not_running
from vde.database.pool import configured_engine
from vde.errors import EngineMismatchError

#: The command that lists the app's commands.
HELP = "help"


def app_commands(
    app_name: str, functions: Sequence[Callable[..., Any]]
) -> list[Callable[..., Any] | Command]:
    """The commands of app ``app_name`` for its ``AppConfig``: each function as
    targ should show it, and ``help``; the functions themselves are untouched."""
    commands = [Command(callable=_without_return_annotation(f)) for f in functions]
    lister = _without_return_annotation(_lister(app_name, commands))
    commands.append(Command(callable=lister, command_name=HELP))
    return list(commands)


def install(app_name: str = "vde", argv: list[str] | None = None) -> None:
    """In a ``piccolo`` process: route ``piccolo <app>`` (and ``--help``) to its
    ``help``, and skip the start-up count before ``piccolo <app> ...``.

    Call it in ``piccolo_conf.py``; elsewhere (a test run, a web app) it does
    nothing.
    """
    argv = sys.argv if argv is None else argv
    if not argv or not _is_piccolo(argv[0]):
        return
    route_app_help(app_name, argv)
    if argv[1:2] == [app_name]:
        CheckMigrationManager.havent_ran_count = _no_count  # type: ignore[method-assign]


def route_app_help(app_name: str, argv: list[str]) -> None:
    """``piccolo <app>`` or ``piccolo <app> --help`` -> ``piccolo <app> help``."""
    if argv and _is_piccolo(argv[0]):
        if argv[1:] in ([app_name], [app_name, "--help"], [app_name, "-h"]):
            argv[2:] = [HELP]


def engine_or_exit() -> PostgresEngine:
    """The engine of ``piccolo_conf.py`` for a command, or exit saying why not
    (none, or the embedded server its URL names is not running)."""
    try:
        engine = configured_engine()
    except EngineMismatchError as missing:
        raise SystemExit(str(missing)) from None
    stopped = not_running(engine.config)
    if stopped is not None:
        raise SystemExit(str(stopped))
    return engine


def command_lines(app: AppConfig) -> list[str]:
    """One line per command: its name and the first line of its docstring."""
    return _lines(app.get_commands())


async def _no_count(self: CheckMigrationManager) -> int:
    return 0


def _lines(commands: Sequence[Command]) -> list[str]:
    ordered = sorted(commands, key=_name)
    width = max(len(_name(command)) for command in ordered)
    return [
        f"  {_name(command).ljust(width)}  {_summary(command.callable)}"
        for command in ordered
    ]


def _lister(app_name: str, commands: Sequence[Command]) -> Callable[[], None]:
    def help() -> None:  # noqa: A001 - the command's name on the command line
        print(f"piccolo {app_name} <command> [--option=value ...]\n")
        print("\n".join(_lines(commands)))
        print(f"\n`piccolo {app_name} <command> --help` shows a command's options.")

    help.__doc__ = f"List the commands of `piccolo {app_name}`, one line each."
    return help


def _without_return_annotation(function: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``function`` (same code, defaults, docstring) whose annotations
    leave out ``return``."""
    if not isinstance(function, types.FunctionType):
        raise TypeError(f"a command must be a function, not {function!r}")
    copy = types.FunctionType(
        function.__code__,
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__doc__ = function.__doc__
    copy.__module__ = function.__module__
    copy.__qualname__ = function.__qualname__
    copy.__annotations__ = {
        name: value
        for name, value in function.__annotations__.items()
        if name != "return"
    }
    return copy


def _name(command: Command) -> str:
    return command.command_name or command.callable.__name__


def _summary(function: Callable[..., Any]) -> str:
    doc = (function.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _is_piccolo(program: str) -> bool:
    path = Path(program)
    return path.name == "piccolo" or path.parts[-2:] == ("piccolo", "main.py")
