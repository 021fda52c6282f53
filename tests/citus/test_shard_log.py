"""``vde.testing.citus``: the shards, shard groups and nodes each statement
reached, as the coordinator reports them."""

from __future__ import annotations

import asyncpg
import pytest

from tests.citus.cluster import SHARD_COUNT
from vde.testing.citus import assert_one_shard_group, shard_log

NODE_OF_OWNER = """
SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
WHERE p.shardid = get_shard_id_for_distribution_column('vde_base_items', $1::int)
"""


async def owners_on_two_nodes(connection: asyncpg.Connection) -> tuple[int, int]:
    first: dict[int, int] = {}
    for owner in range(1, 100):
        first.setdefault(await connection.fetchval(NODE_OF_OWNER, owner), owner)
        if len(first) == 2:
            a, b = first.values()
            return a, b
    raise AssertionError("every owner's shard on one node")


async def content(connection: asyncpg.Connection, owner: int) -> int:
    item: int = await connection.fetchval(
        "INSERT INTO vde_base_items (owner_id, title, content) "
        "VALUES ($1, 'home', '') RETURNING id",
        owner,
    )
    return item


async def test_a_statement_naming_the_owner_reaches_one_shard_group(
    citus_conn: asyncpg.Connection,
) -> None:
    item = await content(citus_conn, 11)
    async with shard_log(citus_conn) as log:
        await citus_conn.fetch("SELECT * FROM vde_base_items WHERE owner_id = $1", 11)
        await citus_conn.fetch(
            "SELECT b.title, count(v.id) FROM vde_base_items b "
            "LEFT JOIN vde_base_item_versions v "
            "ON v.owner_id = b.owner_id AND v.base_item_id = b.id "
            "WHERE b.owner_id = $1 AND b.id = $2 GROUP BY b.title",
            11,
            item,
        )
        await citus_conn.fetch("SELECT * FROM vde_users")  # the coordinator's own
    one, joined = log.reaching_shards()
    assert (len(one.shards), len(one.groups), len(one.nodes)) == (1, 1, 1)
    # Two tables' shards, co-located: one group, one node.
    assert (len(joined.shards), len(joined.groups), len(joined.nodes)) == (2, 1, 1)
    assert "vde_users" not in " ".join(t.statement for t in log.statements)
    assert_one_shard_group(log)


async def test_a_statement_without_the_owner_reaches_every_shard(
    citus_conn: asyncpg.Connection,
) -> None:
    async with shard_log(citus_conn) as log:
        await citus_conn.fetchval("SELECT count(*) FROM vde_base_items")
    (every,) = log.reaching_shards()
    assert (len(every.groups), len(every.nodes)) == (SHARD_COUNT, 2)
    with pytest.raises(AssertionError) as caught:
        assert_one_shard_group(log)
    assert f"{SHARD_COUNT} shard group(s) on 2 node(s): SELECT count(*)" in str(
        caught.value
    )
    assert_one_shard_group(log, allowed=["SELECT count(*) FROM vde_base_items"])


async def test_a_write_on_two_nodes_commits_in_two_phases(
    citus_conn: asyncpg.Connection,
) -> None:
    a, b = await owners_on_two_nodes(citus_conn)
    async with shard_log(citus_conn) as log:
        async with citus_conn.transaction():
            await content(citus_conn, a)
        async with citus_conn.transaction():
            await content(citus_conn, a)
            await content(citus_conn, b)
    assert log.two_phase_commits() == 1
    # One statement run in a row is listed once, with the shards of all runs.
    first, both = log.reaching_shards()
    assert (len(first.groups), len(both.groups), len(both.nodes)) == (1, 2, 2)
    assert_one_shard_group(log, allowed=["INSERT INTO vde_base_items"])
