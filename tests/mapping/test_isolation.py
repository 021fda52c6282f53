"""The tree holds at every isolation level when a change of X races a new child of X.

Every interleaving of ``tests/mapping/races.py`` at READ COMMITTED, REPEATABLE
READ and SERIALIZABLE (the other session at the same level, or at READ
COMMITTED: ``races.LEVELS``), as the application's DML-only role (``piccolo vde
app_role``), once with raw SQL and once through vde.mapping's operations on the
caller's connection. At REPEATABLE READ and SERIALIZABLE the session whose
snapshot missed the other's commit fails with serialization_failure (40001)
and the other's change stands alone; at READ COMMITTED the waiting statement
sees the other's commit, and either takes the child along or is refused with a
tree error. Afterwards every map is a tree and the tiles are where that
outcome puts them.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import CheckViolationError, ForeignKeyViolationError

from tests.conftest import connect_as
from tests.mapping.races import (
    AFTER,
    AFTER_CHILD,
    CHILD_ONLY,
    INTERLEAVINGS,
    LEVEL_IDS,
    LEVELS,
    OPS,
    RC,
    SWAP_THEN_CHILD_UNDER_Y,
    Y,
    check_one_fails,
    operations,
    paths,
    race,
    raw_sql,
    sessions,
)
from vde.errors import TileNotFoundError
from vde.mapping.moves import MOVE_SQL
from vde.mapping.places import coordinates_args
from vde.testing import ScratchDatabase

Row = dict[str, Any]

TREE_PATH = (CheckViolationError, "vde_map_items_tree_path")
TREE_CHILDREN = (CheckViolationError, "vde_map_items_tree_children")
NO_PARENT = (ForeignKeyViolationError, "vde_map_items_parent_id_fkey")
#: At READ COMMITTED, raw SQL: None (both commit, child first) or the loser
#: and its error class and rule.
RAW_READ_COMMITTED: dict[tuple[str, str], tuple[str, tuple[type, str]] | None] = {
    ("child_commits_first", "move"): None,
    ("child_commits_first", "swap"): None,
    ("child_commits_first", "delete"): None,
    ("child_pending", "move"): ("changer", TREE_CHILDREN),
    ("child_pending", "swap"): ("changer", TREE_CHILDREN),
    ("child_pending", "delete"): None,  # the cascade deletes the child
    ("change_pending", "move"): ("adder", TREE_PATH),
    ("change_pending", "swap"): ("adder", TREE_PATH),
    ("change_pending", "delete"): ("adder", NO_PARENT),
    ("change_commits_first", "move"): ("adder", TREE_PATH),
    ("change_commits_first", "swap"): ("adder", TREE_PATH),
    ("change_commits_first", "delete"): ("adder", NO_PARENT),
}


@pytest.fixture
async def app_conns(vde_db: ScratchDatabase, dml_role: str) -> Any:
    """Two connections of the application's role."""
    adder = await connect_as(vde_db, dml_role)
    changer = await connect_as(vde_db, dml_role)
    try:
        yield adder, changer
    finally:
        await adder.close()
        await changer.close()


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("interleaving", INTERLEAVINGS)
@pytest.mark.parametrize("op", OPS)
async def test_raw_sql_of_the_app_role(
    op: str,
    interleaving: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    app_conns: tuple[asyncpg.Connection, asyncpg.Connection],
    vde_conn: asyncpg.Connection,
) -> None:
    adder, changer = sessions(interleaving, levels, *app_conns)
    add, change = raw_sql(op, race_map)
    await race(interleaving, vde_conn, adder, changer, add, change)

    if levels[0] != RC:
        await check_one_fails(vde_conn, op, interleaving, adder, changer)
        return
    expected = RAW_READ_COMMITTED[interleaving, op]
    if expected is None:
        assert (adder.error, changer.error) == (None, None)
        assert await paths(vde_conn) == AFTER_CHILD[op]
        return
    loser, (error_class, rule) = expected
    failed, stands = (adder, changer) if loser == "adder" else (changer, adder)
    assert type(failed.error) is error_class, failed.error
    assert failed.error.constraint_name == rule  # type: ignore[union-attr]
    assert stands.error is None, stands.error
    assert await paths(vde_conn) == (AFTER[op] if loser == "adder" else CHILD_ONLY)


@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("interleaving", INTERLEAVINGS)
@pytest.mark.parametrize("op", OPS)
async def test_map_operations_on_the_callers_connection(
    op: str,
    interleaving: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    app_conns: tuple[asyncpg.Connection, asyncpg.Connection],
    vde_conn: asyncpg.Connection,
) -> None:
    adder, changer = sessions(interleaving, levels, *app_conns)
    add, change = operations(op, race_map)
    await race(interleaving, vde_conn, adder, changer, add, change)

    if levels[0] != RC:
        await check_one_fails(vde_conn, op, interleaving, adder, changer)
        return
    assert changer.error is None, changer.error
    if interleaving in ("child_commits_first", "child_pending"):
        # The operation locks the subtree, then reads it again: the child goes
        # along (or is deleted with it).
        assert adder.error is None, adder.error
        assert await paths(vde_conn) == AFTER_CHILD[op]
    elif op == "swap" and interleaving == "change_commits_first":
        # The child's statement starts after the swap: Y is at '1' now.
        assert adder.error is None, adder.error
        assert await paths(vde_conn) == SWAP_THEN_CHILD_UNDER_Y
    else:
        assert type(adder.error) is TileNotFoundError, adder.error
        assert await paths(vde_conn) == AFTER[op]


#: Y (with its child) moves to '1,3', under X, while X moves to '4'.
@pytest.mark.parametrize("levels", LEVELS, ids=LEVEL_IDS)
@pytest.mark.parametrize("interleaving", ["child_commits_first", "child_pending"])
async def test_tile_moved_under_a_moving_tile(
    interleaving: str,
    levels: tuple[str, str],
    race_map: dict[str, Row],
    app_conns: tuple[asyncpg.Connection, asyncpg.Connection],
    vde_conn: asyncpg.Connection,
) -> None:
    """A new child by UPDATE (a move into X) writes X's row as an insert does."""
    adder, changer = sessions(interleaving, levels, *app_conns)
    x, y = race_map["x"]["id"], race_map["y"]["id"]

    async def move_y_under_x(conn: asyncpg.Connection) -> None:
        await conn.execute(MOVE_SQL, *coordinates_args(Y), 0, "1,3", x)

    _, move_x = raw_sql("move", race_map)
    await race(interleaving, vde_conn, adder, changer, move_y_under_x, move_x)

    y_under_x = ["", "1", "1,2", "1,3", "1,3,5"]
    if levels[0] != RC:
        assert type(changer.error) is asyncpg.exceptions.SerializationError
        assert adder.error is None, adder.error
        assert await paths(vde_conn) == y_under_x
    elif interleaving == "child_commits_first":
        assert (adder.error, changer.error) == (None, None)
        assert await paths(vde_conn) == ["", "4", "4,2", "4,3", "4,3,5"]
    else:
        assert type(changer.error) is CheckViolationError
        assert changer.error.constraint_name == TREE_CHILDREN[1]
        assert adder.error is None, adder.error
        assert await paths(vde_conn) == y_under_x
    assert await vde_conn.fetchval(
        "SELECT parent_id FROM vde_map_items WHERE id = $1", y
    ) == x
