"""The map's to-many relations (and user -> user_mapping) as Piccolo queries.

The supported read of children, copies and versions is
:mod:`vde.mapping.queries` (typed rows with their content, any unit of work,
plans checked on the indexes); these helpers are the same foreign keys as
unrun Piccolo queries, for a query of your own: chain ``.where()``,
``.order_by()``, ``.limit()`` or ``.output()``, then ``await`` it. To-one
relations need no helper: traverse the foreign key, e.g.
``MapItem.select(MapItem.ref_item.title, MapItem.parent.path)``,
``BaseItemVersion.base_item.title``, ``UserMapping.auth_user.email``.
The map's helpers take the map owner first, as the reads do, and filter by
it: a server sharded by owner then answers from the owner's shard alone.

``user_mapping_of`` is a plain ``where``: Piccolo 1.38's ``ForeignKey.reverse()``
builds its join from the attribute name (``auth_user``), not ``db_column_name``
(``auth_user_id``), so ``get_related(UserMapping.auth_user.reverse())`` fails.
"""

from __future__ import annotations

from piccolo.query.methods.select import First, Select

from vde.mapping.arguments import check_id, check_map_number, check_user_id
from vde.mapping.tables import BaseItemVersion, MapItem, UserMapping


def children_of(owner_id: int, tile_id: int) -> Select[MapItem]:
    """The tiles whose parent is tile ``tile_id`` of owner ``owner_id`` (they
    are in its owner's map)."""
    check_map_number("owner_id", owner_id)
    check_id("tile_id", tile_id)
    return MapItem.select().where(
        (MapItem.coord_user_id == owner_id) & (MapItem.parent == tile_id)
    )


def copies_of(owner_id: int, tile_id: int) -> Select[MapItem]:
    """The tiles in ``owner_id``'s maps copied from tile ``tile_id`` (their
    ``origin``), which may be any owner's: ask each owner whose maps may hold
    copies."""
    check_map_number("owner_id", owner_id)
    check_id("tile_id", tile_id)
    return MapItem.select().where(
        (MapItem.coord_user_id == owner_id) & (MapItem.origin == tile_id)
    )


def tiles_showing(owner_id: int, base_item_id: int) -> Select[MapItem]:
    """The tiles that show base item ``base_item_id`` of owner ``owner_id`` (a
    tile shows only its own owner's content)."""
    check_map_number("owner_id", owner_id)
    check_id("base_item_id", base_item_id)
    return MapItem.select().where(
        (MapItem.coord_user_id == owner_id) & (MapItem.ref_item == base_item_id)
    )


def versions_of(owner_id: int, base_item_id: int) -> Select[BaseItemVersion]:
    """The saved versions of base item ``base_item_id`` of owner ``owner_id``."""
    check_map_number("owner_id", owner_id)
    check_id("base_item_id", base_item_id)
    return BaseItemVersion.select().where(
        (BaseItemVersion.owner_id == owner_id)
        & (BaseItemVersion.base_item == base_item_id)
    )


def user_mapping_of(user_id: str) -> First:
    """The user's mapping row (its integer map owner id), or ``None``."""
    check_user_id("user_id", user_id)
    return UserMapping.select().where(UserMapping.auth_user == user_id).first()
