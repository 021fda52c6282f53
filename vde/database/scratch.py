"""Throw-away databases on a real server (a drift check's reference, a test's data).

A fresh database that the migrations build is the cheapest exact schema on the
live server's version. Each name carries its creator's pid, so a later run drops
those of killed processes on this host (:func:`drop_abandoned_databases`),
never one in use or not its own; docs/operations.md ("drift") tells more.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from vde.database.pool_mode import connect_options
from vde.database.processes import process_alive
from vde.errors import VdeError
from vde.redaction import redacted
from vde.sql import quoted

#: A server: a URL, or asyncpg ``connect`` keyword arguments.
Server = str | Mapping[str, Any]


class ScratchDatabaseUnreachable(VdeError):
    """A scratch database was made but cannot be connected to (a pooler in
    front of the server passes on only the databases it lists); it was dropped."""


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (host, socket and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_<purpose>_<pid>_<random>``)."""
    return f"vde_{purpose}_{os.getpid()}_{secrets.token_hex(4)}"


def connect_kwargs(server: Server, database: str | None = None) -> dict[str, Any]:
    """asyncpg ``connect`` arguments for ``server``, optionally at ``database``.

    asyncpg lets keyword arguments win over the DSN, so ``database`` overrides
    the database a URL names. They carry the pool mode (``VDE_POOL_MODE``, or
    the one an engine's ``config`` was made for): scratch and admin
    connections work through a transaction pooler too.
    """
    kwargs = {"dsn": server} if isinstance(server, str) else dict(server)
    if database is not None:
        kwargs["database"] = database
    return connect_options(kwargs)


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


async def end_idle_sessions(server: Server, name: str) -> int:
    """End this role's idle sessions on database ``name``; return how many.

    A pooler keeps its server connections to a database open after its clients
    have gone, and ``CREATE DATABASE ... TEMPLATE`` refuses a template anyone
    is connected to: a scratch database that was migrated through a pooler
    becomes a template only after this. The server waits a few seconds for
    ended sessions to exit before it refuses.
    """
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        ended: int = await connection.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
            "FROM pg_stat_activity WHERE datname = $1 AND state = 'idle' "
            "AND usename = current_user AND pid <> pg_backend_pid()",
            name,
        )
        return ended
    finally:
        await connection.close()


async def drop_database(server: Server, name: str) -> None:
    """Drop database ``name``, closing any connection left open on it."""
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
    finally:
        await connection.close()


@asynccontextmanager
async def scratch_database(
    server: Server, purpose: str
) -> AsyncIterator[PostgresEngine]:
    """An engine on a new empty database for the block, dropped after it; the
    ``vde_<purpose>_*`` databases of killed runs go first."""
    await drop_abandoned_databases(server, purpose)
    name = scratch_name(purpose)
    await create_database(server, name)
    try:
        await _check_reachable(server, name)
        yield PostgresEngine(config=connect_kwargs(server, name))
    finally:
        await drop_database(server, name)


async def _check_reachable(server: Server, name: str) -> None:
    """Refuse, naming the way out, when the new database cannot be reached."""
    try:
        connection = await asyncpg.connect(**connect_kwargs(server, name))
    except asyncpg.PostgresError as error:
        where = server if isinstance(server, str) else str(server.get("dsn", ""))
        raise ScratchDatabaseUnreachable(
            f"made the scratch database {name} but cannot connect to it through "
            f"{redacted(where) or 'this server'} ({error}): a pooler in front of "
            "the server passes on only the databases it lists. Run this with "
            "DATABASE_URL set to the server's direct URL, not the pooler's "
            "(docs/pooler.md)"
        ) from error
    await connection.close()


#: Hosts that name this machine (an empty host: the default Unix socket).
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def is_local(server: Server) -> bool:
    """Every host ``server`` may connect to is this one, so the pids in
    scratch names are this host's processes."""
    return all(host in LOCAL_HOSTS or host.startswith("/") for host in _hosts(server))


def _hosts(server: Server) -> list[str]:
    """The hosts asyncpg tries: ``host=`` first, else the URL's, else PGHOST."""
    dsn: str | None
    if isinstance(server, str):
        dsn, given = server, None
    else:
        dsn, given = server.get("dsn"), server.get("host")
    if given is not None:
        return [given] if isinstance(given, str) else [str(h) for h in given]
    hosts: list[str] = []
    if dsn:
        parts = urlsplit(dsn)
        for entry in parts.netloc.rpartition("@")[2].split(","):
            if entry.startswith("["):  # [v6] or [v6]:port
                hosts.append(entry[1:].partition("]")[0])
            else:  # host or host:port, a socket folder percent-encoded
                hosts.append(unquote(entry.partition(":")[0]))
        for key, value in parse_qsl(parts.query):
            if key == "host":
                hosts += value.split(",")
    named = [host for host in hosts if host]
    return named or os.environ.get("PGHOST", "").split(",")


def owner_pid(name: str, purpose: str) -> int | None:
    """The pid in ``name`` if :func:`scratch_name` made it for ``purpose`` (or
    for ``purpose_<anything>``), else None."""
    pattern = rf"vde_{re.escape(purpose)}_(?:.+_)?(?P<pid>\d+)_[0-9a-f]{{8}}"
    found = re.fullmatch(pattern, name)
    pid = int(found["pid"]) if found else 0
    return pid if 0 < pid < 2**31 else None  # else no process's


async def drop_abandoned_databases(server: Server, purpose: str) -> list[str]:
    """Drop the ``vde_<purpose>_*`` databases of dead local processes (see the
    module's doc); return their names."""
    if not is_local(server):
        return []
    connection = await asyncpg.connect(**connect_kwargs(server))
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database "
            "WHERE starts_with(datname, $1) AND NOT datistemplate",
            f"vde_{purpose}_",
        )
        dropped = []
        for (name,) in names:
            pid = owner_pid(name, purpose)
            if pid is None or process_alive(pid):
                continue
            try:
                await connection.execute(f"DROP DATABASE IF EXISTS {quoted(name)}")
            except (asyncpg.ObjectInUseError, asyncpg.InsufficientPrivilegeError):
                continue  # in use, or another role's: not ours to drop
            dropped.append(name)
        return dropped
    finally:
        await connection.close()
