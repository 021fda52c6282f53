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


def next_id(table: str) -> str:
    """The next id of ``table`` from its column's sequence, as an expression: a
    write that needs its ids before it inserts (on Citus, to be routed to the
    owner's shard) draws them with it in a statement that reads no table."""
    return f"nextval(pg_get_serial_sequence('{table}', 'id'))::int"
