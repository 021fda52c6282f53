"""``piccolo vde info``: which server vde is talking to, and its version."""

from __future__ import annotations

from piccolo.engine import engine_finder

from vde.redaction import redacted


async def info() -> None:
    """Print the database URL (password hidden) and the server's version."""
    engine = engine_finder()
    if engine is None:
        raise SystemExit("No engine: is piccolo_conf.py (or PICCOLO_CONF) set up?")
    rows = await engine.run_ddl("SELECT version() AS version, current_database() AS db")
    dsn = str(getattr(engine, "config", {}).get("dsn", "?"))
    print(f"database: {redacted(dsn)}")
    print(f"server:   {rows[0]['version']}")
