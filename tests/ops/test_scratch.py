"""Scratch databases: names taken as given."""

from __future__ import annotations

import secrets

import asyncpg

from vde.ops.scratch import create_database, drop_database
from vde.testing.scratch import scratch_name, server_url


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
