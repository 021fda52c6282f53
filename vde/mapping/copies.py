"""Copy a subtree, level by level, with content of its own or shared.

A copied tile's parent must exist when the tile is inserted (the tree rule is
checked at the end of each statement), so the copy goes one level per
statement, shallowest first: each copy's parent is the copy of its source's
parent, found at the translated path. ``origin_id`` is the tile it copies.

By default (``clone_content=True``) every copy gets a NEW base item with the
source's title, content, preview and link, so the copy can be edited alone. The
new items' ids are drawn from their identity sequence first (``nextval`` in a
MATERIALIZED CTE), so the same statement can insert the items and the tiles
that show them: one INSERT per level into ``vde_map_items`` and one into
``vde_base_items``. Versions are not copied: a clone starts a history of its
own. ``clone_content=False`` makes copies show the source's base items.
docs/usage.md ("The map's operations") says what a caller can rely on.
"""

from __future__ import annotations

from vde.errors import InvalidMoveError, TileNotFoundError
from vde.mapping.arguments import check_flag, check_target, check_tile_ref
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.models import Tile
from vde.mapping.places import TileRef, coordinates_args, lock_subtree, refusing_taken
from vde.mapping.queries import tile_at
from vde.mapping.table_names import BASE_ITEMS, MAP_ITEMS
from vde.transactions import Executor, transaction_of


def _copy_level(new_item: str, items: str, ref: str) -> str:
    """The statement that copies one level: its source tiles with the place,
    parent and content of their copies. $1-$4: source subtree (owner, group,
    path range); $5: path length of the level; $6-$8: target (owner, group,
    path)."""
    return f"""
WITH level AS MATERIALIZED (
    SELECT s.id AS origin_id, s.ref_item_id, np.id AS parent_id,
           $8 || substr(s.path, length($3) + 1) AS path{new_item}
    FROM {MAP_ITEMS} s
    JOIN {MAP_ITEMS} np
      ON np.coord_user_id = $6 AND np.coord_group_id = $7
     AND np.path = CASE WHEN length($8 || substr(s.path, length($3) + 1)) = 1
                        THEN ''
                        ELSE left($8 || substr(s.path, length($3) + 1), -2) END
    WHERE s.coord_user_id = $1 AND s.coord_group_id = $2
      AND s.path >= $3 AND s.path < $4 AND length(s.path) = $5
){items}
INSERT INTO {MAP_ITEMS} (coord_user_id, coord_group_id, path, item_type,
                           parent_id, origin_id, ref_item_id)
SELECT $6, $7, level.path, '{MapItemType.BASE}', level.parent_id, level.origin_id, {ref}
FROM level ORDER BY level.path
"""


COPY_LEVEL_SHARED_SQL = _copy_level(new_item="", items="", ref="level.ref_item_id")
COPY_LEVEL_CLONED_SQL = _copy_level(
    new_item=",\n           nextval(pg_get_serial_sequence('"
    f"{BASE_ITEMS}', 'id'))::int AS item_id",
    items=f""",
items AS (
    INSERT INTO {BASE_ITEMS} (id, owner_id, title, content, preview, link)
    SELECT level.item_id, $6, b.title, b.content, b.preview, b.link
    FROM level JOIN {BASE_ITEMS} b ON b.owner_id = $1 AND b.id = level.ref_item_id
)""",
    ref="level.item_id",
)


async def copy_subtree(
    executor: Executor,
    source: TileRef,
    target: MapCoordinates,
    clone_content: bool = True,
) -> Tile:
    """Copy ``source`` and its subtree to ``target``; return the copy of ``source``.

    ``target`` may be in another map; the tile one step above it becomes the
    copy's parent (``TileNotFoundError`` if none) and it must be free
    (``TargetOccupiedError``). The source subtree is locked FOR SHARE, so it
    cannot change while being copied. A map's root is not copied (copy its
    children into another map's root position's children).
    """
    check_tile_ref("source", source)
    check_target("target", target)
    check_flag("clone_content", clone_content)
    with refusing_taken(target):
        async with transaction_of(executor) as conn:
            tree = await lock_subtree(conn, source, "SHARE")
            if tree.is_root:
                raise InvalidMoveError(
                    f"tile {tree.id} is the root of map {tree.place}; copy its "
                    "children instead"
                )
            if target.is_within(tree.place):
                raise InvalidMoveError(
                    f"tile {tree.id} cannot be copied into its own subtree ({target})"
                )
            tree.check_fits(target)
            sql = COPY_LEVEL_CLONED_SQL if clone_content else COPY_LEVEL_SHARED_SQL
            for length in range(len(tree.place.path), tree.deepest + 1, 2):
                status = await conn.execute(
                    sql,
                    *coordinates_args(tree.place),
                    length,
                    target.user_id,
                    target.group_id,
                    target.path,
                )
                if length == len(tree.place.path) and status.endswith(" 0"):
                    raise TileNotFoundError(
                        f"no tile at {target.parent} to be the parent of {target}; "
                        "add it first"
                    )
            copy = await tile_at(conn, target)
    assert copy is not None
    return copy
