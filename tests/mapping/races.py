"""Two sessions racing on one tile: a structure change of X and a new child of X.

The map (owner 1, group 0): the root, X at '1' with its child '1,2', Y at '2'
with its child '2,5'. One session adds a child at '1,3' under X; the other
moves X to '4', swaps X with Y, or deletes X (``race_map`` in this folder's
conftest). Each interleaving below runs the two, each at its isolation level,
and leaves what each ended with in its ``Session.error`` (None: committed),
whoever writes the SQL: raw statements (``raw_sql``) or vde.mapping's
operations (``operations``).

Interleavings (the first two let the change's snapshot miss the child, the
last two the child's snapshot miss the change):
- ``child_commits_first``: the change's transaction has its snapshot, then the
  child is added and committed, then the change runs;
- ``child_pending``: the child is added, uncommitted; the change runs, waits
  for it, and goes on once it commits;
- ``change_pending``: the change runs, uncommitted; the child's insert waits
  for it and goes on once it commits;
- ``change_commits_first``: the child's transaction has its snapshot, then the
  change runs and commits, then the child is added.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from vde.errors import VdeError
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    delete_subtree,
    move_subtree,
    swap_tiles,
)
from vde.mapping.deletes import DELETE_TILES_SQL
from vde.mapping.invariants import tree_violations
from vde.mapping.moves import MOVE_SQL, SWAP_SQL
from vde.mapping.places import coordinates_args

RC, RR, SER = "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"
#: (the level of the session whose snapshot can miss the other's commit, the
#: other's level). SERIALIZABLE's predicate locks only see other SERIALIZABLE
#: transactions, so each level also races a READ COMMITTED session.
LEVELS = [(RC, RC), (RR, RR), (RR, RC), (SER, SER), (SER, RC)]
LEVEL_IDS = ["RC", "RR", "RR-vs-RC", "SER", "SER-vs-RC"]
OPS = ["move", "swap", "delete"]
INTERLEAVINGS = [
    "child_commits_first",
    "child_pending",
    "change_pending",
    "change_commits_first",
]

Work = Callable[[asyncpg.Connection], Awaitable[Any]]
Row = dict[str, Any]

X, Y = MapCoordinates(1, 0, "1"), MapCoordinates(1, 0, "2")
CHILD = MapCoordinates(1, 0, "1,3")

BEFORE = ["", "1", "1,2", "2", "2,5"]
#: Every path after each change alone, and after the child, then the change.
AFTER = {
    "move": ["", "2", "2,5", "4", "4,2"],
    "swap": ["", "1", "1,5", "2", "2,2"],
    "delete": ["", "2", "2,5"],
}
AFTER_CHILD = {
    "move": ["", "2", "2,5", "4", "4,2", "4,3"],
    "swap": ["", "1", "1,5", "2", "2,2", "2,3"],
    "delete": ["", "2", "2,5"],
}
CHILD_ONLY = sorted([*BEFORE, "1,3"])
#: The paths when the swap commits first and the child then finds Y at '1'.
SWAP_THEN_CHILD_UNDER_Y = ["", "1", "1,3", "1,5", "2", "2,2"]


@dataclass
class Session:
    """One connection's transaction at ``level``; ``error`` is how it ended."""

    conn: asyncpg.Connection
    level: str
    error: BaseException | None = None
    transaction: Any = field(default=None)

    async def begin(self) -> None:
        """Start the transaction and take its snapshot (``SELECT 1`` reads no table).

        asyncpg's transaction, so vde's operations run in savepoints of it.
        """
        isolation = self.level.lower().replace(" ", "_")
        self.transaction = self.conn.transaction(isolation=isolation)
        await self.transaction.start()
        await self.conn.fetchval("SELECT 1")

    async def run(self, work: Work) -> None:
        if self.transaction is None:
            await self.begin()
        try:
            await work(self.conn)
        except (asyncpg.PostgresError, VdeError) as error:
            self.error = error
            await self.transaction.rollback()
            self.transaction = None

    async def commit(self) -> None:
        if self.transaction is None:
            return
        try:
            await self.transaction.commit()
        except asyncpg.PostgresError as error:  # SERIALIZABLE may refuse here
            self.error = error
        self.transaction = None


def tile_of(row: Row) -> Tile:
    """The ``Tile`` of a raw row (its content is not what the races look at)."""
    content = {"title": "t", "content": "c", "preview": None, "link": None}
    return Tile.model_validate({**row, **content})


def raw_sql(op: str, race_map: dict[str, Row]) -> tuple[Work, Work]:
    """The child's INSERT and the change's one statement, as any client sends them."""
    x, y, root = race_map["x"]["id"], race_map["y"]["id"], race_map["root"]["id"]

    async def add(conn: asyncpg.Connection) -> None:
        await conn.execute(
            "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
            "ref_item_id) VALUES (1, '1,3', 'base', $1, $2)",
            x,
            race_map["item"]["id"],
        )

    statements = {
        "move": (MOVE_SQL, *coordinates_args(X), 0, "4", root),
        "swap": (SWAP_SQL, 1, *coordinates_args(X)[1:], *coordinates_args(Y)[1:],
                 x, y, root, root),
        "delete": (DELETE_TILES_SQL, *coordinates_args(X)),
    }

    async def change(conn: asyncpg.Connection) -> None:
        await conn.execute(*statements[op])

    return add, change


def operations(op: str, race_map: dict[str, Row]) -> tuple[Work, Work]:
    """The same through vde.mapping (tiles named by ``Tile``: found by id there)."""
    x, y = tile_of(race_map["x"]), tile_of(race_map["y"])

    async def add(conn: asyncpg.Connection) -> None:
        await add_tile(conn, CHILD, "child", "c")

    async def change(conn: asyncpg.Connection) -> None:
        if op == "move":
            await move_subtree(conn, x, MapCoordinates(1, 0, "4"))
        elif op == "swap":
            await swap_tiles(conn, x, y)
        else:
            await delete_subtree(conn, x)

    return add, change


async def race(
    interleaving: str,
    observer: asyncpg.Connection,
    adder: Session,
    changer: Session,
    add: Work,
    change: Work,
) -> None:
    """Run ``add`` on ``adder`` and ``change`` on ``changer`` in ``interleaving``."""
    if interleaving == "child_commits_first":
        await changer.begin()
        await adder.run(add)
        await adder.commit()
        await changer.run(change)
        await changer.commit()
    elif interleaving == "child_pending":
        await adder.run(add)
        await changer.begin()
        waiting = asyncio.create_task(changer.run(change))
        await wait_until_blocked(observer, changer.conn)
        await adder.commit()
        await waiting
        await changer.commit()
    elif interleaving == "change_pending":
        await changer.run(change)
        await adder.begin()
        waiting = asyncio.create_task(adder.run(add))
        await wait_until_blocked(observer, adder.conn)
        await changer.commit()
        await waiting
        await adder.commit()
    elif interleaving == "change_commits_first":
        await adder.begin()
        await changer.run(change)
        await changer.commit()
        await adder.run(add)
        await adder.commit()
    else:
        raise AssertionError(interleaving)


async def paths(conn: asyncpg.Connection) -> list[str]:
    """Every tile's path, sorted; the map must be a tree."""
    assert await tree_violations(conn) == []
    return sorted(r["path"] for r in await conn.fetch("SELECT path FROM vde_map_items"))


#: Who loses at REPEATABLE READ and SERIALIZABLE: the session whose snapshot
#: was taken before the other committed, and which then writes a row the other
#: wrote.
LOSER = {
    "child_commits_first": "changer",
    "child_pending": "changer",
    "change_pending": "adder",
    "change_commits_first": "adder",
}


def sessions(
    interleaving: str,
    levels: tuple[str, str],
    adder: asyncpg.Connection,
    changer: asyncpg.Connection,
) -> tuple[Session, Session]:
    """The adder's and the changer's sessions; the loser runs at ``levels[0]``."""
    stale, other = levels
    if LOSER[interleaving] == "adder":
        return Session(adder, stale), Session(changer, other)
    return Session(adder, other), Session(changer, stale)


async def check_one_fails(
    conn: asyncpg.Connection, op: str, interleaving: str, adder: Session,
    changer: Session,
) -> None:
    """At REPEATABLE READ and SERIALIZABLE the loser fails with
    serialization_failure (40001, which run_atomic retries) and the other
    session's change stands alone."""
    loser = LOSER[interleaving]
    failed, stands = (adder, changer) if loser == "adder" else (changer, adder)
    assert type(failed.error) is asyncpg.exceptions.SerializationError, failed.error
    assert stands.error is None, stands.error
    assert await paths(conn) == (AFTER[op] if loser == "adder" else CHILD_ONLY)


async def wait_until_blocked(
    observer: asyncpg.Connection, waiting: asyncpg.Connection
) -> None:
    """Return once ``waiting``'s backend waits for a lock (never sleep-and-hope)."""
    pid = waiting.get_server_pid()
    for _ in range(500):
        if await observer.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1",
            pid,
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")
