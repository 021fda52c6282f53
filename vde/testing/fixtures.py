"""The fixtures of the ``vde.testing`` plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest_asyncio
from piccolo.engine.postgres import PostgresEngine

from vde.database import connection_pool
from vde.database.engine_switch import use_engine
from vde.database.forwards import migrate_database
from vde.database.pool_mode import connect_options
from vde.database.scratch import end_idle_sessions
from vde.testing.databases import (
    create_database,
    drop_abandoned_databases,
    drop_database,
    scratch_name,
    server_url,
)
from vde.testing.guard import SecretUrl

#: Each test's engine runs on a pool, as repositories are told to (docs/benchmarks.md):
#: tests then see pooled connections' behaviour (statement caches, generic plans,
#: RESET ALL between queries). Small, because many tests share one server.
POOL_SIZE: dict[str, Any] = {"min_size": 1, "max_size": 4}


@dataclass(frozen=True)
class ScratchDatabase:
    """A database that lives for one test (its ``url`` repr hides the password)."""

    name: str
    url: str
    engine: PostgresEngine

    async def connect(self) -> asyncpg.Connection:
        """A new raw asyncpg connection (the caller closes it)."""
        return await asyncpg.connect(**connect_options({"dsn": self.url}))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def vde_template() -> AsyncIterator[str]:
    """Name of a database migrated once per session, the template of every test's.

    Through a pooler (``DATABASE_URL`` a pooled URL) the pooler's own sessions
    on it are ended before it is cloned.
    """
    server = server_url()
    await drop_abandoned_databases(server)  # of runs killed before cleaning up
    name = scratch_name("template")
    url = SecretUrl(await create_database(server, name))
    try:
        await migrate_database(url)
        await end_idle_sessions(server, name)
        yield name
    finally:
        await drop_database(server, name)


@pytest_asyncio.fixture
async def vde_db(vde_template: str) -> AsyncIterator[ScratchDatabase]:
    """A fresh copy of the migrated template; Piccolo's tables point at it.

    Its engine's pool is open for the test and closed before the database is
    dropped; ``connection_pool()`` inside a test reuses it.
    """
    server = server_url()
    name = scratch_name("db")
    url = SecretUrl(await create_database(server, name, template=vde_template))
    engine = PostgresEngine(config=connect_options({"dsn": url}))
    try:
        with use_engine(engine):
            async with connection_pool(engine, **POOL_SIZE):
                yield ScratchDatabase(name=name, url=url, engine=engine)
    finally:
        await drop_database(server, name)


@pytest_asyncio.fixture
async def vde_empty_url() -> AsyncIterator[str]:
    """The URL of a new, empty database (no migrations), dropped after the test.

    For tests of migrations themselves: apply, roll back, race, lint.
    """
    server = server_url()
    name = scratch_name("empty")
    url = SecretUrl(await create_database(server, name))
    try:
        yield url
    finally:
        await drop_database(server, name)


@pytest_asyncio.fixture
async def vde_conn(vde_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A raw asyncpg connection to the test's database."""
    connection = await vde_db.connect()
    try:
        yield connection
    finally:
        await connection.close()
