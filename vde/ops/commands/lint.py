"""``piccolo vde lint``: lint the SQL of the project's migrations with squawk."""

from __future__ import annotations

import sys

from vde.ops.cli import engine_or_exit
from vde.ops.migration_lint import (
    LintRefused,
    apps_to_lint,
    find_squawk,
    run_squawk,
    sql_folder,
    squawk_settings,
    write_migration_sql,
)
from vde.ops.migration_sql import MigrationSqlError
from vde.ops.project_apps import UnknownAppsError


async def lint(
    apps: str = "",
    output: str = "",
    config: str = "",
    squawk: str = "squawk",
) -> None:
    """Lint the SQL of the project's own migrations with squawk.

    The migrations are those of the project's own apps, kept in the folder of
    its piccolo_conf.py: vde's and other installed apps' are linted where they
    are made (vde's in vde's repository, where they are the project's own).

    :param apps: lint these apps' migrations, comma-separated (e.g.
        ``hexmap`` or ``auth,mapping,llm``); default: the apps whose
        migrations are in this project.
    :param output: keep the ``.sql`` files in this folder (those an earlier
        run wrote there are replaced; any other file is left alone);
        default: a temporary folder, removed afterwards.
    :param config: squawk's settings file; default: ``.squawk.toml`` here if
        there is one, else vde's (``vde/squawk.toml``).
    :param squawk: the squawk executable (``pip install 'vde[lint]'``).
    """
    try:
        executable = find_squawk(squawk)
        settings = squawk_settings(config)
        names = apps_to_lint(apps)
    except (LintRefused, UnknownAppsError) as refused:
        sys.exit(str(refused))
    if not names:
        print(
            "No migrations to lint: no registered app keeps its migrations in "
            "this project (vde's are linted in vde's repository; --apps names "
            "apps to lint all the same)."
        )
        return
    engine = engine_or_exit()
    with sql_folder(output) as folder:
        try:
            paths = await write_migration_sql(engine, folder, names)
        except MigrationSqlError as refused:
            sys.exit(str(refused))
        if not paths:
            print(f"No migrations to lint: apps {', '.join(names)} have none.")
            return
        print(
            f"squawk ({settings}): {len(paths)} migrations of apps "
            f"{', '.join(names)}" + (f" in {output}/" if output else ""),
            flush=True,
        )
        returncode = run_squawk(executable, paths, settings)
    if returncode:
        sys.exit(returncode)
