"""mapping_user_id_for: one id per user, made on first use, never shared."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from vde.errors import InvalidArgumentError, UserNotFoundError
from vde.mapping import mapping_user_id_for

CALLERS = 16


async def users(insert: Any, count: int) -> list[str]:
    ids = [f"user{n}" for n in range(count)]
    for user_id in ids:
        await insert("vde_users", id=user_id, email=f"{user_id}@example.com")
    return ids


async def test_first_call_creates_the_id_and_later_calls_return_it(
    insert: Any, vde_conn: asyncpg.Connection
) -> None:
    (user,) = await users(insert, 1)
    first = await mapping_user_id_for(vde_conn, user)
    assert await mapping_user_id_for(vde_conn, user) == first
    rows = await vde_conn.fetch(
        "SELECT auth_user_id, mapping_user_id FROM vde_user_mapping"
    )
    assert [tuple(r) for r in rows] == [(user, first)]


async def test_concurrent_first_calls_for_one_user_agree(
    insert: Any, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    (user,) = await users(insert, 1)
    conns = [await vde_db.connect() for _ in range(CALLERS)]
    try:
        ids = await asyncio.gather(*(mapping_user_id_for(c, user) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert len(set(ids)) == 1
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_user_mapping") == 1


async def test_concurrent_calls_for_different_users_never_collide(
    insert: Any, vde_db: Any, vde_conn: asyncpg.Connection
) -> None:
    people = await users(insert, CALLERS)
    conns = [await vde_db.connect() for _ in people]
    try:
        ids = await asyncio.gather(
            *(mapping_user_id_for(c, u) for c, u in zip(conns, people, strict=True))
        )
    finally:
        for conn in conns:
            await conn.close()
    assert len(set(ids)) == CALLERS
    stored = dict(
        await vde_conn.fetch(
            "SELECT auth_user_id, mapping_user_id FROM vde_user_mapping"
        )
    )
    assert stored == dict(zip(people, ids, strict=True))


async def test_ids_given_by_hand_are_skipped(
    insert: Any, vde_conn: asyncpg.Connection
) -> None:
    """An import wrote ids ahead of the sequence: the next new user gets a free one."""
    first, second = await users(insert, 2)
    await insert("vde_user_mapping", auth_user_id=first, mapping_user_id=1)
    await insert("vde_users", id="x", email="x@example.com")
    await insert("vde_user_mapping", auth_user_id="x", mapping_user_id=2)
    new = await mapping_user_id_for(vde_conn, second)
    assert new not in (1, 2)


async def test_unknown_user_is_refused_and_nothing_is_written(
    vde_conn: asyncpg.Connection,
) -> None:
    with pytest.raises(UserNotFoundError, match="no user has id 'nobody'"):
        await mapping_user_id_for(vde_conn, "nobody")
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_user_mapping") == 0
    with pytest.raises(InvalidArgumentError, match="non-empty string"):
        await mapping_user_id_for(vde_conn, "")
