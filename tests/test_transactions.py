"""One unit of work: Piccolo's queries and vde's helpers commit or roll back together.

``atomic()`` opens one transaction on the tables' engine; ``run_atomic`` runs a
unit again when PostgreSQL picks it as a deadlock victim, and never after a
constraint violation.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from vde.database import make_engine
from vde.errors import InvalidArgumentError, VdeError
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.moves import move_subtree, swap_tiles
from vde.mapping.queries import tile_at
from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem
from vde.mapping.versions import append_version
from vde.testing import ScratchDatabase
from vde.transactions import EngineMismatchError, Tx, atomic, run_atomic


class Boom(Exception):
    pass


async def add_tile(path: str, parent: int | None, item: int) -> int:
    tile = MapItem(
        coord_user_id=1,
        path=path,
        ref_item=item,
        parent=parent,
        item_type=MapItemType.BASE if path else MapItemType.USER,
    )
    await tile.save()
    return int(tile.id)


@pytest.fixture
async def tiles(vde_db: ScratchDatabase) -> dict[str, int]:
    """Map (1, 0): the root, tiles '1' and '3', and '1,4' below '1' (path -> id)."""
    item = BaseItem(owner_id=1, title="Ada", content="c")
    await item.save()
    ids: dict[str, int] = {}
    for path in ["", "1", "3", "1,4"]:
        ids[path] = await add_tile(path, ids[path[:-2]] if path else None, item.id)
    return ids


def at(path: str) -> MapCoordinates:
    return MapCoordinates(1, 0, path)


async def paths() -> dict[int, str]:
    rows = await MapItem.select(MapItem.id, MapItem.path)
    return {row["id"]: row["path"] for row in rows}


async def test_piccolo_insert_move_and_version_roll_back_together(
    tiles: dict[str, int],
) -> None:
    before = await paths()
    with pytest.raises(Boom):
        async with atomic() as tx:
            item = BaseItem(owner_id=1, title="New", content="n")
            await item.save()  # Piccolo, on the tables' engine
            assert await move_subtree(tx, at("1"), MapCoordinates(1, 0, "5")) == 2
            assert await append_version(tx, 1, item.id, "New", "n") == 1
            # All three are one transaction: the helpers' connection sees the
            # Piccolo insert, and Piccolo sees the helpers' writes.
            assert (
                await tx.connection.fetchval("SELECT count(*) FROM vde_base_items") == 2
            )
            assert await BaseItemVersion.count() == 1
            assert (await paths())[tiles["1,4"]] == "5,4"
            raise Boom
    assert await paths() == before
    assert await BaseItem.count() == 1
    assert await BaseItemVersion.count() == 0


async def test_the_same_block_commits_all_of_it(tiles: dict[str, int]) -> None:
    async with atomic() as tx:
        item = BaseItem(owner_id=1, title="New", content="n")
        await item.save()
        await move_subtree(tx, at("1"), MapCoordinates(1, 0, "5"))
        await append_version(tx.connection, 1, item.id, "New", "n")
    assert (await paths())[tiles["1,4"]] == "5,4"
    assert (await BaseItem.count(), await BaseItemVersion.count()) == (2, 1)


async def test_nested_atomic_is_a_savepoint(tiles: dict[str, int]) -> None:
    async with atomic() as outer:
        await BaseItem.insert(BaseItem(owner_id=1, title="kept", content="k"))
        with pytest.raises(Boom):
            async with atomic() as inner:
                assert inner.connection is outer.connection
                await BaseItem.insert(BaseItem(owner_id=1, title="undone", content="u"))
                await move_subtree(inner, at("3"), MapCoordinates(1, 0, "6"))
                raise Boom
        assert (await paths())[tiles["3"]] == "3"
    titles = await BaseItem.select(BaseItem.title).output(as_list=True)
    assert sorted(titles) == ["Ada", "kept"]


async def test_a_pool_passed_to_the_move_helpers_works(
    vde_db: ScratchDatabase, tiles: dict[str, int]
) -> None:
    pool = vde_db.engine.pool
    assert isinstance(pool, asyncpg.Pool)
    assert await move_subtree(pool, at("1"), MapCoordinates(1, 0, "5")) == 2
    assert await swap_tiles(pool, at("5"), at("3")) == 3
    assert (await paths())[tiles["1,4"]] == "3,4"
    tile = await tile_at(pool, MapCoordinates(1, 0, "3,4"))
    assert tile is not None and tile.id == tiles["1,4"]


async def test_a_pool_inside_atomic_joins_the_block(
    vde_db: ScratchDatabase, tiles: dict[str, int]
) -> None:
    """Else its own transaction would commit apart, or wait on the block's locks."""
    pool = vde_db.engine.pool
    with pytest.raises(Boom):
        async with atomic():
            await move_subtree(pool, at("1"), MapCoordinates(1, 0, "5"))
            moved = await tile_at(pool, MapCoordinates(1, 0, "5,4"))
            assert moved is not None and moved.id == tiles["1,4"]
            raise Boom
    assert (await paths())[tiles["1,4"]] == "1,4"


async def test_a_real_deadlock_ends_with_both_units_committed_once_each(
    vde_db: ScratchDatabase,
) -> None:
    """Two units lock two rows in opposite orders; the victim runs again."""
    rows = await BaseItem.insert(
        BaseItem(owner_id=1, title="a", content=""),
        BaseItem(owner_id=1, title="b", content=""),
    ).returning(BaseItem.id)
    first, second = sorted(row["id"] for row in rows)
    both_hold_one = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}
    retried: list[Exception] = []

    async def editor(name: str, order: list[int]) -> None:
        async def work(tx: Tx) -> None:
            attempts[name] += 1
            await tx.connection.execute("SET LOCAL deadlock_timeout = '50ms'")
            # One row through Piccolo, one through the Tx: the same transaction.
            await BaseItem.update({BaseItem.content: BaseItem.content + name}).where(
                BaseItem.id == order[0]
            )
            if attempts[name] == 1:
                await both_hold_one.wait()  # now each waits for the other's row
            await tx.connection.execute(
                "UPDATE vde_base_items SET content = content || $2 WHERE id = $1",
                order[1],
                name,
            )

        await run_atomic(work, on_retry=retried.append)

    await asyncio.gather(editor("a", [first, second]), editor("b", [second, first]))
    assert [type(error) for error in retried] == [asyncpg.DeadlockDetectedError]
    assert sorted(attempts.values()) == [1, 2]
    contents = await BaseItem.select(BaseItem.content).output(as_list=True)
    # Each unit's two updates landed exactly once, in some commit order.
    assert sorted(sorted(content) for content in contents) == [["a", "b"]] * 2


async def test_a_constraint_violation_is_not_retried(vde_db: ScratchDatabase) -> None:
    calls = 0

    async def work(tx: Tx) -> None:
        nonlocal calls
        calls += 1
        item = BaseItem(owner_id=1, title="t", content="c")
        await item.save()
        await BaseItemVersion.insert(
            BaseItemVersion(
                owner_id=1, base_item=item.id, title="t", content="c", version_number=0
            )
        )

    with pytest.raises(asyncpg.CheckViolationError):
        await run_atomic(work)
    assert calls == 1
    assert await BaseItem.count() == 0  # the unit's first insert went too


async def test_run_atomic_returns_the_result_and_checks_its_arguments(
    vde_db: ScratchDatabase,
) -> None:
    async def work(tx: Tx) -> int:
        return int(await tx.connection.fetchval("SELECT 41")) + 1

    assert await run_atomic(work) == 42
    for attempts in (0, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="attempts must be"):
            await run_atomic(work, attempts=attempts)
    async with atomic():
        with pytest.raises(VdeError, match="needs a transaction of its own"):
            await run_atomic(work)


async def test_an_engine_other_than_the_tables_is_refused(
    vde_db: ScratchDatabase,
) -> None:
    other = make_engine(vde_db.url)  # same database, but not the tables' engine
    with pytest.raises(EngineMismatchError, match="not the one vde's tables use"):
        async with atomic(engine=other):
            raise AssertionError("must not run")

    async def work(tx: Tx) -> None:
        raise AssertionError("must not run")

    with pytest.raises(EngineMismatchError):
        await run_atomic(work, engine=other)
    async with atomic(engine=vde_db.engine) as tx:
        assert tx.engine is vde_db.engine


async def test_a_failed_commit_leaves_no_open_transaction_and_no_lent_connection(
    vde_db: ScratchDatabase, tiles: dict[str, int]
) -> None:
    """COMMIT itself fails (a deferred unique check); the next unit starts clean."""
    engine = vde_db.engine
    pool = engine.pool
    assert pool is not None
    idle = pool.get_idle_size()
    with pytest.raises(asyncpg.UniqueViolationError):
        async with atomic() as tx:
            await tx.connection.execute(
                "SET CONSTRAINTS vde_map_items_coordinates_unique DEFERRED"
            )
            await add_tile("3", tiles[""], (await BaseItem.select().first())["id"])
    assert engine.current_transaction.get() is None
    assert pool.get_idle_size() == idle
    async with atomic():
        await BaseItem.insert(BaseItem(owner_id=1, title="after", content="a"))
    assert await BaseItem.count() == 2


@pytest.mark.parametrize("kind", ["tx", "connection", "pool"])
async def test_every_query_helper_takes_a_tx_a_connection_or_a_pool(
    vde_db: ScratchDatabase, tiles: dict[str, int], kind: str
) -> None:
    from datetime import UTC, datetime

    from vde.auth import queries as auth
    from vde.auth.models import ApiKeyRead, SessionRead
    from vde.auth.tables import ApiKey, Session, User
    from vde.llm import queries as llm
    from vde.llm.models import LlmJobResultRead
    from vde.llm.tables import LlmJobResult
    from vde.mapping import queries as mapping
    from vde.mapping.models import BaseItemVersionRead, Tile

    await User.insert(User(id="u1", email="ada@example.com"))
    await Session.insert(
        Session(
            id="s1", user="u1", token="t1", expires_at=datetime(2030, 1, 1, tzinfo=UTC)
        )
    )
    await ApiKey.insert(ApiKey(id="k1", user="u1", key="h1"))
    await LlmJobResult.insert(
        LlmJobResult(id="r1", job_id="j1", user_id="u1", status="pending")
    )
    item = (await BaseItem.select(BaseItem.id).first())["id"]
    await append_version(vde_db.engine.pool, 1, item, "Ada", "c")

    async def read_all(executor: Tx | asyncpg.Connection | asyncpg.Pool) -> None:
        root = MapCoordinates.root(1)
        assert isinstance(await mapping.map_root(executor, 1), Tile)
        assert [type(t) for t in await mapping.map_roots(executor, 1)] == [Tile]
        assert isinstance(await mapping.tile_at(executor, root), Tile)
        assert len(await mapping.descendants(executor, root)) == 3
        assert len(await mapping.children(executor, 1, tiles[""])) == 2
        assert await mapping.copies(executor, 1, tiles["1"]) == []
        versions = await mapping.versions(executor, 1, item)
        assert [type(v) for v in versions] == [BaseItemVersionRead]
        assert isinstance(await auth.api_key_by_hash(executor, "h1"), ApiKeyRead)
        assert isinstance(await auth.session_by_token(executor, "t1"), SessionRead)
        jobs = await llm.jobs_of_user(executor, "u1")
        assert [type(j) for j in jobs] == [LlmJobResultRead]

    if kind == "tx":
        async with atomic() as tx:
            await read_all(tx)
    elif kind == "pool":
        await read_all(vde_db.engine.pool)
    else:
        conn = await vde_db.connect()
        try:
            await read_all(conn)
        finally:
            await conn.close()


async def test_a_helper_given_something_else_says_what_it_takes(
    vde_db: ScratchDatabase, tiles: dict[str, int]
) -> None:
    from vde.database import connection_pool

    async with connection_pool() as db:
        with pytest.raises(
            InvalidArgumentError, match=r"got PooledEngine \(pass its .pool\)"
        ):
            await tile_at(db, MapCoordinates.root(1))
        with pytest.raises(InvalidArgumentError, match="got str"):
            await move_subtree("conn", at("1"), MapCoordinates(1, 0, "5"))
    assert (await paths())[tiles["1"]] == "1"


async def test_a_serialization_failure_is_run_again_too(
    vde_db: ScratchDatabase,
) -> None:
    """Write skew under SERIALIZABLE: each unit counts, then inserts."""
    both_counted = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}
    retried: list[Exception] = []

    async def editor(name: str) -> None:
        async def work(tx: Tx) -> None:
            attempts[name] += 1
            await tx.connection.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            seen = await BaseItem.count()
            if attempts[name] == 1:
                await both_counted.wait()
            await BaseItem.insert(
                BaseItem(owner_id=1, title=f"{name} saw {seen}", content="")
            )

        await run_atomic(work, on_retry=retried.append)

    await asyncio.gather(editor("a"), editor("b"))
    assert [type(error) for error in retried] == [asyncpg.SerializationError]
    titles = await BaseItem.select(BaseItem.title).output(as_list=True)
    # The unit run again saw the other's row: as if one ran after the other.
    assert sorted(title.split()[-1] for title in titles) == ["0", "1"]
