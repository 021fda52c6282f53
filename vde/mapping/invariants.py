"""Whole-table checks of what the tree trigger and the version helper promise.

The trigger checks the rows a statement touches; these queries check every row,
so tests, the load bench and an operator can confirm nothing slipped through.
"""

from __future__ import annotations

import asyncpg

from vde.mapping.item_types import MapItemType
from vde.mapping.table_names import BASE_ITEM_VERSIONS, MAP_ITEMS

_USER = f"'{MapItemType.USER}'"

#: Every tile that is not where a tree puts it: a root off the centre or with a
#: parent; a 'base' tile without a parent, in another map than its parent, or
#: not exactly one direction below it. A parent is looked up in its child's
#: owner's maps (the parent key holds the owner): one in another owner's maps
#: is no parent, so such a tile is listed too, and a server sharded by owner
#: answers each owner's part on that owner's shard.
TREE_VIOLATIONS_SQL = f"""
SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.item_type, c.parent_id
FROM {MAP_ITEMS} c
LEFT JOIN {MAP_ITEMS} p ON p.coord_user_id = c.coord_user_id AND p.id = c.parent_id
WHERE (c.item_type = {_USER} AND (c.parent_id IS NOT NULL OR c.path <> ''))
   OR (c.item_type <> {_USER} AND (
        p.id IS NULL
        OR c.coord_group_id <> p.coord_group_id
        OR c.path = ''
        OR p.path <> CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END))
   OR c.origin_id = c.id
ORDER BY c.id
"""

#: Every base item whose versions are not numbered exactly 1..N (grouped by
#: owner too, the versions' key, so each owner's shard answers for its own).
VERSION_GAPS_SQL = f"""
SELECT base_item_id, array_agg(version_number ORDER BY version_number) AS numbers
FROM {BASE_ITEM_VERSIONS}
GROUP BY owner_id, base_item_id
HAVING count(*) <> max(version_number) OR min(version_number) <> 1
    OR count(DISTINCT version_number) <> count(*)
ORDER BY base_item_id
"""


async def tree_violations(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Tiles out of place (empty when every map is a proper tree)."""
    return list(await conn.fetch(TREE_VIOLATIONS_SQL))


async def version_gaps(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Base items whose version numbers are not 1..N (empty when all are)."""
    return list(await conn.fetch(VERSION_GAPS_SQL))
