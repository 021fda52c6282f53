"""The fixtures of the ``vde.testing`` plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest_asyncio
from piccolo.engine.postgres import PostgresEngine

from vde.testing.engine import use_engine
from vde.testing.migrate import migrate
from vde.testing.scratch import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)


@dataclass(frozen=True)
class ScratchDatabase:
    """A database that lives for one test."""

    name: str
    url: str
    engine: PostgresEngine

    async def connect(self) -> asyncpg.Connection:
        """A new raw asyncpg connection (the caller closes it)."""
        return await asyncpg.connect(self.url)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def vde_template() -> AsyncIterator[str]:
    """Name of a database migrated once per session, the template of every test's."""
    server = server_url()
    name = scratch_name("template")
    url = await create_database(server, name)
    try:
        await migrate(url)
        yield name
    finally:
        await drop_database(server, name)


@pytest_asyncio.fixture
async def vde_db(vde_template: str) -> AsyncIterator[ScratchDatabase]:
    """A fresh copy of the migrated template; Piccolo's tables point at it."""
    server = server_url()
    name = scratch_name("db")
    url = await create_database(server, name, template=vde_template)
    engine = PostgresEngine(config={"dsn": url})
    try:
        with use_engine(engine):
            yield ScratchDatabase(name=name, url=url, engine=engine)
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
