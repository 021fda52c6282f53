"""Many clients on one map at once, each operation through ``run_atomic``.

- 16 clients add tiles below one parent while another client keeps moving
  that parent's subtree around;
- 16 clients swap tiles among one set of siblings.

A client whose coordinates went stale meanwhile (the parent moved: no tile
there; another client took the slot) gets vde's refusal, reads again and
retries; deadlock victims are re-run by ``run_atomic``. Anything else is an
unexpected error, and there must be none. Afterwards every map is a tree and
every tile is where the model of the run says.

Each runs twice: straight to the server, and through PgBouncer in transaction
mode (``tests/pooler.py``), where every transaction may get another server
connection.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine

from vde.database import connection_pool, make_engine, use_engine
from vde.errors import TargetOccupiedError, TileNotFoundError
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    create_map,
    move_subtree,
    swap_tiles,
)
from vde.mapping.invariants import tree_violations
from vde.transactions import Tx, run_atomic

CLIENTS = 16
MOVES = 12
SWAPS_PER_CLIENT = 6
ATTEMPTS = 5  # run_atomic's, for deadlock victims
EXPECTED = (TargetOccupiedError, TileNotFoundError)


@pytest.fixture(params=["direct", "pgbouncer"])
async def engine(
    request: pytest.FixtureRequest, vde_db: Any
) -> AsyncIterator[PostgresEngine]:
    """The tables on a pool with a connection for every client."""
    if request.param == "pgbouncer":
        bouncer = request.getfixturevalue("pgbouncer")
        engine = make_engine(bouncer.url(vde_db.name), pool_mode="transaction")
    else:
        engine = PostgresEngine(config={"dsn": vde_db.url})
    with use_engine(engine):
        async with connection_pool(engine, min_size=2, max_size=CLIENTS + 2):
            yield engine


@pytest.fixture
async def root(engine: PostgresEngine, insert: Any) -> Tile:
    await insert("vde_users", id="ada", email="ada@example.com")

    async def make(tx: Tx) -> Tile:
        return await create_map(tx, "ada", "Ada", "home")

    return await run_atomic(make)


async def place_of(tx: Tx, tile_id: int) -> MapCoordinates:
    row = await tx.connection.fetchrow(
        "SELECT coord_user_id, coord_group_id, path FROM vde_map_items WHERE id = $1",
        tile_id,
    )
    return MapCoordinates.from_row(row)


class Tally:
    def __init__(self) -> None:
        self.refused: Counter[str] = Counter()
        self.retried: Counter[str] = Counter()
        self.unexpected: list[BaseException] = []

    def retry(self, error: Exception) -> None:
        self.retried[type(error).__name__] += 1

    async def until_done(self, work: Any) -> bool:
        """Run ``work`` through run_atomic until it is done; False if it failed."""
        for _ in range(100):
            try:
                await run_atomic(work, attempts=ATTEMPTS, on_retry=self.retry)
                return True
            except EXPECTED as error:
                self.refused[f"{type(error).__name__}: {str(error)[:40]}"] += 1
            except Exception as error:  # the run must have none
                self.unexpected.append(error)
                return False
        self.unexpected.append(RuntimeError("no progress after 100 tries"))
        return False


async def test_sixteen_adders_under_a_parent_that_keeps_moving(
    root: Tile, vde_conn: asyncpg.Connection
) -> None:
    owner = root.coord_user_id
    parent = await run_atomic(
        lambda tx: add_tile(tx, MapCoordinates(owner, 0, "1"), "parent", "p")
    )
    tally = Tally()

    async def adder(client: int) -> None:
        async def add_one(tx: Tx) -> None:
            here = await place_of(tx, parent.id)
            child = here.child(client % 7)
            try:
                await add_tile(tx, child, f"child {client % 7}", "c")
            except TargetOccupiedError:
                pass  # another client made it: add below it
            await add_tile(tx, child.child(client // 7), f"tile {client}", "c")

        await tally.until_done(add_one)

    async def mover() -> None:
        rng = random.Random(12)
        for _ in range(MOVES):
            slot = rng.choice(["2", "3", "4", "5", "6", "0,1"])  # '0,1': deeper
            here = MapCoordinates(owner, 0, slot)

            async def move(tx: Tx, here: MapCoordinates = here) -> None:
                if here.parent is not None and here.parent.path:
                    if await _free(tx, here.parent):
                        await add_tile(tx, here.parent, "stop", "s")
                if await _free(tx, here):
                    await move_subtree(tx, parent, here)  # found again by id

            await tally.until_done(move)
            await asyncio.sleep(0)

    await asyncio.gather(mover(), *(adder(n) for n in range(CLIENTS)))

    assert tally.unexpected == []
    assert await tree_violations(vde_conn) == []
    final = await vde_conn.fetchrow(
        "SELECT coord_user_id, coord_group_id, path FROM vde_map_items WHERE id = $1",
        parent.id,
    )
    top = MapCoordinates.from_row(final)
    below = await vde_conn.fetch(
        "SELECT path, parent_id FROM vde_map_items WHERE coord_user_id = $1 "
        "AND coord_group_id = 0 AND path >= $2 AND path < $3",
        owner,
        *top.descendant_bounds(),
    )
    expected = {f"{top.path},{n % 7}" for n in range(CLIENTS)} | {
        f"{top.path},{n % 7},{n // 7}" for n in range(CLIENTS)
    }
    assert {row["path"] for row in below} == expected
    print(f"adders/mover: refused {dict(tally.refused)}, retried {dict(tally.retried)}")


async def test_sixteen_clients_swapping_siblings(
    root: Tile, vde_conn: asyncpg.Connection
) -> None:
    owner = root.coord_user_id

    async def build(tx: Tx) -> list[Tile]:
        top = MapCoordinates(owner, 0, "1")
        await add_tile(tx, top, "parent", "p")
        siblings = []
        for step in range(7):
            sibling = await add_tile(tx, top.child(step), f"s{step}", "c")
            siblings.append(sibling)
            for below in range(step % 3):  # subtrees of 1 to 3 tiles
                await add_tile(tx, top.child(step).child(below), "b", "c")
        return siblings

    tiles = await run_atomic(build)  # each swap leaves them where they were read
    siblings = [tile.id for tile in tiles]
    before = await _subtrees(vde_conn, siblings)
    tally = Tally()

    async def swapper(client: int) -> None:
        rng = random.Random(client)
        for _ in range(SWAPS_PER_CLIENT):
            a, b = rng.sample(tiles, 2)

            async def swap(tx: Tx, a: Tile = a, b: Tile = b) -> None:
                await swap_tiles(tx, a, b)

            await tally.until_done(swap)

    await asyncio.gather(*(swapper(n) for n in range(CLIENTS)))

    assert tally.unexpected == []
    assert await tree_violations(vde_conn) == []
    slots = await vde_conn.fetch(
        "SELECT id, path FROM vde_map_items WHERE id = ANY($1::int[])", siblings
    )
    assert sorted(row["path"] for row in slots) == [f"1,{n}" for n in range(7)]
    assert await _subtrees(vde_conn, siblings) == before  # each kept its own tiles
    print(f"swappers: refused {dict(tally.refused)}, retried {dict(tally.retried)}")


async def _free(tx: Tx, place: MapCoordinates) -> bool:
    taken = await tx.connection.fetchval(
        "SELECT 1 FROM vde_map_items WHERE coord_user_id = $1 AND coord_group_id = $2 "
        "AND path = $3",
        place.user_id,
        place.group_id,
        place.path,
    )
    return taken is None


async def _subtrees(conn: asyncpg.Connection, tops: list[int]) -> dict[int, int]:
    """How many tiles hang below each top tile (by parent links)."""
    rows = await conn.fetch(
        "SELECT parent_id, count(*) AS n FROM vde_map_items "
        "WHERE parent_id = ANY($1::int[]) GROUP BY parent_id",
        tops,
    )
    return {row["parent_id"]: row["n"] for row in rows}
