"""Hypothesis profiles, and the one database all property examples of a module share.

``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) runs 2,000 examples per table;
the default ``quick`` profile runs 50, for a fast local check.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, settings

from tests.property.harness import STATS, Seed, plant_seed
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)

_COMMON = {
    "deadline": None,  # a database round trip has no fixed duration
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=2000, database=None, **_COMMON)
settings.register_profile("quick", max_examples=50, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@dataclass(frozen=True)
class Seeded:
    conn: asyncpg.Connection
    seed: Seed


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(vde_template: str) -> AsyncIterator[Seeded]:
    """A migrated database holding the seed rows, and one connection to it.

    Module-scoped because hypothesis runs many examples per test function: each
    example rolls its own transaction back instead of getting a new database.
    """
    server = server_url()
    name = scratch_name("property")
    url = await create_database(server, name, template=vde_template)
    # Rows leave out different columns: keep every INSERT shape prepared.
    conn = await asyncpg.connect(url, statement_cache_size=4096)
    try:
        yield Seeded(conn, await plant_seed(conn))
    finally:
        await conn.close()
        await drop_database(server, name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Examples and outcomes per table, for the record (issue 5 asks for counts)."""
    if not STATS:
        return
    terminalreporter.section("property examples per table")
    for table, counts in sorted(STATS.items()):
        outcomes = ", ".join(
            f"{key} {value}" for key, value in counts.most_common() if key != "examples"
        )
        terminalreporter.write_line(
            f"{table}: {counts['examples']} examples; {outcomes}"
        )
