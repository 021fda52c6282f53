"""Fixtures for tests through a real PgBouncer in transaction mode.

``pgbouncer`` starts one for the session in front of the test server
(``bench/pgbouncer.py``, ``interop/pgbouncer/pgbouncer.ini``); ``pooled`` puts
the test's own database (``vde_db``) behind it, with Piccolo's tables on an
engine made with ``pool_mode="transaction"``. Without the ``pgbouncer``
program the tests skip saying so, except in CI (``CI`` true, or
``VDE_REQUIRE_PGBOUNCER`` set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from piccolo.engine.postgres import PostgresEngine

from bench import pgbouncer as bouncers
from bench.pgbouncer import PgBouncer
from vde.database import connection_pool, make_engine, use_engine
from vde.testing import ScratchDatabase
from vde.testing.databases import server_url
from vde.testing.guard import SecretUrl


def required() -> bool:
    """CI must run the pooler tests: a missing PgBouncer fails them there."""
    return os.environ.get("CI", "").lower() in ("true", "1") or bool(
        os.environ.get("VDE_REQUIRE_PGBOUNCER")
    )


@pytest.fixture(scope="session")
def pgbouncer() -> Iterator[PgBouncer]:
    """A PgBouncer in transaction mode in front of the test server."""
    if bouncers.binary() is None:
        message = (
            "pgbouncer is not installed (apt-get install -y pgbouncer): the "
            "tests through a transaction pooler need it"
        )
        if required():
            pytest.fail(f"{message}; CI must run them")
        pytest.skip(message)
    reason = bouncers.unreachable_reason()
    if reason is not None:
        pytest.skip(f"no tests through PgBouncer here: {reason}")
    with bouncers.running(server_url()) as bouncer:
        yield bouncer


@dataclass(frozen=True)
class Pooled:
    """The test's database behind PgBouncer: its pooled ``url`` and an engine on
    it (``pool_mode="transaction"``, pool running) that Piccolo's tables use."""

    url: str
    engine: PostgresEngine
    bouncer: PgBouncer


@pytest_asyncio.fixture
async def pooled(
    pgbouncer: PgBouncer, vde_db: ScratchDatabase
) -> AsyncIterator[Pooled]:
    url = SecretUrl(pgbouncer.url(vde_db.name))
    engine = make_engine(url, pool_mode="transaction")
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=4):
            yield Pooled(url, engine, pgbouncer)
