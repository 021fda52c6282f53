"""Lint the project's migrations with squawk, raw steps included.

The SQL is previewed on an empty scratch database on the configured server (the
database Piccolo is configured with is never touched), and written to one file
per migration (``vde.ops.migration_sql``) so that a finding names its migration.

The migrations linted are the project's own (``vde.ops.project_apps``): vde's
are linted in vde's repository, with the settings that ship as
``vde/squawk.toml``, which also serve a project without a ``.squawk.toml`` of
its own. The files go to a temporary folder unless a folder is named, so a run
writes nothing into the project.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from piccolo.engine.postgres import PostgresEngine

from vde.database.scratch import scratch_database
from vde.errors import VdeError
from vde.ops.migration_sql import collect, write
from vde.ops.project_apps import own_apps, registered_apps

#: vde's squawk settings, shipped in the package.
VDE_SETTINGS = Path(__file__).resolve().parents[1] / "squawk.toml"
#: A project's own settings, in the folder the command runs in.
PROJECT_SETTINGS = Path(".squawk.toml")


class LintRefused(VdeError):
    """The lint cannot run as asked (no squawk, no such settings file)."""


def find_squawk(squawk: str) -> str:
    """The squawk executable: on PATH, or beside this Python (a venv not
    activated); :class:`LintRefused` with the install to run when neither."""
    found = shutil.which(squawk) or shutil.which(
        squawk, path=str(Path(sys.executable).parent)
    )
    if found is None:
        raise LintRefused(
            f"{squawk} not found: install it with pip install 'vde[lint]' (or "
            "pip install squawk-cli), or name the executable with --squawk=PATH"
        )
    return found


def squawk_settings(config: str = "") -> Path:
    """The settings file: ``config`` when given (it must exist), else the
    project's ``.squawk.toml`` when there is one, else vde's."""
    if config:
        if not Path(config).is_file():
            raise LintRefused(f"squawk settings {config} not found")
        return Path(config)
    return PROJECT_SETTINGS if PROJECT_SETTINGS.is_file() else VDE_SETTINGS


def apps_to_lint(apps: str = "") -> list[str]:
    """The apps named (comma-separated), else the project's own."""
    chosen = registered_apps(apps) if apps else own_apps()
    return [app.app_name for app in chosen]


@contextlib.contextmanager
def sql_folder(output: str = "") -> Iterator[Path]:
    """``output`` when given (kept), else a temporary folder (removed after)."""
    if output:
        yield Path(output)
        return
    with tempfile.TemporaryDirectory(prefix="vde-lint-") as folder:
        yield Path(folder)


async def write_migration_sql(
    engine: PostgresEngine, output: Path, apps: Sequence[str] | None = None
) -> list[Path]:
    """Each migration's SQL (of ``apps``, default all), previewed on a scratch
    database beside ``engine``'s, as a file in ``output``; raises
    ``MigrationSqlError`` when some is hidden."""
    async with scratch_database(engine.config, "lint") as scratch:
        migrations = await collect(scratch, apps)
    return write(migrations, output)


def run_squawk(executable: str, paths: list[Path], config: Path) -> int:
    """squawk's exit status on ``paths``, with ``config`` when that file exists."""
    command = [executable]
    if config.is_file():
        command += ["--config", str(config)]
    command += [str(path) for path in paths]
    return subprocess.run(command, check=False).returncode
