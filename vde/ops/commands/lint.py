"""``piccolo vde lint``: lint the SQL of every migration with squawk."""

from __future__ import annotations

import sys
from pathlib import Path

from vde.ops.cli import engine_or_exit
from vde.ops.migration_lint import find_squawk, run_squawk, write_migration_sql
from vde.ops.migration_sql import MigrationSqlError


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
    executable = find_squawk(squawk)
    if executable is None:
        sys.exit(f"{squawk} not found: pip install -e '.[dev]' (squawk-cli)")
    engine = engine_or_exit()
    try:
        paths = await write_migration_sql(engine, Path(output))
    except MigrationSqlError as refused:
        sys.exit(str(refused))
    print(f"squawk: {len(paths)} migrations in {output}/", flush=True)
    returncode = run_squawk(executable, paths, Path(config))
    if returncode:
        sys.exit(returncode)
