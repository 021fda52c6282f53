"""Edit what a tile shows, keeping every earlier content as a numbered version.

An edit first stores the content it is about to replace as the item's next
version, then changes the item. So version 1 is the first content, version N
the content before edit N, and the item itself always holds the newest content
(it is not a version). Concurrent editors of one item queue on its row lock
and get numbers without gaps, as ``vde.mapping.versions`` explains;
docs/usage.md ("History") tells the story.
"""

from __future__ import annotations

import enum
from typing import Final

from vde.errors import InvalidArgumentError
from vde.mapping.arguments import check_optional_text, check_text, check_tile_ref
from vde.mapping.layout import distributed
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.mapping.places import TileRef, find_tile
from vde.mapping.queries import versions
from vde.mapping.table_names import BASE_ITEM_VERSIONS, BASE_ITEMS, MAP_ITEMS
from vde.mapping.tables import MapItem
from vde.mapping.versions import DRAW_VERSION_ID_SQL, NEXT_VERSION_NUMBER
from vde.sql import select_list
from vde.transactions import Executor, connection_of, transaction_of


class _Unset(enum.Enum):
    UNSET = "UNSET"


#: "Not given": leave the field as it is (``None`` clears preview or link).
UNSET: Final = _Unset.UNSET

#: The tile at $1-$3 with its content, the content's row locked for the edit.
LOCK_CONTENT_SQL = f"""
SELECT {select_list(MapItem, "m")}, b.title, b.content, b.preview, b.link
FROM {MAP_ITEMS} m
JOIN {BASE_ITEMS} b ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND m.path = $3
FOR NO KEY UPDATE OF b
"""


def _edit(version_id: str, id_column: str) -> str:
    """$1: the item; $2/$4/$6/$8: whether title/content/preview/link were given,
    $3/$5/$7/$9: their values; $10: updated_by; $11: the item's owner; the
    version's id ``version_id`` written to ``id_column`` (both empty: the
    column's default). Both parts see the item as it was before the statement,
    so the version holds the replaced content. RETURNING names the table by an
    alias: Citus 13 sends the INSERT to the shard's table but keeps a qualified
    RETURNING's table name ("missing FROM-clause entry")."""
    return f"""
WITH version AS (
    INSERT INTO {BASE_ITEM_VERSIONS} AS nv
        ({id_column}owner_id, base_item_id, title, content, preview, link,
         version_number, updated_by)
    SELECT {version_id}b.owner_id, b.id, b.title, b.content, b.preview, b.link,
           {NEXT_VERSION_NUMBER.format(owner="$11")},
           $10
    FROM {BASE_ITEMS} b WHERE b.owner_id = $11 AND b.id = $1
    RETURNING nv.version_number
)
UPDATE {BASE_ITEMS} SET
    title = CASE WHEN $2 THEN $3 ELSE title END,
    content = CASE WHEN $4 THEN $5 ELSE content END,
    preview = CASE WHEN $6 THEN $7 ELSE preview END,
    link = CASE WHEN $8 THEN $9 ELSE link END,
    updated_at = now()
WHERE owner_id = $11 AND id = $1
RETURNING title, content, preview, link
"""


#: One server: the version's id from its column's default.
EDIT_SQL = _edit("", "")
#: Distributed: $12, the version's id, drawn first (``DRAW_VERSION_ID_SQL``),
#: so the sharded server runs the whole statement on the owner's shard.
EDIT_DRAWN_SQL = _edit("$12, ", "id, ")

#: The tile at $1-$3 and the base item it shows.
TILE_CONTENT_SQL = f"""
SELECT id, coord_user_id, ref_item_id FROM {MAP_ITEMS}
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path = $3
"""


async def update_content(
    executor: Executor,
    tile: TileRef,
    *,
    title: str | _Unset = UNSET,
    content: str | _Unset = UNSET,
    preview: str | None | _Unset = UNSET,
    link: str | None | _Unset = UNSET,
    updated_by: str | None = None,
) -> Tile:
    """Change the given fields of what ``tile`` shows; return the tile as it is now.

    First the current content is stored as the item's next version (with
    ``updated_by``, the editor who replaced it), then the given fields change;
    fields not given keep their value. Every tile showing the same base item
    shows the edit (copies made with ``clone_content=True`` have their own).
    """
    check_tile_ref("tile", tile)
    fields = {"title": title, "content": content, "preview": preview, "link": link}
    given = {name: value for name, value in fields.items() if value is not UNSET}
    if not given:
        raise InvalidArgumentError("give at least one of title, content, preview, link")
    for name in ("title", "content"):
        if name in given:
            check_text(name, given[name])
    for name in ("preview", "link"):
        if name in given:
            check_optional_text(name, given[name])
    check_optional_text("updated_by", updated_by)
    args: list[object] = []
    for name in fields:
        args += [name in given, given.get(name)]
    async with transaction_of(executor) as conn:
        row = await find_tile(conn, tile, LOCK_CONTENT_SQL)
        item = (row["ref_item_id"], *args, updated_by, row["coord_user_id"])
        if await distributed(conn):
            version_id = await conn.fetchval(DRAW_VERSION_ID_SQL)
            edited = await conn.fetchrow(EDIT_DRAWN_SQL, *item, version_id)
        else:
            edited = await conn.fetchrow(EDIT_SQL, *item)
    assert edited is not None
    return Tile.model_validate({**dict(row), **dict(edited)})


async def history(executor: Executor, tile: TileRef) -> list[BaseItemVersionRead]:
    """The saved versions of what ``tile`` shows, newest first (empty: never edited).

    Version N is the content before edit N; the current content is the tile's.
    The read of ``vde.mapping.queries.versions``, for a tile instead of a base
    item.
    """
    check_tile_ref("tile", tile)
    async with connection_of(executor) as conn:
        row = await find_tile(conn, tile, TILE_CONTENT_SQL)
        return await versions(conn, row["coord_user_id"], row["ref_item_id"])
