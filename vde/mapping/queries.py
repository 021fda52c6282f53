"""The map's supported reads: SQL that stays on an index under any plan.

Read tiles, children, copies and versions here (``history`` is ``versions``
for a tile); ``vde.mapping.relations`` only builds Piccolo queries along the
same foreign keys, for a query of your own. Each function takes a unit of work
(a ``Tx``, a connection or a pool) and returns typed rows (``Tile``,
``BaseItemVersionRead``); its SQL is a module constant, one prepared statement,
in a shape of docs/schema.md ("Query shapes the schema is built for").

Indexes used (checked by tests/mapping/test_queries.py on 20,000+ tiles, custom
and generic plans): roots -> ``vde_map_items_roots``; tile and descendants ->
``vde_map_items_coordinates_unique``; a page of descendants ->
``vde_map_items_depth_order`` (tests/mapping/test_descendants_plan.py);
children -> ``vde_map_items_parent_id``; copies -> ``vde_map_items_origin_id``;
versions -> ``vde_base_item_versions_number_unique``.
"""

from __future__ import annotations

from vde.mapping.arguments import (
    check_coordinates,
    check_id,
    check_map_number,
    check_page,
)
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.mapping.table_names import BASE_ITEM_VERSIONS, BASE_ITEMS, MAP_ITEMS
from vde.mapping.tables import BaseItemVersion, MapItem
from vde.sql import select_list
from vde.transactions import Executor, connection_of
from vde.trusted_rows import TrustedRows

#: What a tile row adds of its base item (the item's own id is ``ref_item_id``).
_CONTENT = "b.title, b.content, b.preview, b.link"
_TILE_WITH_CONTENT = (
    f"SELECT {select_list(MapItem, 'm')}, {_CONTENT}\n"
    f"FROM {MAP_ITEMS} m JOIN {BASE_ITEMS} b\n"
    "ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id\n"
)

#: What the partial index ``vde_map_items_roots`` holds: map roots.
_IS_ROOT = f"m.item_type = '{MapItemType.USER}'"
MAP_ROOT_SQL = (
    _TILE_WITH_CONTENT
    + f"WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND {_IS_ROOT}"
)
MAP_ROOTS_SQL = (
    _TILE_WITH_CONTENT
    + f"WHERE m.coord_user_id = $1 AND {_IS_ROOT}\n"
    + "ORDER BY m.coord_group_id"
)
TILE_AT_SQL = (
    _TILE_WITH_CONTENT
    + "WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND m.path = $3"
)
#: $3/$4: the path range; $5: the longest path wanted; $6/$7: LIMIT (NULL: all)
#: and OFFSET. The outer ORDER BY repeats the page's: a join keeps no order.
#: The join names the owner ($1), not the page's column: a server sharded by
#: owner then sends the whole statement to the owner's shard.
DESCENDANTS_SQL = f"""\
WITH page AS MATERIALIZED (
    SELECT {select_list(MapItem, "m")}
    FROM {MAP_ITEMS} m
    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2
      AND m.path >= $3 AND m.path < $4 AND length(m.path) <= $5
    ORDER BY length(m.path), m.path, m.id
    LIMIT $6 OFFSET $7
)
SELECT page.*, {_CONTENT}
FROM page
JOIN {BASE_ITEMS} b ON b.owner_id = $1 AND b.id = page.ref_item_id
ORDER BY length(page.path), page.path, page.id"""
#: A page of DESCENDANTS_SQL (same parameters, $6 not NULL) in index order:
#: ``vde_map_items_depth_order`` holds each map's non-root tiles by
#: (length(path), path), and ``~<~`` is that order (bytes, as collation "C").
#: ``length(m.path) > 0`` (a root is nobody's descendant) is that partial
#: index's predicate: only a query that states it can use the index, so the
#: other queries keep their plans. Paths are unique within a map, so (depth,
#: path) is the whole order: id never breaks a tie.
DESCENDANTS_PAGE_SQL = f"""\
WITH page AS MATERIALIZED (
    SELECT {select_list(MapItem, "m")}
    FROM {MAP_ITEMS} m
    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2
      AND length(m.path) > 0
      AND length(m.path) >= length($3) AND length(m.path) <= $5
      AND m.path ~>=~ $3 AND m.path ~<~ $4
    ORDER BY length(m.path), m.path USING ~<~
    LIMIT $6 OFFSET $7
)
SELECT page.*, {_CONTENT}
FROM page
JOIN {BASE_ITEMS} b ON b.owner_id = $1 AND b.id = page.ref_item_id
ORDER BY length(page.path), page.path"""
CHILDREN_SQL = (
    _TILE_WITH_CONTENT
    + "WHERE m.coord_user_id = $1 AND m.parent_id = $2\nORDER BY m.path, m.id"
)
COPIES_SQL = (
    _TILE_WITH_CONTENT
    + "WHERE m.coord_user_id = $1 AND m.origin_id = $2\nORDER BY m.id"
)
VERSIONS_SQL = (
    f"SELECT {select_list(BaseItemVersion)}\nFROM {BASE_ITEM_VERSIONS}\n"
    "WHERE owner_id = $1 AND base_item_id = $2\nORDER BY version_number DESC"
)

#: Rows of the statements above become models without validating them again:
#: PostgreSQL typed each value (``vde.trusted_rows``).
_TILES = TrustedRows(Tile)
_VERSIONS = TrustedRows(BaseItemVersionRead)


async def map_root(executor: Executor, user_id: int, group_id: int = 0) -> Tile | None:
    """The root tile of map (``user_id``, ``group_id``) with its content."""
    check_map_number("user_id", user_id)
    check_map_number("group_id", group_id)
    return await _tile(executor, MAP_ROOT_SQL, user_id, group_id)


async def map_roots(executor: Executor, user_id: int) -> list[Tile]:
    """The root tile of each of ``user_id``'s maps, by group id."""
    check_map_number("user_id", user_id)
    return await _tiles(executor, MAP_ROOTS_SQL, user_id)


async def tile_at(executor: Executor, coords: MapCoordinates) -> Tile | None:
    """The tile at ``coords`` with its content, or None."""
    check_coordinates("coords", coords)
    return await _tile(
        executor, TILE_AT_SQL, coords.user_id, coords.group_id, coords.path
    )


async def descendants(
    executor: Executor,
    coords: MapCoordinates,
    *,
    generations: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Tile]:
    """Tiles below ``coords`` (not itself), by depth, then path, then id.

    ``generations`` keeps those at most that many steps below (1: children);
    ``limit``/``offset`` page through them in that order (``limit`` at most
    ``vde.mapping.arguments.MAX_PAGE_SIZE``; ``None``: all of them).
    """
    check_coordinates("coords", coords)
    check_page(generations, limit, offset)
    lower, upper = coords.descendant_bounds()
    return await _tiles(
        executor,
        DESCENDANTS_SQL if limit is None else DESCENDANTS_PAGE_SQL,
        coords.user_id,
        coords.group_id,
        lower,
        upper,
        coords.descendant_length_limit(generations),
        limit,
        offset,
    )


async def children(executor: Executor, owner_id: int, parent_id: int) -> list[Tile]:
    """The tiles whose parent is tile ``parent_id`` of owner ``owner_id``, by path.

    A tile's children are in its owner's map, so the owner finds them on one
    shard of a server sharded by owner (a ``Tile`` holds it: ``coord_user_id``).
    """
    check_map_number("owner_id", owner_id)
    check_id("parent_id", parent_id)
    return await _tiles(executor, CHILDREN_SQL, owner_id, parent_id)


async def copies(executor: Executor, owner_id: int, origin_id: int) -> list[Tile]:
    """The tiles in ``owner_id``'s maps copied from tile ``origin_id``, oldest
    (lowest id) first.

    ``origin_id`` may be a tile of any owner: ask each owner whose maps may
    hold copies (the original's own owner, for copies within its maps).
    """
    check_map_number("owner_id", owner_id)
    check_id("origin_id", origin_id)
    return await _tiles(executor, COPIES_SQL, owner_id, origin_id)


async def versions(
    executor: Executor, owner_id: int, base_item_id: int
) -> list[BaseItemVersionRead]:
    """The saved versions of base item ``base_item_id`` of owner ``owner_id``
    (the owner of the tiles that show it), newest first."""
    check_map_number("owner_id", owner_id)
    check_id("base_item_id", base_item_id)
    async with connection_of(executor) as conn:
        rows = await conn.fetch(VERSIONS_SQL, owner_id, base_item_id)
    return _VERSIONS.all(rows)


async def _tile(executor: Executor, sql: str, *args: object) -> Tile | None:
    async with connection_of(executor) as conn:
        row = await conn.fetchrow(sql, *args)
    return None if row is None else _TILES.one(row)


async def _tiles(executor: Executor, sql: str, *args: object) -> list[Tile]:
    async with connection_of(executor) as conn:
        rows = await conn.fetch(sql, *args)
    return _TILES.all(rows)
