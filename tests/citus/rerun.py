"""Single-server tests rerun on the cluster: ``vde_db`` and ``vde_conn`` there.

A module of tests/citus imports test functions (and the fixtures they use)
from the single-server suites; these fixtures, registered by this folder's
conftest, then give them the module's distributed database instead of a
fresh copy of the template. Making a distributed database costs about 15
seconds, so a module's tests share one, and each test empties every vde
table afterwards (TRUNCATE reaches each shard) for the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from vde.registry import vde_tables
from vde.testing import ScratchDatabase


async def empty_tables(url: str) -> None:
    """Every vde table emptied: distributed ones (reaching each shard) first,
    then the coordinator's own."""
    connection = await asyncpg.connect(url)
    try:
        distributed = {
            row["name"]
            for row in await connection.fetch(
                "SELECT logicalrelid::regclass::text AS name FROM pg_dist_partition"
            )
        }
        names = [table._meta.tablename for table in vde_tables()]
        spread = [name for name in names if name in distributed]
        local = [name for name in names if name not in distributed]
        await connection.execute(f"TRUNCATE {', '.join(spread)} CASCADE")
        await connection.execute(f"TRUNCATE {', '.join(local)} CASCADE")
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def vde_db(citus_db: ScratchDatabase) -> AsyncIterator[ScratchDatabase]:
    """The module's distributed database, emptied after the test."""
    try:
        yield citus_db
    finally:
        await empty_tables(citus_db.url)


@pytest_asyncio.fixture
async def vde_conn(vde_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection to the coordinator's database of the module."""
    connection = await vde_db.connect()
    try:
        yield connection
    finally:
        await connection.close()
