"""The map's to-many relations (and user -> user_mapping) as Piccolo queries.

The supported read of children, copies and versions is
:mod:`vde.mapping.queries` (typed rows with their content, any unit of work,
plans checked on the indexes); these helpers are the same foreign keys as
unrun Piccolo queries, for a query of your own: chain ``.where()``,
``.order_by()``, ``.limit()`` or ``.output()``, then ``await`` it. To-one
relations need no helper: traverse the foreign key, e.g.
``MapItem.select(MapItem.ref_item.title, MapItem.parent.path)``,
``BaseItemVersion.base_item.title``, ``UserMapping.auth_user.email``.

``user_mapping_of`` is a plain ``where``: Piccolo 1.38's ``ForeignKey.reverse()``
builds its join from the attribute name (``auth_user``), not ``db_column_name``
(``auth_user_id``), so ``get_related(UserMapping.auth_user.reverse())`` fails.
"""

from __future__ import annotations

from piccolo.query.methods.select import First, Select

from vde.mapping.arguments import check_id, check_user_id
from vde.mapping.tables import BaseItemVersion, MapItem, UserMapping


def children_of(tile_id: int) -> Select[MapItem]:
    """The tiles whose parent is ``tile_id``."""
    check_id("tile_id", tile_id)
    return MapItem.select().where(MapItem.parent == tile_id)


def copies_of(tile_id: int) -> Select[MapItem]:
    """The tiles copied from ``tile_id`` (their ``origin``)."""
    check_id("tile_id", tile_id)
    return MapItem.select().where(MapItem.origin == tile_id)


def tiles_showing(base_item_id: int) -> Select[MapItem]:
    """The tiles (map items) that show base item ``base_item_id``."""
    check_id("base_item_id", base_item_id)
    return MapItem.select().where(MapItem.ref_item == base_item_id)


def versions_of(base_item_id: int) -> Select[BaseItemVersion]:
    """The saved versions of base item ``base_item_id``."""
    check_id("base_item_id", base_item_id)
    return BaseItemVersion.select().where(BaseItemVersion.base_item == base_item_id)


def user_mapping_of(user_id: str) -> First:
    """The user's mapping row (its integer map owner id), or ``None``."""
    check_user_id("user_id", user_id)
    return UserMapping.select().where(UserMapping.auth_user == user_id).first()
