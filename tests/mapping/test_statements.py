"""What the map operations send to PostgreSQL, read from asyncpg's query log.

- Every statement on ``vde_map_items`` names the map owner (``coord_user_id =
  $n``) and locks rows only through that filter; the one exception is named:
  clearing ``origin_id`` of the deleted tiles' copies, in any owner's map.
- The number of statements does not depend on the subtree's size, except
  copy's one statement per level (on a distributed database two when it
  clones content within one owner's maps: the items, then the tiles).
- On one server adding a tile is one statement, creating a map one after the
  owner's id, an edit two; whether the map tables are distributed is asked
  once per connection.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from vde.database.pool_mode import connect_options
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    history,
    mapping_user_id_for,
    move_subtree,
    swap_tiles,
    tile_at,
    update_content,
)
from vde.mapping.content import EDIT_SQL, LOCK_CONTENT_SQL
from vde.mapping.copies import DRAW_IDS_SQL, DRAW_TILE_IDS_SQL
from vde.mapping.deletes import CLEAR_ORIGINS_SQL
from vde.mapping.layout import DISTRIBUTED_SQL, HAS_CITUS_SQL, distributed
from vde.mapping.tiles import ADD_TILE_SQL, CREATE_MAP_SQL, DRAW_ITEM_ID_SQL
from vde.mapping.versions import DRAW_VERSION_ID_SQL, append_version
from vde.testing.fixtures import ScratchDatabase

OWNER_FILTER = re.compile(r"\bcoord_user_id = \$\d")
LOCK = re.compile(r"\bFOR (UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b")
EXCEPTIONS = {CLEAR_ORIGINS_SQL}
#: New ids drawn from the sequences: statements that read no table.
DRAWS = {DRAW_IDS_SQL, DRAW_TILE_IDS_SQL, DRAW_ITEM_ID_SQL, DRAW_VERSION_ID_SQL}
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@asynccontextmanager
async def logged(
    conn: asyncpg.Connection, *, every: bool = False
) -> AsyncIterator[list[str]]:
    """vde's statements ``conn`` runs in the block (``every``: all it runs).

    Left out: transaction control, and asyncpg's own introspection of a type
    the first time a statement uses it (pg_catalog only).
    """
    seen: list[str] = []

    def record(query: Any) -> None:
        if (every or "vde_" in query.query) and not CONTROL.match(query.query):
            seen.append(query.query)

    conn.add_query_logger(record)
    try:
        yield seen
    finally:
        conn.remove_query_logger(record)


async def grow(conn: asyncpg.Connection, top: MapCoordinates, levels: int) -> int:
    """Tiles in directions 1-6 below ``top`` for ``levels`` levels; return the count."""
    frontier, count = [top], 1
    for _ in range(levels):
        frontier = [place.child(step) for place in frontier for step in range(1, 7)]
        for place in frontier:
            await add_tile(conn, place, place.path, "c")
        count += len(frontier)
    return count


@pytest.fixture
async def root(insert: Any, vde_conn: asyncpg.Connection) -> Tile:
    await insert("vde_users", id="ada", email="ada@example.com")
    await insert("vde_users", id="bob", email="bob@example.com")
    await create_map(vde_conn, "bob", "Bob", "b")
    return await create_map(vde_conn, "ada", "Ada", "a", group_id=0)


Operation = Callable[[asyncpg.Connection, MapCoordinates], Awaitable[Any]]


def operations(root: Tile, bob: int) -> dict[str, Operation]:
    """Each operation on the subtree at the given place (or the tile there)."""
    mine = root.coord_user_id
    return {
        "update_content": lambda c, p: update_content(c, p, title="t"),
        "history": lambda c, p: history(c, p),
        "move": lambda c, p: move_subtree(c, p, MapCoordinates(mine, 0, "0")),
        "move to another map": lambda c, p: move_subtree(
            c, p, MapCoordinates(mine, 7, "5")
        ),
        "swap": lambda c, p: swap_tiles(c, p, MapCoordinates(mine, 0, "6")),
        "copy": lambda c, p: copy_subtree(c, p, MapCoordinates(mine, 0, "0")),
        "copy, shared content": lambda c, p: copy_subtree(
            c, p, MapCoordinates(mine, 0, "0"), clone_content=False
        ),
        "copy to another owner": lambda c, p: copy_subtree(
            c, p, MapCoordinates(bob, 0, "5")
        ),
        "delete": lambda c, p: delete_subtree(c, p),
        "move by stale Tile": None,  # filled in below
    }


async def run_logged(
    conn: asyncpg.Connection, operation: Operation, place: MapCoordinates
) -> list[str]:
    transaction = conn.transaction()
    await transaction.start()
    try:
        async with logged(conn) as seen:
            await operation(conn, place)
        return seen
    finally:
        await transaction.rollback()


async def test_statements_name_the_owner_and_do_not_grow_with_the_subtree(
    root: Tile, vde_conn: asyncpg.Connection
) -> None:
    mine = root.coord_user_id
    await add_tile(vde_conn, MapCoordinates(mine, 0, "6"), "swap partner", "c")
    small, big = MapCoordinates(mine, 0, "1"), MapCoordinates(mine, 0, "2")
    await add_tile(vde_conn, small, "small", "c")
    await add_tile(vde_conn, big, "big", "c")
    assert await grow(vde_conn, big, 2) == 43
    bob = await mapping_user_id_for(vde_conn, "bob")
    await create_map(vde_conn, "ada", "Ada's other map", "o", group_id=7)
    ops = operations(root, bob)
    ops["move by stale Tile"] = lambda c, p: _move_stale_tile(
        c, p, MapCoordinates(mine, 0, "0")
    )
    for name, operation in ops.items():
        assert operation is not None
        counts = {}
        for size, place in (("1 tile", small), ("43 tiles", big)):
            statements = await run_logged(vde_conn, operation, place)
            counts[size] = len(statements)
            for sql in statements:
                _check_owner_filter(name, sql)
        per_level = 1 if name.startswith("copy") else 0
        assert counts["43 tiles"] == counts["1 tile"] + 2 * per_level, (name, counts)


async def test_adding_tiles_and_maps_is_one_statement_each(
    root: Tile, vde_conn: asyncpg.Connection
) -> None:
    async with logged(vde_conn) as seen:
        await add_tile(vde_conn, MapCoordinates(root.coord_user_id, 0, "3"), "t", "c")
        await create_map(vde_conn, "ada", "Second", "s", group_id=7)
    # add: the parent locked, content and tile; map: the owner's id, then
    # root and content.
    assert len(seen) == 3 and seen[::2] == [ADD_TILE_SQL, CREATE_MAP_SQL], seen
    assert "FROM vde_user_mapping" in seen[1], seen[1]
    for sql in seen:
        _check_owner_filter("add", sql)


async def test_an_edit_is_the_lock_then_one_statement(
    root: Tile, vde_conn: asyncpg.Connection
) -> None:
    owner, home = root.coord_user_id, MapCoordinates.root(root.coord_user_id)
    async with logged(vde_conn) as seen:
        await update_content(vde_conn, home, title="t")
    # the tile and its content locked, then the version and the edit
    assert seen == [LOCK_CONTENT_SQL, EDIT_SQL]
    async with logged(vde_conn) as seen:
        assert await append_version(vde_conn, owner, root.ref_item, "i", "c") == 2
    # the item locked, its next number read, the version's id drawn, the insert
    assert len(seen) == 4 and seen[2] == DRAW_VERSION_ID_SQL, seen
    assert re.search(r"VALUES \(\$1, \$2,", seen[3]), seen[3]  # id, owner given


async def test_the_layout_is_asked_once_per_connection(
    insert: Any, vde_conn: asyncpg.Connection, vde_db: ScratchDatabase
) -> None:
    await insert("vde_users", id="ada", email="ada@example.com")
    async with logged(vde_conn, every=True) as first:
        root = await create_map(vde_conn, "ada", "Ada", "a")
    # no Citus here: the extension asked, the distribution table not
    assert first.count(HAS_CITUS_SQL) == 1 and DISTRIBUTED_SQL not in first, first
    home = MapCoordinates.root(root.coord_user_id)
    async with logged(vde_conn, every=True) as later:
        await add_tile(vde_conn, home.child(1), "t", "c")
        await update_content(vde_conn, home, title="t2")
        await create_map(vde_conn, "ada", "Second", "s", group_id=1)
        assert await distributed(vde_conn) is False
    assert HAS_CITUS_SQL not in later, later
    other = await vde_db.connect()
    try:
        async with logged(other, every=True) as elsewhere:
            await add_tile(other, home.child(2), "t", "c")
        assert elsewhere.count(HAS_CITUS_SQL) == 1, elsewhere
    finally:
        await other.close()
    # A pool lends the same connection again: asked on its first loan only.
    pool = await asyncpg.create_pool(
        **connect_options({"dsn": vde_db.url}), min_size=1, max_size=1
    )
    try:
        asked, pids = [], set()
        for step in (3, 4):
            async with pool.acquire() as lent, logged(lent, every=True) as seen:
                pids.add(lent.get_server_pid())
                await add_tile(lent, home.child(step), "t", "c")
            asked.append(seen.count(HAS_CITUS_SQL))
        assert len(pids) == 1 and asked == [1, 0], (pids, asked)
    finally:
        await pool.close()


async def _move_stale_tile(
    conn: asyncpg.Connection, place: MapCoordinates, target: MapCoordinates
) -> int:
    """Move the tile at ``place`` named by a ``Tile`` read when it was at '4':
    the lock misses it there and it is found again by owner and id."""
    tile = await tile_at(conn, place)
    assert tile is not None
    stale = tile.model_copy(update={"path": "4"})
    return await move_subtree(conn, stale, target)


def _check_owner_filter(name: str, sql: str) -> None:
    if "vde_map_items" not in sql:
        return
    if sql in EXCEPTIONS:
        assert not LOCK.search(sql), (name, sql)
        return
    if sql in DRAWS:
        assert not re.search(r"\b(FROM|JOIN) vde_", sql), (name, sql)
        return
    reads = re.search(r"(FROM|JOIN|UPDATE) vde_map_items\b", sql)
    if not reads:  # only inserts: the owner is the first column it writes
        assert re.search(r"INSERT INTO vde_map_items \(coord_user_id", sql), sql
        return
    assert OWNER_FILTER.search(sql), (name, sql)
    if LOCK.search(sql):
        # the locking SELECT itself filters by owner
        for locking in re.findall(r"SELECT[^()]*?FOR (?:UPDATE|SHARE)", sql, re.S):
            assert OWNER_FILTER.search(locking), (name, locking)
