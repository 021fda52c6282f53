"""Scratch databases on a real server: created for a test, dropped after it.

Cloning a migrated template (``CREATE DATABASE ... TEMPLATE``) costs a fraction of
running the migrations again, so each test can have a database of its own.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from vde.database import DATABASE_URL_VARIABLE, embedded_server


def server_url() -> str:
    """An admin URL of the server tests run on: ``DATABASE_URL`` or the embedded one.

    Scratch databases are created next to the database it names; that database
    itself is never written to.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return str(embedded_server().get_uri("postgres"))


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (host, socket and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_test_<purpose>_<pid>_<random>``)."""
    return f"vde_test_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"


async def create_database(
    server: str, name: str, template: str | None = None
) -> str:
    """Create database ``name`` (optionally a copy of ``template``); return its URL."""
    connection = await asyncpg.connect(server)
    try:
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template}"'
        await connection.execute(sql)
    finally:
        await connection.close()
    return with_database(server, name)


async def drop_database(server: str, name: str) -> None:
    """Drop database ``name``, closing any connection a failed test left open."""
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
