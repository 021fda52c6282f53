"""Lint every migration's SQL with squawk, raw steps included.

The SQL is previewed on an empty scratch database on the configured server (the
database Piccolo is configured with is never touched), and written to one file
per migration (``vde.ops.migration_sql``) so that a finding names its migration.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from piccolo.engine.postgres import PostgresEngine

from vde.database.scratch import scratch_database
from vde.ops.migration_sql import collect, write


def find_squawk(squawk: str) -> str | None:
    """The squawk executable: on PATH, or beside this Python (a venv not
    activated)."""
    return shutil.which(squawk) or shutil.which(
        squawk, path=str(Path(sys.executable).parent)
    )


async def write_migration_sql(engine: PostgresEngine, output: Path) -> list[Path]:
    """Each migration's SQL, previewed on a scratch database beside ``engine``'s,
    as a file in ``output``; raises ``MigrationSqlError`` when some is hidden."""
    async with scratch_database(engine.config, "lint") as scratch:
        migrations = await collect(scratch)
    return write(migrations, output)


def run_squawk(executable: str, paths: list[Path], config: Path) -> int:
    """squawk's exit status on ``paths``, with ``config`` when that file exists."""
    command = [executable]
    if config.is_file():
        command += ["--config", str(config)]
    command += [str(path) for path in paths]
    return subprocess.run(command, check=False).returncode
