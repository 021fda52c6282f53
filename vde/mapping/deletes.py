"""Delete a tile with its subtree, and the content nothing else shows.

The tiles go in ONE statement, a path range on the coordinates index (not the
top tile alone with ``ON DELETE CASCADE`` finding the children row by row).
Copies of the deleted tiles elsewhere, in any owner's map, stay, with
``origin_id`` set to NULL (:data:`CLEAR_ORIGINS_SQL`). Then, by default, the
base items that only the deleted tiles showed are deleted too, with their
versions (``ON DELETE CASCADE``); items another tile of the owner still shows
(a copy made with ``clone_content=False``, a tile of another of its maps)
stay.

Known gap: a tile added below the subtree by a transaction that commits while
the DELETE runs (its parent itself committed just before) is removed by the
parent_id cascade, not by the DELETE, so its content is not in the list to
clean up and stays behind unshown. The tree stays whole; the item is an orphan.
docs/usage.md ("The map's operations") says what a caller can rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

from vde.mapping.arguments import check_flag, check_tile_ref
from vde.mapping.places import TileRef, coordinates_args, lock_subtree
from vde.mapping.table_names import BASE_ITEM_VERSIONS, BASE_ITEMS, MAP_ITEMS
from vde.transactions import Executor, transaction_of

#: $1-$4: owner, group and the subtree's path range.
DELETE_TILES_SQL = f"""
WITH gone AS (
    DELETE FROM {MAP_ITEMS}
    WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $4
    RETURNING id, ref_item_id
)
SELECT count(*)::int AS tiles,
       coalesce(array_agg(id), '{{}}') AS ids,
       coalesce(array_agg(DISTINCT ref_item_id), '{{}}') AS items
FROM gone
"""

#: $1: the deleted tiles. Their copies may be in any owner's map, so this is
#: the one statement of the map's operations that does not name an owner: on
#: a server sharded by owner it asks every shard (docs/usage.md, "Statements
#: that ask every shard"). On one server the origin foreign key (ON DELETE SET
#: NULL) has cleared them already and the ``vde_map_items_origin_id`` index
#: finds nothing; a sharded server has no such key, and this keeps "no copy
#: points at a deleted tile" there.
CLEAR_ORIGINS_SQL = f"""
UPDATE {MAP_ITEMS} SET origin_id = NULL WHERE origin_id = ANY($1::int[])
"""

#: $1: the owner; $2: the base items the deleted tiles showed. Content of an
#: owner is shown by that owner's tiles only, so whether a tile still shows
#: an item is a lookup in the owner's map (the content foreign key's index).
#: The versions are counted from the statement's snapshot, before the cascade
#: removes them.
DELETE_UNUSED_CONTENT_SQL = f"""
WITH doomed AS (
    DELETE FROM {BASE_ITEMS} b
    WHERE b.owner_id = $1 AND b.id = ANY($2::int[])
      AND NOT EXISTS (SELECT 1 FROM {MAP_ITEMS} m
                      WHERE m.coord_user_id = $1 AND m.ref_item_id = b.id)
    RETURNING b.id
)
SELECT (SELECT count(*) FROM doomed)::int AS base_items,
       (SELECT count(*) FROM {BASE_ITEM_VERSIONS} v
        WHERE v.owner_id = $1
          AND v.base_item_id IN (SELECT id FROM doomed))::int AS versions
"""


@dataclass(frozen=True)
class DeletedSubtree:
    """What ``delete_subtree`` removed."""

    tiles: int
    base_items: int = 0
    versions: int = 0


async def delete_subtree(
    executor: Executor, tile: TileRef, delete_unused_content: bool = True
) -> DeletedSubtree:
    """Delete ``tile`` and every tile below it; return the counts.

    With ``delete_unused_content`` (the default), the base items only these
    tiles showed go too, with their versions; without it they stay, shown by
    no tile. A map's root deletes the whole map. ``TileNotFoundError`` if
    there is no such tile.
    """
    check_tile_ref("tile", tile)
    check_flag("delete_unused_content", delete_unused_content)
    async with transaction_of(executor) as conn:
        tree = await lock_subtree(conn, tile, "UPDATE")
        row = await conn.fetchrow(DELETE_TILES_SQL, *coordinates_args(tree.place))
        assert row is not None
        await conn.execute(CLEAR_ORIGINS_SQL, row["ids"])
        if not delete_unused_content or not row["items"]:
            return DeletedSubtree(row["tiles"])
        content = await conn.fetchrow(
            DELETE_UNUSED_CONTENT_SQL, tree.place.user_id, row["items"]
        )
        assert content is not None
    return DeletedSubtree(row["tiles"], content["base_items"], content["versions"])
