"""Apply every registered app's migrations to a given database, in this process.

The drift check builds its reference schema this way, and the test plugin its
template database: Piccolo is pointed at the database for the duration only.
"""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine

from vde.ops.engine import use_engine


class MigrationError(RuntimeError):
    """``forwards all`` failed; the message carries Piccolo's output."""


async def migrate(url: str) -> None:
    """``piccolo migrations forwards all`` on ``url``, quiet unless it fails."""
    await migrate_engine(PostgresEngine(config={"dsn": url}))


async def migrate_engine(engine: PostgresEngine) -> None:
    """:func:`migrate` for an engine (a server given by connect arguments)."""
    output = io.StringIO()
    with use_engine(engine):
        with contextlib.redirect_stdout(output):
            try:
                result = await run_forwards(app_name="all")
            except Exception as exc:
                raise MigrationError(f"{exc!r}\n{output.getvalue()}") from exc
    if not result.success:
        raise MigrationError(f"{result.message}\n{output.getvalue()}")
