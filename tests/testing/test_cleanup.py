"""The plugin drops the scratch databases of dead test processes, never a live one's."""

from __future__ import annotations

import secrets
import subprocess
import sys

import asyncpg

from vde.database.processes import process_alive
from vde.testing import ScratchDatabase
from vde.testing.databases import (
    create_database,
    drop_abandoned_databases,
    drop_database,
    server_url,
    with_database,
)


def ghost(pid: int, purpose: str = "ghost") -> str:
    """A name as ``scratch_name`` makes it, for process ``pid``."""
    return f"vde_test_{purpose}_{pid}_{secrets.token_hex(4)}"


async def existing(names: list[str]) -> set[str]:
    conn = await asyncpg.connect(server_url())
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname = ANY($1)", names
        )
    finally:
        await conn.close()
    return {row["datname"] for row in rows}


async def test_databases_of_dead_processes_go_and_of_live_ones_stay(
    vde_db: ScratchDatabase,
) -> None:
    server = server_url()
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    running = subprocess.Popen(["sleep", "60"])
    assert not process_alive(finished.pid) and process_alive(running.pid)
    dead, live, in_use = ghost(finished.pid), ghost(running.pid), ghost(finished.pid)
    quoted = ghost(finished.pid, 'gh"ost')  # dropped as itself
    for name in (dead, live, in_use, quoted):
        await create_database(server, name)
    user = await asyncpg.connect(with_database(server, in_use))
    try:
        dropped = await drop_abandoned_databases(server)
        assert dead in dropped and quoted in dropped
        assert live not in dropped and in_use not in dropped
        # This run's own databases (the template, this test's) are alive too.
        assert vde_db.name not in dropped
        assert await existing([dead, live, in_use, quoted, vde_db.name]) == {
            live,
            in_use,
            vde_db.name,
        }
    finally:
        await user.close()
        running.kill()
        running.wait()
        for name in (dead, live, in_use, quoted):
            await drop_database(server, name)
