"""The map tables' names as the map operations' SQL writes them.

Read once from the Piccolo tables (``vde.mapping.tables``), so a renamed table
is renamed in every statement of ``vde.mapping`` too.
"""

from __future__ import annotations

from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping

#: Tiles.
MAP_ITEMS: str = MapItem._meta.tablename
#: What tiles show.
BASE_ITEMS: str = BaseItem._meta.tablename
#: Earlier contents of a base item.
BASE_ITEM_VERSIONS: str = BaseItemVersion._meta.tablename
#: Auth user -> integer map owner.
USER_MAPPING: str = UserMapping._meta.tablename
