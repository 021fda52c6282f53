"""Throw-away databases on a real server (a drift check's reference, a test's data).

Creating a database and dropping it again is the cheapest way to get a schema that
is exactly what the migrations build, on the same server version as the live one.
A server is named by a ``postgresql://`` URL or by asyncpg ``connect`` keyword
arguments (a Piccolo engine's ``config``); any database on it will do, since
``CREATE DATABASE`` works from every database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from vde.database import DATABASE_URL_VARIABLE, embedded_server
from vde.sql import quoted

#: A server: a URL, or asyncpg ``connect`` keyword arguments.
Server = str | Mapping[str, Any]


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (host, socket and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def server_url() -> str:
    """An admin URL of vde's server: ``DATABASE_URL``'s, or the embedded one's.

    Scratch databases are created next to the database it names; that database
    itself is never written to.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return url
    return str(embedded_server().get_uri("postgres"))


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_<purpose>_<pid>_<random>``)."""
    return f"vde_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"


def connect_kwargs(server: Server, database: str | None = None) -> dict[str, Any]:
    """asyncpg ``connect`` arguments for ``server``, optionally at ``database``.

    asyncpg lets keyword arguments win over the DSN, so ``database`` overrides
    the database a URL names.
    """
    kwargs = {"dsn": server} if isinstance(server, str) else dict(server)
    if database is not None:
        kwargs["database"] = database
    return kwargs


async def create_database(
    server: Server, name: str, template: str | None = None
) -> str:
    """Create database ``name`` (optionally a copy of ``template``).

    Returns its URL when ``server`` is a URL (else ``name``).
    """
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        sql = f"CREATE DATABASE {quoted(name)}"
        if template:
            sql += f" TEMPLATE {quoted(template)}"
        await connection.execute(sql)
    finally:
        await connection.close()
    return with_database(server, name) if isinstance(server, str) else name


async def drop_database(server: Server, name: str) -> None:
    """Drop database ``name``, closing any connection left open on it."""
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
    finally:
        await connection.close()
