"""``piccolo vde drift``: does the live database still match its migrations?"""

from __future__ import annotations

import sys

from vde.ops.cli import engine_or_exit
from vde.ops.project_apps import registered_apps
from vde.ops.schemas import drift_from_migrations


async def drift() -> None:
    """Compare the database with what the registered apps' migrations build.

    The apps are those of piccolo_conf.py's APP_REGISTRY: vde's and the
    project's own. Prints every difference (missing table, column, index,
    constraint, trigger, function, view, sequence or type, or one that exists
    but no migration made; changed type, default, nullability, identity,
    collation or definition, a function's body or SET options included; a
    trigger disabled; a table UNLOGGED; row-level security, a policy or a
    rule; grants to PUBLIC or beyond plain DML; migrations not applied or
    recorded twice) and exits with status 1 if there is any, so CI or cron can
    run it. It needs the right to create a database: it builds the expected
    schema in a scratch one. On a Citus database distributed by `piccolo vde
    distribute`, the keys and identities it changed are expected too.
    """
    apps = ", ".join(app.app_name for app in registered_apps())
    lines = await drift_from_migrations(engine_or_exit())
    for line in lines:
        print(line)
    if lines:
        sys.exit(f"{len(lines)} difference(s) from the migrations of apps {apps}")
    print(f"No drift: the database matches the migrations of apps {apps}.")
