"""retry_transaction runs the work again after a deadlock, and only then."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from vde.testing import ScratchDatabase
from vde.transactions import retry_transaction


@pytest.fixture
async def two_items(vde_conn: asyncpg.Connection) -> list[int]:
    rows = await vde_conn.fetch(
        "INSERT INTO vde_base_items (title, content) "
        "VALUES ('a', 'a'), ('b', 'b') RETURNING id"
    )
    return sorted(row["id"] for row in rows)


async def test_a_deadlock_victim_is_run_again(
    vde_db: ScratchDatabase, two_items: list[int]
) -> None:
    """Two transactions lock two rows in opposite orders: both end up committed."""
    first_id, second_id = two_items
    both_hold_one = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}
    retried: list[Exception] = []

    async def editor(name: str, conn: asyncpg.Connection, order: list[int]) -> None:
        async def work() -> None:
            attempts[name] += 1
            await conn.execute(
                "UPDATE vde_base_items SET content = content || $2 WHERE id = $1",
                order[0], name,
            )
            if attempts[name] == 1:
                await both_hold_one.wait()  # now each waits for the other's row
            await conn.execute(
                "UPDATE vde_base_items SET content = content || $2 WHERE id = $1",
                order[1], name,
            )

        await retry_transaction(conn, work, on_retry=retried.append)

    conn_a, conn_b = await vde_db.connect(), await vde_db.connect()
    try:
        for conn in (conn_a, conn_b):
            await conn.execute("SET deadlock_timeout = '50ms'")
        await asyncio.gather(
            editor("a", conn_a, [first_id, second_id]),
            editor("b", conn_b, [second_id, first_id]),
        )
        rows = await conn_a.fetch(
            "SELECT content FROM vde_base_items ORDER BY id"
        )
    finally:
        await conn_a.close()
        await conn_b.close()
    assert [type(error) for error in retried] == [
        asyncpg.exceptions.DeadlockDetectedError
    ]
    assert sorted(attempts.values()) == [1, 2]
    # Each editor's two updates landed exactly once, in some commit order.
    assert all(sorted(row["content"][1:]) == ["a", "b"] for row in rows), rows


async def test_a_constraint_violation_is_not_retried(
    vde_conn: asyncpg.Connection,
) -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        await vde_conn.execute(
            "INSERT INTO vde_base_item_versions (base_item_id, title, content, "
            "version_number) VALUES (1, 't', 'c', 0)"
        )

    with pytest.raises(asyncpg.exceptions.CheckViolationError):
        await retry_transaction(vde_conn, work)
    assert calls == 1
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_base_item_versions") == 0


async def test_it_refuses_to_run_inside_a_transaction(
    vde_conn: asyncpg.Connection,
) -> None:
    async def work() -> None:
        raise AssertionError("must not run")

    async with vde_conn.transaction():
        with pytest.raises(ValueError, match="outside a transaction"):
            await retry_transaction(vde_conn, work)
