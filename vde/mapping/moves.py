"""Move and swap whole subtrees so that each map stays a tree.

The database refuses a tile whose parent is in another map or whose path is not
its parent's plus one direction, checked at the end of every statement (the
``vde_map_items_tree_*`` rules). So a move rewrites a tile and its whole
subtree in ONE UPDATE: the new path is the new prefix plus the rest of the old
path, the moved tile gets its new parent, every tile its new map. A swap is one
UPDATE of both subtrees, which the coordinates constraint allows because it is
checked at the end of the statement (DEFERRABLE), so it needs no free temporary
slot.

Each helper takes a unit of work (``vde.transactions.Executor``: a ``Tx``, a
connection or a pool) and runs in a savepoint of its transaction (a pool: a
transaction of its own), so a refused helper writes nothing. Tiles are named by
coordinates or a ``Tile`` (``vde.mapping.places``) and move only within their
owner's maps: the owner column is never written, so on a server sharded by
owner every statement stays on the owner's shard. Every statement
filters by the map owner (``coord_user_id = $n``): first the subtree is locked
FOR UPDATE through its path range (in id order, as the tree trigger locks),
then the new parent FOR NO KEY UPDATE by its coordinates (the lock the tree
check's write of a new parent takes), then one UPDATE. A concurrent insert
below a moving tile waits for the move and is then checked against the new
paths. The statements are the same for 1 tile or 20,000. docs/usage.md ("The
map's operations") and docs/security.md (isolation levels) tell the story.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from vde.errors import InvalidMoveError
from vde.mapping.arguments import check_same_owner, check_target, check_tile_ref
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.places import (
    Subtree,
    TileRef,
    coordinates_args,
    lock_subtree,
    parent_for,
    place_named,
    place_of,
    refusing_taken,
)
from vde.mapping.table_names import MAP_ITEMS
from vde.mapping.violations import broken_rule
from vde.transactions import Executor, transaction_of

#: Runs of a move or swap when tiles keep joining the subtree meanwhile.
RACE_ATTEMPTS = 5
#: The one isolation level at which a run again takes a newer snapshot.
_READ_COMMITTED = "read committed"
#: The tree trigger's rules (``vde_map_items_tree_parent``, ``_path``, ``_children``).
_TREE_RULES = "vde_map_items_tree_"

#: $1-$4: the subtree (owner, group, path range); $5/$6: where its top goes
#: (group, path) in the same owner's maps; $7: the top's new parent. The
#: owner is never SET: tiles stay in their owner's maps (a sharded server
#: cannot change a row's distribution column).
MOVE_SQL = f"""
UPDATE {MAP_ITEMS} SET
    coord_group_id = $5,
    path = $6 || substr(path, length($3) + 1),
    parent_id = CASE WHEN path = $3 THEN $7 ELSE parent_id END,
    updated_at = now()
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $4
"""

_IN_A = "(coord_group_id = $2 AND path >= $3 AND path < $4)"
_IN_B = "(coord_group_id = $5 AND path >= $6 AND path < $7)"
#: $1: the owner of both subtrees; $2-$4 and $5-$7: each subtree (group, path
#: range); $8/$9: their top tiles; $10/$11: the tops' parents. Each subtree
#: takes the other's place, prefix for prefix.
SWAP_SQL = f"""
UPDATE {MAP_ITEMS} SET
    coord_group_id = CASE WHEN {_IN_A} THEN $5 ELSE $2 END,
    path = CASE WHEN {_IN_A} THEN $6 || substr(path, length($3) + 1)
                ELSE $3 || substr(path, length($6) + 1) END,
    parent_id = CASE WHEN id = $8 THEN $11 WHEN id = $9 THEN $10
                     ELSE parent_id END,
    updated_at = now()
WHERE coord_user_id = $1 AND ({_IN_A} OR {_IN_B})
"""


async def move_subtree(
    executor: Executor, tile: TileRef, target: MapCoordinates
) -> int:
    """Move ``tile`` with its subtree to ``target``; return the tiles moved.

    ``target`` may be in another map of the same owner; the tile one step
    above it becomes the new parent (``TileNotFoundError`` if none) and
    ``target`` must be free (``TargetOccupiedError``). A map's root does not
    move (move its children). Into another owner's map: ``InvalidMoveError``
    before any SQL (copy, then delete).
    """
    check_tile_ref("tile", tile)
    check_target("target", target)
    check_same_owner("move", place_named(tile), target)

    async def move(conn: asyncpg.Connection) -> int:
        source = await _movable(conn, tile)
        if source.place == target:
            return 0
        if target.is_within(source.place):
            raise InvalidMoveError(
                f"tile {source.id} cannot move into its own subtree ({target})"
            )
        source.check_fits(target)
        parent_id = await parent_for(conn, target)
        status = await conn.execute(
            MOVE_SQL,
            *coordinates_args(source.place),
            target.group_id,
            target.path,
            parent_id,
        )
        return int(status.split()[-1])

    with refusing_taken(target):
        return await _retrying_late_children(executor, move)


async def swap_tiles(executor: Executor, a: TileRef, b: TileRef) -> int:
    """Swap the places of tiles ``a`` and ``b`` with their subtrees; return tiles moved.

    One UPDATE rewrites both subtrees, so it works when every slot around the
    parents is taken. The two may be in different maps of one owner (each
    subtree takes the other's place and parent); neither may lie in the
    other's subtree, nor be a root. Tiles of two owners: ``InvalidMoveError``
    before any SQL. The subtrees are locked in id order (tiles named by
    coordinates: in coordinate order), so two swaps sharing a tile queue
    instead of deadlocking.
    """
    check_tile_ref("a", a)
    check_tile_ref("b", b)
    check_same_owner("swap", place_named(a), place_named(b))

    async def swap(conn: asyncpg.Connection) -> int:
        found = [(ref, await place_of(conn, ref)) for ref in (a, b)]
        found.sort(key=lambda pair: _order(pair[1]))
        first, second = [await _movable(conn, ref, at) for ref, at in found]
        if first.id == second.id:
            return 0
        if first.place.is_within(second.place) or second.place.is_within(first.place):
            raise InvalidMoveError(
                f"tiles {first.id} and {second.id} cannot swap: one lies in the "
                "other's subtree"
            )
        first.check_fits(second.place)
        second.check_fits(first.place)
        status = await conn.execute(
            SWAP_SQL,
            first.place.user_id,
            *coordinates_args(first.place)[1:],
            *coordinates_args(second.place)[1:],
            first.id,
            second.id,
            first.parent_id,
            second.parent_id,
        )
        return int(status.split()[-1])

    return await _retrying_late_children(executor, swap)


async def _retrying_late_children(
    executor: Executor, work: Callable[[asyncpg.Connection], Awaitable[int]]
) -> int:
    """Run ``work`` in a savepoint, again when a tile joined the subtree meanwhile.

    The lock statement locks the tiles its snapshot shows. A tile whose parent
    was committed just after that snapshot can be added below it before the
    UPDATE locks the parent, and be committed after the UPDATE's own snapshot:
    the UPDATE then moves the parent without it, and the tree check refuses
    (``vde_map_items_tree_children``). Nothing was written; running the move
    again, with a newer snapshot, takes the late tile along. Only READ
    COMMITTED takes a newer snapshot per statement: at REPEATABLE READ and
    SERIALIZABLE a run again would see what the first one saw, so the refusal
    is raised at once.
    """
    async with transaction_of(executor) as conn:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                async with conn.transaction():
                    return await work(conn)
            except (asyncpg.CheckViolationError, asyncpg.InternalServerError) as error:
                # Citus reports some violations as XX000 (InternalServerError).
                late_tile = (broken_rule(error) or "").startswith(_TREE_RULES)
                if not late_tile or attempt == RACE_ATTEMPTS:
                    raise
                level = await conn.fetchval("SHOW transaction_isolation")
                if level != _READ_COMMITTED:
                    raise
    raise AssertionError("unreachable")


async def _movable(
    conn: asyncpg.Connection,
    tile: TileRef,
    found: tuple[MapCoordinates, int | None] | None = None,
) -> Subtree:
    """Lock ``tile``'s subtree FOR UPDATE; a map's root is not movable."""
    subtree = await lock_subtree(conn, tile, "UPDATE", found=found)
    if subtree.is_root:
        raise InvalidMoveError(
            f"tile {subtree.id} is the root of map {subtree.place}; "
            "move or swap its children instead"
        )
    return subtree


def _order(found: tuple[MapCoordinates, int | None]) -> tuple[int, int, int, str]:
    """Lock order: by id where the caller named one (ids never change, so every
    transaction agrees), else by coordinates."""
    place, tile_id = found
    if tile_id is not None:
        return (0, tile_id, 0, "")
    return (1, place.user_id, place.group_id, place.path)
