"""Apply every registered app's migrations to a given database, in this process."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine

from vde.testing.engine import use_engine


class MigrationError(RuntimeError):
    """``forwards all`` failed; the message carries Piccolo's output."""


async def migrate(url: str) -> None:
    """``piccolo migrations forwards all`` on ``url``, quiet unless it fails."""
    output = io.StringIO()
    with use_engine(PostgresEngine(config={"dsn": url})):
        with contextlib.redirect_stdout(output):
            result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationError(f"{result.message}\n{output.getvalue()}")
