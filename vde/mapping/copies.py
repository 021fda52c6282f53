"""Copy a subtree, level by level, with content of its own or shared.

A copied tile's parent must exist when the tile is inserted (the tree rule is
checked at the end of each statement), so the copy goes one level per
statement, shallowest first: each copy's parent is the copy of its source's
parent, found at the translated path. ``origin_id`` is the tile it copies.

By default (``clone_content=True``) every copy gets a base item of its own,
owned by the target's owner, with the source's title, content, preview and
link, so the copy can be edited alone. The ids of the copies and their items
are drawn from their sequences first, all at once, by a statement that reads
no table (a sharded server draws them where the sequences live), and each
level takes its share. One statement per level inserts the items and the
tiles that show them, but within one owner's maps on a distributed database
(``vde.mapping.layout``): there the level's items go first, in a statement of
their own, then the tiles, each INSERT alone in its statement, so the server
runs each on the owner's shard and commits in one phase. Either way each
INSERT writes the target owner's rows only. Versions are
not copied: a clone starts a history of its own. ``clone_content=False``
makes copies show the source's base items, within the source owner's maps
only (a tile shows only its own owner's content).
docs/usage.md ("The map's operations") says what a caller can rely on.
"""

from __future__ import annotations

from vde.errors import InvalidArgumentError, InvalidMoveError, TileNotFoundError
from vde.mapping.arguments import check_flag, check_target, check_tile_ref
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.layout import distributed
from vde.mapping.models import Tile
from vde.mapping.places import (
    TileRef,
    coordinates_args,
    lock_subtree,
    place_named,
    refusing_taken,
)
from vde.mapping.queries import tile_at
from vde.mapping.table_names import BASE_ITEMS, MAP_ITEMS, next_id
from vde.transactions import Executor, transaction_of


def _sequence(table: str) -> str:
    return f"array_agg({next_id(table)})"


#: $1: how many tiles the copy makes: their ids (and their items' ids).
DRAW_TILE_IDS_SQL = f"SELECT {_sequence(MAP_ITEMS)} FROM generate_series(1, $1)"
DRAW_IDS_SQL = (
    f"SELECT {_sequence(MAP_ITEMS)}, {_sequence(BASE_ITEMS)} "
    "FROM generate_series(1, $1)"
)


_SOURCE_LEVEL = f"""
    SELECT s.id AS origin_id, s.ref_item_id,
           $8 || substr(s.path, length($3) + 1) AS path{{content}}
    FROM {MAP_ITEMS} s{{joined}}
    WHERE s.coord_user_id = $1 AND s.coord_group_id = $2
      AND s.path >= $3 AND s.path < $4 AND length(s.path) = $5"""
_CONTENT = ", b.title, b.content, b.preview, b.link"
_JOINED = f"""
    JOIN {BASE_ITEMS} b ON b.owner_id = s.coord_user_id AND b.id = s.ref_item_id"""


def _copy_level(*, items: bool, ref: str) -> str:
    """The statement that copies one level: its source tiles with the place,
    parent and content of their copies. $1-$4: source subtree (owner, group,
    path range); $5: path length of the level; $6-$8: target (owner, group,
    path); $9: the ids drawn for the copies, $10: how many earlier levels
    took; $11: the ids drawn for their items (``ref`` or ``items``). ``ref``:
    what a copy shows; ``items``: the statement also inserts the items.

    Each part reads one owner's rows: ``source`` the source owner's,
    ``level`` the target owner's (the copies' parents), ``drawn`` neither (it
    takes the level's share of the ids), and each INSERT writes the target
    owner's rows from ``drawn``. So a server sharded by owner runs each part
    on one shard.
    """
    source = _SOURCE_LEVEL.format(
        content=_CONTENT if items else "", joined=_JOINED if items else ""
    )
    item_id = ",\n           ($11::int[])[$10 + level.n] AS item_id" if items else ""
    inserted = (
        f""", items AS (
    INSERT INTO {BASE_ITEMS} (id, owner_id, title, content, preview, link)
    SELECT item_id, $6, title, content, preview, link FROM drawn
)"""
        if items
        else ""
    )
    return f"""
WITH source AS MATERIALIZED ({source}
), level AS MATERIALIZED (
    SELECT source.*, np.id AS parent_id,
           row_number() OVER (ORDER BY source.path) AS n
    FROM source JOIN {MAP_ITEMS} np
      ON np.coord_user_id = $6 AND np.coord_group_id = $7
     AND np.path = CASE WHEN length(source.path) = 1 THEN ''
                        ELSE left(source.path, -2) END
), drawn AS MATERIALIZED (
    SELECT level.*, ($9::int[])[$10 + level.n] AS id{item_id}
    FROM level
){inserted}
INSERT INTO {MAP_ITEMS} (id, coord_user_id, coord_group_id, path, item_type,
                           parent_id, origin_id, ref_item_id)
SELECT drawn.id, $6, $7, drawn.path, '{MapItemType.BASE}', drawn.parent_id,
       drawn.origin_id, {ref}
FROM drawn
"""


COPY_LEVEL_SHARED_SQL = _copy_level(items=False, ref="drawn.ref_item_id")
#: The items and the tiles in one statement: into another owner's map, and on
#: one server within one owner's maps too.
COPY_LEVEL_CLONED_SQL = _copy_level(items=True, ref="drawn.item_id")
#: Within one owner's maps on a distributed server, first the level's items
#: (``CLONE_LEVEL_ITEMS_SQL``), then the tiles that show them: each INSERT alone
#: in its statement, so the server runs it on the owner's shard and commits in
#: one phase.
COPY_LEVEL_CLONES_SQL = _copy_level(items=False, ref="($11::int[])[$10 + drawn.n]")
#: The level's new items, numbered as ``COPY_LEVEL_CLONES_SQL`` numbers their
#: tiles (by path); $1-$5 and $8 as there, $6: the owner; $7: the ids drawn
#: for the items, $9: how many earlier levels took.
CLONE_LEVEL_ITEMS_SQL = f"""
WITH source AS MATERIALIZED ({_SOURCE_LEVEL.format(content=_CONTENT, joined=_JOINED)}
)
INSERT INTO {BASE_ITEMS} (id, owner_id, title, content, preview, link)
SELECT ($7::int[])[$9 + row_number() OVER (ORDER BY source.path)], $6,
       title, content, preview, link
FROM source
"""


async def copy_subtree(
    executor: Executor,
    source: TileRef,
    target: MapCoordinates,
    clone_content: bool = True,
) -> Tile:
    """Copy ``source`` and its subtree to ``target``; return the copy of ``source``.

    ``target`` may be in another map, of any owner; the tile one step above
    it becomes the copy's parent (``TileNotFoundError`` if none) and it must
    be free (``TargetOccupiedError``). The source subtree is locked FOR
    SHARE, so it cannot change while being copied. A map's root is not copied
    (copy its children into another map's root position's children).

    Into another owner's map the content is always cloned: a tile shows only
    its own owner's content, so ``clone_content=False`` there raises
    ``InvalidArgumentError`` before any SQL.
    """
    check_tile_ref("source", source)
    check_target("target", target)
    check_flag("clone_content", clone_content)
    owner = place_named(source).user_id
    if not clone_content and owner != target.user_id:
        raise InvalidArgumentError(
            f"clone_content=False would make tiles of owner {target.user_id} show "
            f"content of owner {owner}, and a tile shows only its own owner's "
            "content; copy into another owner's map with clone_content=True"
        )
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
            across = owner != target.user_id
            # A sharded server writes one owner's items and tiles in separate
            # statements (one shard, one phase); one server, in one.
            split = clone_content and not across and await distributed(conn)
            sql = COPY_LEVEL_SHARED_SQL
            if clone_content:
                sql = COPY_LEVEL_CLONES_SQL if split else COPY_LEVEL_CLONED_SQL
            draw = DRAW_IDS_SQL if clone_content else DRAW_TILE_IDS_SQL
            ids = list(await conn.fetchrow(draw, tree.size))
            taken = 0
            for length in range(len(tree.place.path), tree.deepest + 1, 2):
                source_level = (*coordinates_args(tree.place), length)
                if split:
                    await conn.execute(
                        CLONE_LEVEL_ITEMS_SQL,
                        *source_level,
                        owner,
                        ids[1],
                        target.path,
                        taken,
                    )
                status = await conn.execute(
                    sql,
                    *source_level,
                    target.user_id,
                    target.group_id,
                    target.path,
                    ids[0],
                    taken,
                    *ids[1:],
                )
                taken += int(status.split()[-1])
                if length == len(tree.place.path) and status.endswith(" 0"):
                    raise TileNotFoundError(
                        f"no tile at {target.parent} to be the parent of {target}; "
                        "add it first"
                    )
            copy = await tile_at(conn, target)
    assert copy is not None
    return copy
