"""``piccolo vde lint``: lint the SQL of every migration with squawk.

The SQL is previewed on an empty scratch database on the configured server (the
database Piccolo is configured with is never touched), raw steps included, and
written to one file per migration so that a finding names its migration.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

from vde.database.scratch import (
    connect_kwargs,
    create_database,
    drop_abandoned_databases,
    drop_database,
    scratch_name,
)
from vde.ops.migration_sql import MigrationSqlError, collect, write


async def lint(
    output: str = "build/migration-sql",
    config: str = ".squawk.toml",
    squawk: str = "squawk",
) -> None:
    """Write each migration's SQL to ``output`` and run squawk on it.

    :param output: folder for the ``.sql`` files (those an earlier run wrote
        there are replaced; any other file is left alone).
    :param config: squawk's config file, used when it exists.
    :param squawk: the squawk executable (``pip install squawk-cli``).
    """
    executable = shutil.which(squawk) or shutil.which(
        squawk, path=str(Path(sys.executable).parent)
    )
    if executable is None:
        sys.exit(f"{squawk} not found: pip install -e '.[dev]' (squawk-cli)")
    engine = engine_finder()
    if not isinstance(engine, PostgresEngine):
        sys.exit("No PostgreSQL engine: is piccolo_conf.py (or PICCOLO_CONF) set up?")
    server = engine.config
    await drop_abandoned_databases(server, "lint")  # of killed runs
    name = scratch_name("lint")
    await create_database(server, name)
    try:
        scratch = PostgresEngine(config=connect_kwargs(server, database=name))
        migrations = await collect(scratch)
    finally:
        await drop_database(server, name)
    try:
        paths = write(migrations, Path(output))
    except MigrationSqlError as refused:
        sys.exit(str(refused))

    command = [executable]
    if Path(config).is_file():
        command += ["--config", config]
    command += [str(path) for path in paths]
    print(f"squawk: {len(paths)} migrations in {output}/", flush=True)
    returncode = subprocess.run(command, check=False).returncode
    if returncode:
        sys.exit(returncode)
