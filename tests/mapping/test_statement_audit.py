"""Every statement a map's whole life sends to the map tables names the owner.

A server sharded by owner (Citus) routes a statement to one shard only when it
filters each of ``vde_map_items``, ``vde_base_items`` and
``vde_base_item_versions`` by the owner column (``coord_user_id`` /
``owner_id``). Here two users' maps live through every operation and read of
``vde.mapping`` on one connection; each statement it sent (asyncpg's query
log) is EXPLAINed with its own arguments, every join a nested loop and every
scan on an index where one serves, so each scan node shows the conditions it
is read with: each scan of the three tables must carry an owner equality. The
one exception is the documented origin clearing (docs/usage.md, "Statements
and owners"). No UPDATE of the map writes ``coord_user_id``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import asyncpg

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
from vde.mapping.deletes import CLEAR_ORIGINS_SQL
from vde.mapping.versions import append_version

OWNER_COLUMN = {
    "vde_map_items": "coord_user_id",
    "vde_base_items": "owner_id",
    "vde_base_item_versions": "owner_id",
}
TABLES = re.compile(r"\b(vde_map_items|vde_base_items|vde_base_item_versions)\b")
CONDITIONS = ("Index Cond", "Filter", "Recheck Cond")
#: Plans in which each scan shows its own conditions (no hash or merge join
#: holding them, no table read whole when an index serves).
NESTED_LOOPS = (
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
    "SET LOCAL enable_seqscan = off",
)


async def a_maps_life(conn: asyncpg.Connection) -> None:
    """Every operation and read of vde.mapping, on two owners' maps."""
    for user in ("ada", "bob"):
        await conn.execute(
            "INSERT INTO vde_users (id, email) VALUES ($1, $2)", user, f"{user}@x.org"
        )
    ada = await create_map(conn, "ada", "Ada", "a")
    bob = await create_map(conn, "bob", "Bob", "b")
    home, away = (
        MapCoordinates.root(ada.coord_user_id),
        MapCoordinates.root(bob.coord_user_id),
    )
    await create_map(conn, "ada", "Ada's second map", "s", group_id=1)
    one = await add_tile(conn, home.child(1), "one", "1")
    await add_tile(conn, home.child(1).child(2), "below", "1,2")
    await add_tile(conn, home.child(3), "three", "3")
    await update_content(conn, one, title="one, edited")
    await update_content(conn, home.child(1), content="edited again")
    await history(conn, one)
    await history(conn, home.child(1))
    await append_version(conn, ada.coord_user_id, one.ref_item, "imported", "i")
    await tile_at(conn, home.child(3))
    await descendants(conn, home)
    await descendants(conn, home, generations=1, limit=2, offset=1)
    await neighbourhood(conn, home, generations=2)
    await queries.map_root(conn, ada.coord_user_id)
    await queries.map_roots(conn, ada.coord_user_id)
    await queries.children(conn, ada.coord_user_id, ada.id)
    await queries.versions(conn, ada.coord_user_id, one.ref_item)
    await copy_subtree(conn, one, home.child(4))
    await copy_subtree(conn, home.child(1), home.child(5), clone_content=False)
    await copy_subtree(conn, one, away.child(1))
    await queries.copies(conn, ada.coord_user_id, one.id)
    await queries.copies(conn, bob.coord_user_id, one.id)
    stale = one.model_copy(update={"path": "6"})  # found again by owner and id
    await move_subtree(conn, stale, home.child(6))
    await swap_tiles(conn, home.child(6), home.child(3))
    await move_subtree(conn, home.child(4), MapCoordinates(ada.coord_user_id, 1, "2"))
    await delete_subtree(conn, home.child(5), delete_unused_content=False)
    await delete_subtree(conn, one)
    await delete_subtree(conn, away)


def scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The nodes of ``plan`` that read one of the map tables."""
    if plan.get("Relation Name") in OWNER_COLUMN and "Scan" in plan["Node Type"]:
        yield plan
    for child in plan.get("Plans", []):
        yield from scans(child)


async def plan_of(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> Any:
    async with conn.transaction():
        for setting in NESTED_LOOPS:
            await conn.execute(setting)
        text = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return json.loads(text)[0]["Plan"]


def unfiltered_scans(plan: dict[str, Any]) -> list[str]:
    """Each scan of a map table without an equality on its owner column."""
    missing = []
    for node in scans(plan):
        column = OWNER_COLUMN[node["Relation Name"]]
        conditions = " ".join(node.get(key, "") for key in CONDITIONS)
        if not re.search(rf"\(({column}|\w+\.{column}) = ", conditions):
            missing.append(f"{node['Node Type']} on {node['Relation Name']}")
    return missing


async def test_every_statement_on_the_map_tables_names_the_owner(
    vde_conn: asyncpg.Connection,
) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []
    with vde_conn.query_logger(lambda q: sent.append((q.query, tuple(q.args)))):
        await a_maps_life(vde_conn)
        await asyncio.sleep(0)  # loggers are called soon, not at once
    audited = {sql: args for sql, args in sent if TABLES.search(sql)}
    assert len(audited) >= 20, list(audited)
    unfiltered: dict[str, list[str]] = {}
    for sql, args in audited.items():
        missing = unfiltered_scans(await plan_of(vde_conn, sql, args))
        if missing:
            unfiltered[sql] = missing
    assert set(unfiltered) == {CLEAR_ORIGINS_SQL}, json.dumps(unfiltered, indent=1)
    for sql in audited:
        written = re.search(r"UPDATE vde_map_items SET(.*?)WHERE", sql, re.S)
        assert written is None or "coord_user_id" not in written.group(1), sql
