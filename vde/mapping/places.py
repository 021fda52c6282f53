"""Find and lock the tiles a map operation works on, always through the map owner.

Every statement vde's operations send to ``vde_map_items`` filters by the map's
coordinates (``coord_user_id = $1 AND coord_group_id = $2 AND path ...``): the
coordinates index serves it, and a database sharded by owner (Citus) can route
it to one node. Rows are locked only through that filter, never by id alone.

An operation names a tile two ways (:data:`TileRef`): by coordinates, or by a
``Tile`` read earlier (coordinates plus id). An id alone is refused
(``vde.mapping.arguments.check_tile_ref``): it does not say whose map to look
in, so finding it would ask every owner's rows. A ``Tile`` is first looked for
where it was read; the lock taken there must find its id. If the tile moved
meanwhile (within its owner's maps: tiles never change owner), it is found
again by owner and id (:data:`RELOCATE_SQL`, the primary key) and locked there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeAlias

import asyncpg

from vde.errors import (
    InvalidMoveError,
    TargetOccupiedError,
    TargetTooDeepError,
    TileNotFoundError,
)
from vde.mapping.coordinates import MAX_PATH_LENGTH, MapCoordinates
from vde.mapping.item_types import MapItemType
from vde.mapping.models import Tile
from vde.mapping.table_names import MAP_ITEMS
from vde.mapping.violations import broken_rule

#: A tile, named by its coordinates or by a ``Tile`` row (which holds them).
TileRef: TypeAlias = MapCoordinates | Tile

#: The rule a second tile on one coordinate breaks.
COORDINATES_UNIQUE = "vde_map_items_coordinates_unique"

#: How often a ``Tile`` is looked up again when it moved meanwhile.
RELOCATE_ATTEMPTS = 10

#: Where tile $2 of owner $1 is now (no lock): a ``Tile`` that moved since it
#: was read. Owner and id are the primary key.
RELOCATE_SQL = f"""
SELECT coord_user_id, coord_group_id, path FROM {MAP_ITEMS}
WHERE coord_user_id = $1 AND id = $2
"""

#: Lock a tile and its subtree (one path range, in id order as the tree trigger
#: locks) and describe it: its top tile, size and longest path. $5: the id the
#: top tile must have (NULL: any); if another tile sits there, nothing is
#: locked, so a stale read never takes another subtree's locks out of order.
_LOCK_SUBTREE = f"""
SELECT max(s.id) FILTER (WHERE s.path = $3) AS id,
       max(s.item_type) FILTER (WHERE s.path = $3) AS item_type,
       max(s.parent_id) FILTER (WHERE s.path = $3) AS parent_id,
       count(*)::int AS size,
       coalesce(max(length(s.path)), 0) AS deepest
FROM (SELECT id, path, item_type, parent_id FROM {MAP_ITEMS}
      WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $4
        AND ($5::int IS NULL OR EXISTS (
            SELECT 1 FROM {MAP_ITEMS} t WHERE t.coord_user_id = $1
               AND t.coord_group_id = $2 AND t.path = $3 AND t.id = $5))
      ORDER BY id FOR {{0}}) AS s
"""
LOCK_SUBTREE_SQL = {
    "UPDATE": _LOCK_SUBTREE.format("UPDATE"),
    "SHARE": _LOCK_SUBTREE.format("SHARE"),
}

#: The tile at a position, locked so it stays there (a new parent). The tree
#: check writes a new parent's row; taking that lock (FOR NO KEY UPDATE) here
#: keeps two moves under one parent from deadlocking on the upgrade.
PARENT_SQL = f"""
SELECT id FROM {MAP_ITEMS}
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path = $3 FOR NO KEY UPDATE
"""


def coordinates_args(place: MapCoordinates) -> tuple[int, int, str, str]:
    """``$1..$4`` of a subtree statement: owner, group and the path range
    (``MapCoordinates.subtree_bounds``)."""
    return (place.user_id, place.group_id, *place.subtree_bounds())


@dataclass(frozen=True)
class Subtree:
    """A locked tile with everything below it."""

    place: MapCoordinates
    id: int
    item_type: str
    parent_id: int | None
    #: tiles in it, the top one included
    size: int
    #: length of its longest path
    deepest: int

    @property
    def is_root(self) -> bool:
        return self.item_type == MapItemType.USER

    def check_fits(self, target: MapCoordinates) -> None:
        """Refuse a target under which the deepest tile's path would be too long."""
        longest = self.deepest - len(self.place.path) + len(target.path)
        if longest > MAX_PATH_LENGTH:
            raise TargetTooDeepError(
                f"{target} is too deep for the {self.size}-tile subtree of "
                f"{self.place}: its deepest path would be {longest} characters, "
                f"the limit is {MAX_PATH_LENGTH}; choose a target "
                f"{longest - MAX_PATH_LENGTH} characters shallower"
            )


async def lock_subtree(
    conn: asyncpg.Connection,
    ref: TileRef,
    lock: Literal["UPDATE", "SHARE"],
    *,
    found: tuple[MapCoordinates, int | None] | None = None,
) -> Subtree:
    """Lock the tile ``ref`` names and its subtree; TileNotFoundError if absent.

    ``found``: what :func:`place_of` returned for ``ref`` just before.
    """
    sql = LOCK_SUBTREE_SQL[lock]
    for attempt in range(RELOCATE_ATTEMPTS):
        if attempt == 0 and found is not None:
            place, wanted = found
        else:
            place, wanted = await place_of(conn, ref, again=attempt > 0)
        if wanted is None:
            row = await conn.fetchrow(sql, *coordinates_args(place), None)
            if row is None or row["id"] is None:
                raise TileNotFoundError(f"no tile at {place}")
            return _subtree(place, row)
        # The tile may have moved since it was read, and another one taken its
        # place: lock in a savepoint, so the wrong tiles' locks are let go.
        try:
            async with conn.transaction():
                row = await conn.fetchrow(sql, *coordinates_args(place), wanted)
                if row is not None and row["id"] == wanted:
                    return _subtree(place, row)
                raise _Elsewhere
        except _Elsewhere:
            continue
    raise TileNotFoundError(f"{_named(ref)} kept moving while it was being locked")


class _Elsewhere(Exception):
    """The tile named by id was not where it had just been read."""


def _subtree(place: MapCoordinates, row: asyncpg.Record) -> Subtree:
    return Subtree(
        place,
        row["id"],
        row["item_type"],
        row["parent_id"],
        row["size"],
        row["deepest"],
    )


async def find_tile(conn: asyncpg.Connection, ref: TileRef, sql: str) -> asyncpg.Record:
    """Run ``sql`` (``$1..$3``: owner, group, path; one row with ``id``) for ``ref``."""
    for attempt in range(RELOCATE_ATTEMPTS):
        place, wanted = await place_of(conn, ref, again=attempt > 0)
        row = await conn.fetchrow(sql, place.user_id, place.group_id, place.path)
        if row is not None and wanted in (None, row["id"]):
            return row
        if wanted is None:
            raise TileNotFoundError(f"no tile at {place}")
    raise TileNotFoundError(f"{_named(ref)} kept moving while it was being read")


async def place_of(
    conn: asyncpg.Connection, ref: TileRef, *, again: bool = False
) -> tuple[MapCoordinates, int | None]:
    """Where ``ref`` is, and the id that must be found there (None: any tile).

    A ``Tile`` is first trusted to be where it was read; ``again`` looks it up.
    """
    if isinstance(ref, MapCoordinates):
        return ref, None
    if not again:
        return place_named(ref), ref.id
    row = await conn.fetchrow(RELOCATE_SQL, ref.coord_user_id, ref.id)
    if row is None:
        raise TileNotFoundError(f"no {_named(ref)}")
    return MapCoordinates.from_row(row), ref.id


def place_named(ref: TileRef) -> MapCoordinates:
    """Where ``ref`` is (a ``Tile``: where it was read); its owner never changes."""
    if isinstance(ref, MapCoordinates):
        return ref
    return MapCoordinates(ref.coord_user_id, ref.coord_group_id, ref.path)


def _named(ref: TileRef) -> str:
    if isinstance(ref, MapCoordinates):
        return f"the tile at {ref}"
    return f"tile {ref.id} of owner {ref.coord_user_id}"


async def parent_for(conn: asyncpg.Connection, place: MapCoordinates) -> int:
    """The id of the tile that will be ``place``'s parent, locked (PARENT_SQL)."""
    parent = place.parent
    if parent is None:
        raise InvalidMoveError(f"{place} is a map root position; roots stay put")
    parent_id = await conn.fetchval(
        PARENT_SQL, parent.user_id, parent.group_id, parent.path
    )
    if parent_id is None:
        raise TileNotFoundError(f"no tile at {parent} to be the parent of {place}")
    return int(parent_id)


@contextmanager
def refusing_taken(place: MapCoordinates) -> Iterator[None]:
    """Turn the coordinates rule's refusal at ``place`` into TargetOccupiedError.

    Wrap it around the helper's transaction, so its savepoint is already
    rolled back when the error reaches the caller.
    """
    try:
        yield
    except (asyncpg.UniqueViolationError, asyncpg.InternalServerError) as error:
        # Citus reports some violations as XX000 (InternalServerError).
        if broken_rule(error) != COORDINATES_UNIQUE:
            raise
        raise TargetOccupiedError(
            f"{place} already holds a tile; choose a free position"
        ) from error
