"""``run_atomic`` at REPEATABLE READ and SERIALIZABLE on a distributed database.

The single server's retry races (tests/mapping/test_isolation_atomic.py, run
by tests/mapping/retry_races.py) against the coordinator, the map of owner 1
on one shard. Citus begins a transaction on a worker when a statement first
reaches it, and that statement takes the worker's snapshot: a SELECT on the
coordinator alone takes none there. So the unit of work here takes its
snapshot by reading its map (``snapshot_on_shard``), and each race then ends
as on one server: serialization_failure once, run again, the same map.
SERIALIZABLE is accepted (no error from Citus or vde) and ends as REPEATABLE
READ does: the conflicts raced here are write-write ones. A unit of work whose
first read of the shard comes after the other's commit sees that commit and
is not run again.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from tests.mapping.conftest import dml_role  # noqa: F401 (fixture)
from tests.mapping.races import (
    AFTER,
    AFTER_CHILD,
    LEVEL_IDS,
    LEVELS,
    OPS,
    RC,
    RR,
    SER,
    SWAP_THEN_CHILD_UNDER_Y,
    X,
    paths,
)
from tests.mapping.retry_races import (
    change_after_new_child,
    new_child_after_change,
    snapshot_at,
)
from vde.errors import TileNotFoundError
from vde.testing import ScratchDatabase
from vde.transactions import Tx

Row = dict[str, Any]


async def snapshot_on_shard(tx: Tx, level: str) -> None:
    """The level checked, then the snapshot of owner 1's shard, taken by
    reading the map there."""
    await snapshot_at(tx, level)
    tiles = "SELECT count(*) FROM vde_map_items WHERE coord_user_id = 1"
    assert await tx.connection.fetchval(tiles) > 0


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("op", OPS)
async def test_change_of_x_is_run_again_with_the_new_child(
    op: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,  # noqa: F811 (fixture)
    vde_conn: asyncpg.Connection,
) -> None:
    stale, _ = levels
    retried: list[Exception] = []

    await change_after_new_child(
        op, levels, race_map, vde_db, dml_role, snapshot_on_shard, retried
    )

    expected = [] if stale == RC else [asyncpg.exceptions.SerializationError]
    assert [type(error) for error in retried] == expected
    assert await paths(vde_conn) == AFTER_CHILD[op]


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("op", OPS)
async def test_new_child_of_x_is_run_again_after_the_change(
    op: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,  # noqa: F811 (fixture)
    vde_conn: asyncpg.Connection,
) -> None:
    stale, _ = levels
    retried: list[Exception] = []
    run = new_child_after_change(
        op, levels, race_map, vde_db, dml_role, snapshot_on_shard, retried
    )

    if op == "swap":  # on its new snapshot the child finds Y at '1'
        await run
    else:
        gone = re.escape(f"no tile at {X} to be")
        with pytest.raises(TileNotFoundError, match=gone):
            await run

    expected = [] if stale == RC else [asyncpg.exceptions.SerializationError]
    assert [type(error) for error in retried] == expected
    assert await paths(vde_conn) == (
        SWAP_THEN_CHILD_UNDER_Y if op == "swap" else AFTER[op]
    )


@pytest.mark.parametrize("level", [RR, SER])
@pytest.mark.parametrize("op", OPS)
async def test_work_whose_first_read_of_the_shard_follows_the_commit_runs_once(
    op: str,
    level: str,
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,  # noqa: F811 (fixture)
    vde_conn: asyncpg.Connection,
) -> None:
    """The snapshot taken on the coordinator alone (as on one server, where it
    misses the child) leaves the shard's to the change's first statement."""
    retried: list[Exception] = []

    await change_after_new_child(
        op, (level, level), race_map, vde_db, dml_role, snapshot_at, retried
    )

    assert retried == []
    assert await paths(vde_conn) == AFTER_CHILD[op]
