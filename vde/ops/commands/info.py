"""``piccolo vde info``: which server vde is talking to, and its version."""

from __future__ import annotations

from vde.ops.cli import engine_or_exit
from vde.redaction import redacted


async def info() -> None:
    """Print the database URL (password hidden) and the server's version."""
    engine = engine_or_exit()
    rows = await engine.run_ddl("SELECT version() AS version, current_database() AS db")
    print(f"database: {redacted(str(engine.config.get('dsn', '?')))}")
    print(f"server:   {rows[0]['version']}")
