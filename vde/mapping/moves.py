"""Move, swap and copy whole subtrees so that each map stays a tree.

The database refuses a tile whose parent is in another map or whose path is not
its parent's plus one direction, checked at the end of every statement (the
``vde_map_items_tree_*`` rules). So each helper rewrites a tile and its whole
subtree in ONE statement, as the seed did: the new path is the new prefix plus
the rest of the old path, the moved tile gets its new parent, every tile its new
map. A swap is one UPDATE of both subtrees, which the coordinates constraint
allows because it is checked at the end of the statement (DEFERRABLE), so it
needs no free temporary slot (the seed used direction 7, which paths forbid).

Each helper takes a unit of work (``vde.transactions.Executor``: a ``Tx``, a
connection or a pool) and runs in a savepoint of its transaction (a pool: a
transaction of its own), so a refused helper writes nothing. It locks
first, in id order as the tree trigger does: the tiles it reads FOR UPDATE, then
their subtrees, so a concurrent insert below a moving tile waits for the move
and is then checked against the new paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from vde.errors import (
    InvalidMoveError,
    TargetOccupiedError,
    TargetTooDeepError,
    TileNotFoundError,
)
from vde.mapping.coordinates import MAX_PATH_LENGTH, MapCoordinates
from vde.transactions import Executor, transaction_of


@dataclass(frozen=True)
class _Relocation:
    """Tile ``tile_id`` and its subtree go from ``source`` to ``target``."""

    tile_id: int
    source: MapCoordinates
    target: MapCoordinates
    parent_id: int


_TILE = """
SELECT id, coord_user_id, coord_group_id, path, item_type
FROM vde_map_items WHERE id = $1 FOR {0}
"""

_PARENT = """
SELECT id FROM vde_map_items
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path = $3 FOR SHARE
"""

# A tile and its subtree are one path range: [P, P-) holds P and 'P,...' only,
# since ',' < '-' < '0' in byte order (collation "C").
_LOCK_SUBTREES = """
SELECT s.user_id, s.group_id, s.path, length(t.path) AS length FROM vde_map_items t
JOIN unnest($1::int[], $2::int[], $3::text[]) AS s(user_id, group_id, path)
  ON t.coord_user_id = s.user_id AND t.coord_group_id = s.group_id
 AND t.path >= s.path AND t.path < s.path || '-'
ORDER BY t.id FOR {0} OF t
"""

_RELOCATE = """
UPDATE vde_map_items t SET
    coord_user_id = m.to_user,
    coord_group_id = m.to_group,
    path = m.to_path || substr(t.path, length(m.from_path) + 1),
    parent_id = CASE WHEN t.id = m.tile_id THEN m.to_parent ELSE t.parent_id END,
    updated_at = now()
FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::int[], $6::int[],
            $7::text[], $8::int[])
     AS m(tile_id, from_user, from_group, from_path, to_user, to_group, to_path,
          to_parent)
WHERE t.coord_user_id = m.from_user AND t.coord_group_id = m.from_group
  AND t.path >= m.from_path AND t.path < m.from_path || '-'
"""


async def move_subtree(
    executor: Executor, tile_id: int, target: MapCoordinates
) -> int:
    """Move tile ``tile_id`` with its subtree to ``target``; return the tiles moved.

    ``target`` may be in another map; its parent position must hold a tile
    (the moved tile's new parent; else ``TileNotFoundError``), ``target``
    itself must be free (else ``TargetOccupiedError``) and the subtree must fit
    below it (else ``TargetTooDeepError``).
    """
    async with _free(target), transaction_of(executor) as conn:
        source = await _movable(conn, tile_id)
        if source == target:
            return 0
        if _inside(target, source):
            raise InvalidMoveError(
                f"tile {tile_id} cannot move into its own subtree ({target})"
            )
        parent_id = await _parent_of(conn, target)
        longest = await _lock_subtrees(conn, [source])
        _check_depth(tile_id, source, target, longest[source])
        return await _relocate(
            conn, [_Relocation(tile_id, source, target, parent_id)]
        )


async def swap_tiles(executor: Executor, a_id: int, b_id: int) -> int:
    """Swap the places of tiles ``a_id`` and ``b_id`` with their subtrees.

    One UPDATE rewrites both subtrees, so it works when every slot around the
    parents is taken. The two may be in different maps but neither may lie in
    the other's subtree. Returns the number of tiles moved.
    """
    if a_id == b_id:
        return 0
    async with transaction_of(executor) as conn:
        first, second = sorted((a_id, b_id))
        places = {first: await _movable(conn, first)}
        places[second] = await _movable(conn, second)
        a, b = places[a_id], places[b_id]
        if _inside(a, b) or _inside(b, a):
            raise InvalidMoveError(
                f"tiles {a_id} and {b_id} cannot swap: one lies in the other's subtree"
            )
        a_parent = await _parent_of(conn, a)
        b_parent = await _parent_of(conn, b)
        longest = await _lock_subtrees(conn, [a, b])
        _check_depth(a_id, a, b, longest[a])
        _check_depth(b_id, b, a, longest[b])
        return await _relocate(
            conn,
            [_Relocation(a_id, a, b, b_parent), _Relocation(b_id, b, a, a_parent)],
        )


async def copy_subtree(
    executor: Executor, tile_id: int, target: MapCoordinates
) -> int:
    """Copy tile ``tile_id`` and its subtree to ``target``; return the copy's id.

    Level by level, shallowest first (one INSERT per level): each copy's parent
    is the copy of its source's parent, found at the translated path, and its
    ``origin_id`` is the tile it copies; copies show the same base items. The
    source subtree is locked FOR SHARE, so it cannot move while being copied.
    """
    async with _free(target), transaction_of(executor) as conn:
        source = await _movable(conn, tile_id, "SHARE")
        if _inside(target, source):
            raise InvalidMoveError(f"tile {tile_id} cannot be copied into itself")
        parent_id = await _parent_of(conn, target)
        longest = await _lock_subtrees(conn, [source], "SHARE")
        _check_depth(tile_id, source, target, longest[source])
        copy_id: int = await conn.fetchval(
            """
            INSERT INTO vde_map_items (coord_user_id, coord_group_id, path,
                item_type, parent_id, origin_id, ref_item_id)
            SELECT $1, $2, $3, 'base', $4, id, ref_item_id
            FROM vde_map_items WHERE id = $5
            RETURNING id
            """,
            target.user_id, target.group_id, target.path, parent_id, tile_id,
        )
        depth = source.depth + 1
        while await _copy_level(conn, source, target, depth):
            depth += 1
        return copy_id


async def _copy_level(
    conn: asyncpg.Connection, source: MapCoordinates, target: MapCoordinates,
    depth: int,
) -> int:
    """Copy the source subtree's tiles at ``depth``; return how many."""
    lower, upper = source.descendant_bounds()
    status = await conn.execute(
        """
        INSERT INTO vde_map_items (coord_user_id, coord_group_id, path,
            item_type, parent_id, origin_id, ref_item_id)
        SELECT $1, $2, $3 || substr(s.path, length($4) + 1), 'base', np.id, s.id,
               s.ref_item_id
        FROM vde_map_items s
        JOIN vde_map_items np
          ON np.coord_user_id = $1 AND np.coord_group_id = $2
         AND np.path = $3 || substr(s.path, length($4) + 1, length(s.path) - 2
                                    - length($4))
        WHERE s.coord_user_id = $5 AND s.coord_group_id = $6
          AND s.path >= $7 AND s.path < $8 AND length(s.path) = $9
        ORDER BY s.path
        """,
        target.user_id, target.group_id, target.path, source.path,
        source.user_id, source.group_id, lower, upper, 2 * depth - 1,
    )
    return int(status.split()[-1])


async def _movable(
    conn: asyncpg.Connection, tile_id: int, lock: str = "UPDATE"
) -> MapCoordinates:
    """Lock tile ``tile_id`` and return where it is; a map root is not movable.

    A root is a whole map, not a subtree: its children are moved or copied instead.
    """
    row = await conn.fetchrow(_TILE.format(lock), tile_id)
    if row is None:
        raise TileNotFoundError(f"no tile {tile_id}")
    if row["item_type"] == "user":
        raise InvalidMoveError(f"tile {tile_id} is a map root; move its children")
    return MapCoordinates.from_row(row)


async def _parent_of(conn: asyncpg.Connection, place: MapCoordinates) -> int:
    """The id of the tile one step above ``place``, locked so it stays there."""
    parent = place.parent
    if parent is None:
        raise InvalidMoveError(f"{place} is a map root position")
    parent_id = await conn.fetchval(
        _PARENT, parent.user_id, parent.group_id, parent.path
    )
    if parent_id is None:
        raise TileNotFoundError(f"no tile at {parent} to be the parent of {place}")
    return int(parent_id)


async def _lock_subtrees(
    conn: asyncpg.Connection, places: list[MapCoordinates], lock: str = "UPDATE"
) -> dict[MapCoordinates, int]:
    """Lock the subtrees at ``places``; return each one's longest path length."""
    rows = await conn.fetch(
        _LOCK_SUBTREES.format(lock),
        [p.user_id for p in places], [p.group_id for p in places],
        [p.path for p in places],
    )
    longest = {place: len(place.path) for place in places}
    for row in rows:
        place = MapCoordinates.from_row(
            {"coord_user_id": row["user_id"], "coord_group_id": row["group_id"],
             "path": row["path"]})
        longest[place] = max(longest[place], row["length"])
    return longest


def _check_depth(
    tile_id: int, source: MapCoordinates, target: MapCoordinates, longest: int
) -> None:
    """Refuse a subtree whose deepest tile would get a path over the limit."""
    deepest = len(target.path) + longest - len(source.path)
    if deepest > MAX_PATH_LENGTH:
        raise TargetTooDeepError(
            f"tile {tile_id}'s subtree does not fit at {target}: its deepest tile "
            f"would get a path of {deepest} characters, the limit is {MAX_PATH_LENGTH}"
        )


@asynccontextmanager
async def _free(target: MapCoordinates) -> AsyncIterator[None]:
    """Turn the coordinates constraint's refusal at ``target`` into vde's error."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != "vde_map_items_coordinates_unique":
            raise
        raise TargetOccupiedError(f"{target} already holds a tile") from error


async def _relocate(conn: asyncpg.Connection, moves: list[_Relocation]) -> int:
    status = await conn.execute(
        _RELOCATE,
        [m.tile_id for m in moves],
        [m.source.user_id for m in moves], [m.source.group_id for m in moves],
        [m.source.path for m in moves],
        [m.target.user_id for m in moves], [m.target.group_id for m in moves],
        [m.target.path for m in moves], [m.parent_id for m in moves],
    )
    return int(status.split()[-1])


def _inside(place: MapCoordinates, tile: MapCoordinates) -> bool:
    """``place`` is ``tile`` or one of its descendants' positions (not a root)."""
    return (
        place.user_id == tile.user_id
        and place.group_id == tile.group_id
        and (place.path == tile.path or place.path.startswith(tile.path + ","))
    )
