"""Create a user's map and add tiles to it.

A tile and its content are written together (a base item and the tile that
shows it, in one statement with data-modifying CTEs), and a new tile's parent
is found from its coordinates and locked FOR NO KEY UPDATE, so it cannot move
away before the tile is in. That is the lock the tree check's write of the
parent takes (a new child writes its parent's row, see ``docs/schema.md``):
taken at once, two adders under one parent queue instead of both holding a
weaker lock and deadlocking when each wants the stronger one. ``item_type``
follows from the place: 'user' for a map's root, 'base' for every other tile.
docs/usage.md ("The map's operations").

On one server the parent's lock, the content and the tile are one statement,
the content's id from its column's default. Where the map tables are
distributed (``vde.mapping.layout``) the parent is locked and the content's
id drawn from its sequence first, by statements of their own, so both
INSERTs carry their values and the write runs on the owner's shard alone.
Both write the same rows and take the same locks.
"""

from __future__ import annotations

from vde.errors import InvalidMoveError, TileNotFoundError
from vde.mapping.arguments import (
    check_coordinates,
    check_map_number,
    check_optional_text,
    check_text,
    check_user_id,
)
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.layout import distributed
from vde.mapping.models import Tile
from vde.mapping.owners import mapping_user_id_for
from vde.mapping.places import refusing_taken
from vde.mapping.table_names import BASE_ITEMS, MAP_ITEMS, next_id
from vde.transactions import Executor, transaction_of

_NEW_CONTENT = f"INSERT INTO {BASE_ITEMS} (id, owner_id, title, content, preview, link)"
_NEW_CONTENT_BY_DEFAULT = (
    f"INSERT INTO {BASE_ITEMS} (owner_id, title, content, preview, link)"
)
#: The id of a tile's new content.
DRAW_ITEM_ID_SQL = f"SELECT {next_id(BASE_ITEMS)}"
_RETURN_TILE = (
    "SELECT tile.*, item.title, item.content, item.preview, item.link FROM tile, item"
)


def _new_tile(item_type: MapItemType) -> str:
    """Distributed: $1-$3: the tile's coordinates; $4: its parent (NULL: a
    root); $5-$8: its content; $9: the content's id (``DRAW_ITEM_ID_SQL``)."""
    return f"""
WITH item AS (
    {_NEW_CONTENT} VALUES ($9, $1, $5, $6, $7, $8)
    RETURNING id, title, content, preview, link
), tile AS (
    INSERT INTO {MAP_ITEMS} (coord_user_id, coord_group_id, path, item_type,
                               parent_id, ref_item_id)
    VALUES ($1, $2, $3, '{item_type}', $4, $9)
    RETURNING *
)
{_RETURN_TILE}
"""


CREATE_MAP_DRAWN_SQL = _new_tile(MapItemType.USER)
ADD_TILE_DRAWN_SQL = _new_tile(MapItemType.BASE)
#: Distributed: $1-$3: the new tile's parent's coordinates.
LOCK_PARENT_SQL = f"""
SELECT id FROM {MAP_ITEMS}
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path = $3
FOR NO KEY UPDATE
"""

#: One server: $1-$3: the root's coordinates; $4-$7: its content.
CREATE_MAP_SQL = f"""
WITH item AS (
    {_NEW_CONTENT_BY_DEFAULT} VALUES ($1, $4, $5, $6, $7)
    RETURNING id, title, content, preview, link
), tile AS (
    INSERT INTO {MAP_ITEMS} (coord_user_id, coord_group_id, path, item_type,
                               parent_id, ref_item_id)
    SELECT $1, $2, $3, '{MapItemType.USER}', NULL, item.id FROM item
    RETURNING *
)
{_RETURN_TILE}
"""

#: One server: $1-$3: the new tile's coordinates; $4: its parent's path;
#: $5-$8: its content. No parent there: no row written, none returned.
ADD_TILE_SQL = f"""
WITH parent AS (
    SELECT id FROM {MAP_ITEMS}
    WHERE coord_user_id = $1 AND coord_group_id = $2 AND path = $4
    FOR NO KEY UPDATE
), item AS (
    {_NEW_CONTENT_BY_DEFAULT} SELECT $1, $5, $6, $7, $8 FROM parent
    RETURNING id, title, content, preview, link
), tile AS (
    INSERT INTO {MAP_ITEMS} (coord_user_id, coord_group_id, path, item_type,
                               parent_id, ref_item_id)
    SELECT $1, $2, $3, '{MapItemType.BASE}', parent.id, item.id FROM parent, item
    RETURNING *
)
{_RETURN_TILE}
"""


async def create_map(
    executor: Executor,
    auth_user_id: str,
    title: str,
    content: str,
    group_id: int = 0,
    *,
    preview: str | None = None,
    link: str | None = None,
) -> Tile:
    """Create map ``group_id`` of ``auth_user_id``; return its root tile.

    The user's map-owner id is made on first use (``mapping_user_id_for``).
    A map that exists already raises ``TargetOccupiedError``, an unknown user
    ``UserNotFoundError``.
    """
    check_user_id("auth_user_id", auth_user_id)
    check_map_number("group_id", group_id)
    _check_content(title, content, preview, link)
    async with transaction_of(executor) as conn:
        owner = await mapping_user_id_for(conn, auth_user_id)
        root = MapCoordinates.root(owner, group_id)
        content_args = (title, content, preview, link)
        with refusing_taken(root):
            async with conn.transaction():
                if await distributed(conn):
                    item_id = await conn.fetchval(DRAW_ITEM_ID_SQL)
                    row = await conn.fetchrow(
                        CREATE_MAP_DRAWN_SQL,
                        owner,
                        group_id,
                        "",
                        None,
                        *content_args,
                        item_id,
                    )
                else:
                    row = await conn.fetchrow(
                        CREATE_MAP_SQL, owner, group_id, "", *content_args
                    )
    assert row is not None
    return Tile.model_validate(dict(row))


async def add_tile(
    executor: Executor,
    coords: MapCoordinates,
    title: str,
    content: str,
    preview: str | None = None,
    link: str | None = None,
) -> Tile:
    """Add a tile showing new content at ``coords``; return it.

    Its parent is the tile one step up; ``TileNotFoundError`` when there is
    none, ``TargetOccupiedError`` when ``coords`` holds a tile already.
    """
    check_coordinates("coords", coords)
    parent = coords.parent
    if parent is None:
        raise InvalidMoveError(
            f"{coords} is a map's root position; create_map makes a map's root"
        )
    _check_content(title, content, preview, link)
    place = (coords.user_id, coords.group_id, coords.path)
    content_args = (title, content, preview, link)
    with refusing_taken(coords):
        async with transaction_of(executor) as conn:
            if await distributed(conn):
                parent_id = await conn.fetchval(
                    LOCK_PARENT_SQL, coords.user_id, coords.group_id, parent.path
                )
                if parent_id is None:
                    raise TileNotFoundError(_no_parent(parent, coords))
                item_id = await conn.fetchval(DRAW_ITEM_ID_SQL)
                row = await conn.fetchrow(
                    ADD_TILE_DRAWN_SQL, *place, parent_id, *content_args, item_id
                )
            else:
                row = await conn.fetchrow(
                    ADD_TILE_SQL, *place, parent.path, *content_args
                )
                if row is None:
                    raise TileNotFoundError(_no_parent(parent, coords))
    return Tile.model_validate(dict(row))


def _no_parent(parent: MapCoordinates, coords: MapCoordinates) -> str:
    return f"no tile at {parent} to be the parent of {coords}; add the parent first"


def _check_content(
    title: object, content: object, preview: object, link: object
) -> None:
    check_text("title", title)
    check_text("content", content)
    check_optional_text("preview", preview)
    check_optional_text("link", link)
