"""Fixtures of the tests on a Citus cluster (the ``citus`` marker).

Every test here is marked ``citus``: ``pytest -m citus`` runs them, ``-m "not
citus"`` leaves them out. Each test module gets a database of its own on the
coordinator, migrated by vde's ``migrate`` and distributed by ``distribute
--apply``, dropped after the module; each test points Piccolo's tables at it
(``citus_db``). tests/citus/cluster.py tells where the cluster comes from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from piccolo.engine.postgres import PostgresEngine

from tests.citus.cluster import SHARD_COUNT, UNAVAILABLE, Cluster, session_cluster
from tests.citus.rerun import vde_conn, vde_db  # noqa: F401 (fixtures)
from tests.mapping.conftest import add_tile, home, race_map  # noqa: F401 (fixtures)
from vde.database import connection_pool
from vde.database.engine_switch import use_engine
from vde.database.forwards import migrate_database
from vde.ops.distribute import distribute
from vde.testing import ScratchDatabase
from vde.testing.fixtures import POOL_SIZE

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.citus)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """A test skipped for want of Citus is reported at cluster.py, so that
    ``-ra`` says why in one line, not one per test."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and isinstance(report.longrepr, tuple):
        _, _, reason = report.longrepr
        if reason.startswith(f"Skipped: {UNAVAILABLE}"):
            report.longrepr = (str(HERE / "cluster.py"), 1, reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def citus_cluster() -> AsyncIterator[Cluster]:
    """The cluster of the session: found running or started (and then stopped)."""
    cluster = await session_cluster()
    try:
        yield cluster
    finally:
        if cluster.started:
            cluster.run("stop")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def citus_url(
    citus_cluster: Cluster, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The URL of the module's database: migrated and distributed."""
    purpose = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    name = citus_cluster.create_database(purpose[:20])
    try:
        url = citus_cluster.url(name)
        await migrate_database(url)
        await distribute(url, apply=True, shard_count=SHARD_COUNT)
        yield url
    finally:
        citus_cluster.drop_database(name)


@pytest_asyncio.fixture
async def citus_db(citus_url: str) -> AsyncIterator[ScratchDatabase]:
    """The module's distributed database; Piccolo's tables point at it for the
    test (as ``vde_db`` does for a single server's)."""
    engine = PostgresEngine(config={"dsn": citus_url})
    name = citus_url.rpartition("/")[2]
    with use_engine(engine):
        async with connection_pool(engine, **POOL_SIZE):
            yield ScratchDatabase(name=name, url=citus_url, engine=engine)


@pytest_asyncio.fixture
async def citus_conn(citus_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection to the coordinator's database of the module."""
    connection = await citus_db.connect()
    try:
        yield connection
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def citus_empty(citus_cluster: Cluster) -> AsyncIterator[str]:
    """The URL of a database with Citus and nothing else, dropped afterwards."""
    name = citus_cluster.create_database("empty")
    try:
        yield citus_cluster.url(name)
    finally:
        citus_cluster.drop_database(name)
