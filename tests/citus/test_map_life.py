"""A map's whole life through vde.mapping on a distributed database, call by call.

Two owners, Ada and Bob, whose shards lie on different workers. Each call runs
inside ``shard_log`` and must reach shards, each statement one shard group
(one shard of each co-located table, on one node: the owner's), except the
documented origin clearing of ``delete_subtree`` (every shard group, both
nodes). A call that stays with one owner commits without a two-phase commit;
a copy into the other owner's map reads one owner's shard group and writes
the other's, each part of its statement on one of them.

Every call within one owner's maps, edits and cloning copies among them,
commits in one phase: the new rows' ids are drawn first, so each INSERT goes
to the owner's node alone. Only a copy into another owner's map has a
statement on two shard groups (``CLONE_LEVEL``: it reads the source owner's
and writes the target owner's). docs/scale-out.md lists it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import TypeVar

import asyncpg

from tests.citus.cluster import SHARD_COUNT
from tests.citus.test_shard_log import owners_on_two_nodes
from vde.mapping import (
    MapCoordinates,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    descendants,
    history,
    move_subtree,
    neighbourhood,
    queries,
    swap_tiles,
    tile_at,
    update_content,
)
from vde.mapping.copies import COPY_LEVEL_CLONED_SQL
from vde.mapping.deletes import CLEAR_ORIGINS_SQL
from vde.mapping.invariants import tree_violations, version_gaps
from vde.mapping.versions import append_version
from vde.testing.citus import ShardLog, shard_log

Result = TypeVar("Result")
#: How the documented all-shards statement is recognised in the log.
CLEARING = CLEAR_ORIGINS_SQL.strip()
CLONE_LEVEL = COPY_LEVEL_CLONED_SQL.strip()
GROUP_OF_OWNER = """
SELECT p.colocationid, s.shardminvalue
FROM pg_dist_shard s JOIN pg_dist_partition p USING (logicalrelid)
WHERE s.shardid = get_shard_id_for_distribution_column('vde_map_items', $1::int)
"""


class Life:
    """The calls of one map's life on one connection, each one's shards checked."""

    def __init__(self, conn: asyncpg.Connection, groups: dict[int, tuple[int, str]]):
        self.conn = conn
        self.groups = groups  # owner -> its shard group
        self.logs: dict[str, ShardLog] = {}

    async def call(
        self,
        name: str,
        work: Awaitable[Result],
        owners: Collection[int],
        *,
        two_phase: bool = False,
    ) -> Result:
        """Run ``work``: each statement on one of ``owners``' shard groups, the
        origin clearing on all of them."""
        async with shard_log(self.conn) as log:
            result = await work
        self.logs[name] = log
        reached = log.reaching_shards()
        assert reached, f"{name}: no statement reached a shard"
        allowed = {self.groups[owner] for owner in owners}
        for touched in reached:
            if touched.statement.strip() == CLEARING:
                assert len(touched.groups) == SHARD_COUNT, (name, str(touched))
                assert len(touched.nodes) == 2, (name, str(touched))
                continue
            if touched.statement.strip() == CLONE_LEVEL and len(owners) == 2:
                # Reads the source owner's group, writes the target's.
                assert touched.groups == allowed, f"{name}: {touched}"
                continue
            assert len(touched.groups) == 1, f"{name}: {touched}"
            assert touched.groups <= allowed, f"{name}: another owner's {touched}"
            assert len(touched.nodes) == 1, f"{name}: {touched}"
        assert (log.two_phase_commits() > 0) == two_phase, name
        return result


async def test_a_maps_whole_life_touches_one_shard_group_per_statement(
    vde_conn: asyncpg.Connection,
) -> None:
    conn = vde_conn
    a, b = await owners_on_two_nodes(conn)
    await conn.execute(
        "INSERT INTO vde_users (id, email) VALUES ('ada', 'ada@x.org'), "
        "('bob', 'bob@x.org')"
    )
    # Owner ids come from a sequence: give Ada and Bob owners on two nodes.
    await conn.execute(
        "INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id) "
        "VALUES ('ada', $1), ('bob', $2)",
        a,
        b,
    )
    groups = {o: tuple(await conn.fetchrow(GROUP_OF_OWNER, o)) for o in (a, b)}
    life = Life(conn, groups)  # type: ignore[arg-type]
    home, away = MapCoordinates.root(a), MapCoordinates.root(b)

    ada = await life.call("create_map", create_map(conn, "ada", "Ada", "a"), [a])
    assert ada.coord_user_id == a
    await life.call("create_map bob", create_map(conn, "bob", "Bob", "b"), [b])
    await life.call(
        "create_map 1", create_map(conn, "ada", "Second", "s", group_id=1), [a]
    )
    one = await life.call("add_tile", add_tile(conn, home.child(1), "one", "1"), [a])
    await life.call(
        "add_tile 1,2", add_tile(conn, home.child(1).child(2), "b", "x"), [a]
    )
    await life.call("add_tile 3", add_tile(conn, home.child(3), "three", "3"), [a])
    three = await life.call("tile_at", tile_at(conn, home.child(3)), [a])
    assert three is not None and three.title == "three"
    page = await life.call(
        "descendants paged",
        descendants(conn, home, generations=1, limit=1, offset=1),
        [a],
    )
    assert [tile.path for tile in page] == ["3"]
    every = await life.call("descendants", descendants(conn, home), [a])
    assert [tile.path for tile in every] == ["1", "3", "1,2"]
    near = await life.call("neighbourhood", neighbourhood(conn, home), [a])
    assert near is not None
    kids = await life.call("children", queries.children(conn, a, ada.id), [a])
    assert sorted(tile.path for tile in kids) == ["1", "3"]
    edited = await life.call(
        "update_content",
        update_content(conn, one, title="one, edited"),
        [a],  # the version's id drawn first: one node, one phase
    )
    assert edited.title == "one, edited"
    await life.call(
        "update_content by place",
        update_content(conn, home.child(1), content="again"),
        [a],
    )
    versions = await life.call("history", history(conn, one), [a])
    assert [v.version_number for v in versions] == [2, 1]  # newest first
    imported = await life.call(
        "append_version",
        append_version(conn, a, one.ref_item, "imported", "i"),
        [a],  # its id drawn first: one node, one phase
    )
    assert imported == 3

    shared = await life.call(
        "copy shared",
        copy_subtree(conn, one, home.child(4), clone_content=False),
        [a],
    )
    assert shared.ref_item == one.ref_item and shared.origin == one.id
    cloned = await life.call("copy cloned", copy_subtree(conn, one, home.child(5)), [a])
    assert cloned.ref_item != one.ref_item
    across = await life.call(
        "copy across owners",
        copy_subtree(conn, one, away.child(1)),
        [a, b],
        two_phase=False,  # Ada's node only read: Bob's commits alone
    )
    assert across.coord_user_id == b and across.origin == one.id
    mine = await life.call("copies", queries.copies(conn, a, one.id), [a])
    assert sorted(tile.path for tile in mine) == ["4", "5"]
    theirs = await life.call("copies bob", queries.copies(conn, b, one.id), [b])
    assert [tile.path for tile in theirs] == ["1"]

    moved = await life.call("move", move_subtree(conn, one, home.child(6)), [a])
    assert moved == 2
    swapped = await life.call(
        "swap", swap_tiles(conn, home.child(6), home.child(3)), [a]
    )
    assert swapped == 3
    await life.call(
        "move to map 1",
        move_subtree(conn, home.child(4), MapCoordinates(a, 1, "2")),
        [a],
    )
    kept = await life.call(
        "delete keeping content",
        delete_subtree(conn, home.child(5), delete_unused_content=False),
        [a],
        two_phase=True,  # the origin clearing writes on every node
    )
    assert (kept.tiles, kept.base_items) == (2, 0)
    # '3' holds "one" since the swap, with '3,2': the shared copies in map 1
    # still show their content, which stays until they go too.
    gone = await life.call(
        "delete", delete_subtree(conn, home.child(3)), [a], two_phase=True
    )
    assert (gone.tiles, gone.base_items) == (2, 0)
    last = await life.call(
        "delete the last copies",
        delete_subtree(conn, MapCoordinates(a, 1, "2")),
        [a],
        two_phase=True,
    )
    assert (last.tiles, last.base_items, last.versions) == (2, 2, 3)
    origins = await conn.fetchval(
        "SELECT origin_id FROM vde_map_items WHERE coord_user_id = $1 AND id = $2",
        b,
        across.id,
    )
    assert origins is None  # Bob's copy points at no deleted tile
    assert await tree_violations(conn) == []
    assert await version_gaps(conn) == []
    assert len(life.logs) == 26
