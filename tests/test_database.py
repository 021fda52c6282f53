"""Where vde connects: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vde.database import database_url

# Starts the embedded server on VDE_PGDATA, then queries vde's database on it.
PROBE = """
import asyncio, asyncpg
from vde.database import database_url
async def main():
    connection = await asyncpg.connect(database_url())
    print(await connection.fetchval("SELECT current_database()"))
    await connection.close()
asyncio.run(main())
"""


def test_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.invalid:5433/x")
    assert database_url() == "postgresql://someone@db.invalid:5433/x"


def test_two_processes_start_the_embedded_server_at_once(tmp_path: Path) -> None:
    """Both find a running server (the first inits and starts it, the second joins)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["VDE_PGDATA"] = str(tmp_path / "pgdata")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [process.communicate(timeout=180) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == "vde"
    # The last process to leave stopped the server it started.
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
