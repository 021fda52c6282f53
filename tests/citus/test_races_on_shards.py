"""Many clients at once on a distributed database: the single server's
concurrency tests (tests/mapping/test_concurrency.py: adders under a parent
that keeps moving, swappers among siblings) rerun against the coordinator,
straight (no pooler). A client that finds its slot taken on a shard gets
``TargetOccupiedError`` and retries, as on one server; every map stays a tree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from piccolo.engine.postgres import PostgresEngine

from tests.mapping.test_concurrency import (  # noqa: F401 (fixture and tests rerun)
    CLIENTS,
    root,
    test_sixteen_adders_under_a_parent_that_keeps_moving,
    test_sixteen_clients_swapping_siblings,
)
from vde.database import connection_pool, use_engine
from vde.testing import ScratchDatabase


@pytest.fixture
async def engine(vde_db: ScratchDatabase) -> AsyncIterator[PostgresEngine]:
    """The tables on a pool of the coordinator, a connection for every client."""
    engine = PostgresEngine(config={"dsn": vde_db.url})
    with use_engine(engine):
        async with connection_pool(engine, min_size=2, max_size=CLIENTS + 2):
            yield engine
