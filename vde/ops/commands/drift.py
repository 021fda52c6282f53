"""``piccolo vde drift``: does the live database still match vde's migrations?"""

from __future__ import annotations

import sys

from vde.ops.cli import engine_or_exit
from vde.ops.schemas import drift_from_migrations


async def drift() -> None:
    """Compare the database with what vde's tables and migrations define.

    Prints every difference (missing or extra table, column, index, constraint,
    trigger or function; changed type, default, nullability, identity, collation
    or definition, a function's body or SET options included; a trigger
    disabled; a table UNLOGGED; row-level security, a policy or a rule; grants
    to PUBLIC or beyond plain DML; migrations not applied or recorded twice)
    and exits with
    status 1 if there is any, so CI or cron can run it. It needs the right to
    create a database: it builds the expected schema in a scratch one.
    """
    lines = await drift_from_migrations(engine_or_exit())
    for line in lines:
        print(line)
    if lines:
        sys.exit(f"{len(lines)} difference(s) from vde's migrations")
    print("No drift: the database matches vde's migrations.")
