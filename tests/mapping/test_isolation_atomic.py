"""``run_atomic`` on a pool whose transactions run at REPEATABLE READ or SERIALIZABLE.

The map and the interleavings are those of ``tests/mapping/races.py``, run
inside ``run_atomic`` by ``tests/mapping/retry_races.py``. The unit of work
takes its snapshot; then, on its first attempt only, the other session commits
its write (a child under X, or a change of X); then the work writes. At
REPEATABLE READ and SERIALIZABLE the first attempt fails with
serialization_failure and ``run_atomic`` runs the work again, with a snapshot
that shows the other's commit; at READ COMMITTED each statement sees it at
once. Both sessions are the application's DML-only role.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from tests.mapping.races import (
    AFTER,
    AFTER_CHILD,
    LEVEL_IDS,
    LEVELS,
    OPS,
    RC,
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

Row = dict[str, Any]


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("op", OPS)
async def test_change_of_x_is_run_again_with_the_new_child(
    op: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    vde_db: ScratchDatabase,
    dml_role: str,
    vde_conn: asyncpg.Connection,
) -> None:
    stale, _ = levels
    retried: list[Exception] = []

    await change_after_new_child(
        op, levels, race_map, vde_db, dml_role, snapshot_at, retried
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
    dml_role: str,
    vde_conn: asyncpg.Connection,
) -> None:
    stale, _ = levels
    retried: list[Exception] = []
    run = new_child_after_change(
        op, levels, race_map, vde_db, dml_role, snapshot_at, retried
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
