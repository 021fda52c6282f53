"""Scratch databases: names taken as given; dead runs' leftovers dropped."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import asyncpg
import pytest

from vde.database.scratch import (
    create_database,
    drop_abandoned_databases,
    drop_database,
    end_idle_sessions,
    is_local,
    owner_pid,
    with_database,
)
from vde.testing.databases import scratch_name, server_url


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


async def databases(prefix: str) -> set[str]:
    """The databases whose names start with ``prefix``."""
    connection = await asyncpg.connect(server_url())
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
    finally:
        await connection.close()
    return {row["datname"] for row in rows}


async def drop_quietly(names: list[str]) -> None:
    """Drop ``names`` quoted by the server (``format``'s %I), not by the code
    under test, so that a failure there still cleans up."""
    connection = await asyncpg.connect(server_url())
    try:
        for name in names:
            sql = await connection.fetchval(
                "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)",
                name,
            )
            await connection.execute(sql)
    finally:
        await connection.close()


async def test_a_name_holding_quotes_is_created_as_that_name_not_as_a_copy() -> None:
    server = server_url()
    source = scratch_name("source")
    # Spliced in unquoted, this would be `CREATE DATABASE "<prefix>" TEMPLATE
    # "<source>"`: a copy of source under another name.
    prefix = f"vde_test_q_{secrets.token_hex(2)}"
    odd = f'{prefix}" TEMPLATE "{source}'
    assert len(odd) < 64  # PostgreSQL would cut a longer name
    conn = await asyncpg.connect(await create_database(server, source))
    try:
        await conn.execute("CREATE TABLE copied_marker (id int)")
    finally:
        await conn.close()
    try:
        url = await create_database(server, odd)
        assert await databases(prefix) == {odd}
        conn = await asyncpg.connect(url)  # its URL names exactly that database
        try:
            assert await conn.fetchval("SELECT current_database()") == odd
            assert await conn.fetchval("SELECT to_regclass('copied_marker')") is None
        finally:
            await conn.close()
        await drop_database(server, odd)
        assert await databases(prefix) == set()
        assert await databases(source) == {source}
    finally:
        await drop_quietly([odd, prefix, source])


async def test_the_sweep_drops_its_purposes_dead_databases_only() -> None:
    server = server_url()
    dead, alive = dead_pid(), os.getpid()
    suffix = secrets.token_hex(4)
    gone = [f"vde_drift_{dead}_{suffix}", f'vde_drift_x"y_{dead}_{suffix}']
    kept = [
        f"vde_drift_{alive}_{suffix}",  # its process runs
        f"vde_lint_{dead}_{suffix}",  # another purpose
        f"vde_drift_{dead}_{suffix}x",  # not a scratch name
    ]
    for name in gone + kept:
        await create_database(server, name)
    try:
        dropped = await drop_abandoned_databases(server, "drift")
        assert set(gone) <= set(dropped)
        assert not set(kept) & set(dropped)
        assert await databases("vde_") >= set(kept)
        assert not await databases("vde_") & set(gone)
    finally:
        await drop_quietly(gone + kept)


def test_owner_pid_reads_scratch_names_of_one_purpose() -> None:
    assert owner_pid("vde_drift_123_0a1b2c3d", "drift") == 123
    assert owner_pid("vde_test_db_123_0a1b2c3d", "test") == 123
    assert owner_pid('vde_test_a"b_123_0a1b2c3d', "test") == 123
    assert owner_pid("vde_test_db_123_0a1b2c3d", "drift") is None
    assert owner_pid("vde_drift_123_0a1b2c3", "drift") is None
    assert owner_pid("vde_drift_0_0a1b2c3d", "drift") is None
    assert owner_pid(f"vde_drift_{2**40}_0a1b2c3d", "drift") is None


@pytest.mark.parametrize(
    ("server", "local"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", True),
        ("postgresql://u@[::1]:5432/db", True),
        ("postgresql:///vde?host=/tmp/pgdata", True),
        ("postgresql://postgres@%2Ftmp%2Fpg/vde", True),
        ("postgresql://localhost,127.0.0.1:5433/vde", True),
        ("postgresql://ci@db.example.com:5432/postgres", False),
        ("postgresql:///vde?host=db.example.com", False),
        ("postgresql://localhost,db.example.com/vde", False),
        ({"dsn": "postgresql://u@localhost/vde"}, True),
        ({"dsn": "postgresql://u@localhost/vde", "host": "db.example.com"}, False),
        ({"host": ["/run/postgresql", "::1"], "database": "vde"}, True),
    ],
)
def test_only_a_server_on_this_host_is_local(server: object, local: bool) -> None:
    assert is_local(server) is local  # type: ignore[arg-type]


async def test_a_server_on_another_host_is_not_even_connected_to() -> None:
    # A pid means nothing on another machine.
    assert await drop_abandoned_databases("postgresql://ci@db.invalid/x", "drift") == []


async def test_a_template_held_by_idle_sessions_is_cloned_once_they_are_ended() -> None:
    # As a pooler holds its server connections to a database it migrated.
    server = server_url()
    template, copy = scratch_name("held"), scratch_name("copy")
    await create_database(server, template)
    idle = await asyncpg.connect(with_database(server, template))
    try:
        busy = await asyncpg.connect(with_database(server, template))
        try:
            async with busy.transaction():  # in a transaction: not idle, kept
                await busy.execute("SELECT 1")
                assert await end_idle_sessions(server, template) == 1
                assert not busy.is_closed()
        finally:
            await busy.close()
        await create_database(server, copy, template=template)
        with pytest.raises((asyncpg.AdminShutdownError, asyncpg.InterfaceError)):
            await idle.execute("SELECT 1")
    finally:
        idle.terminate()
        await drop_quietly([template, copy])
