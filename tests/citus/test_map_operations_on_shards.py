"""The stateful map-operations test (tests/property/test_map_operations.py)
on a distributed database: random sequences of every operation over two
owners' maps against the model, fewer runs than on one server (each step
there asks every shard for the whole-table comparison)."""

from __future__ import annotations

import pytest_asyncio

from tests.property.test_map_operations import add_users, run_machine

#: Runs of up to 30 steps: about 40 s on the test cluster (2 cores, loaded).
EXAMPLES = 4


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def machine_url(citus_url: str) -> str:
    await add_users(citus_url)
    return citus_url


def test_map_operations_match_the_model_on_shards(machine_url: str) -> None:
    run_machine(machine_url, EXAMPLES, every_rule=False)
