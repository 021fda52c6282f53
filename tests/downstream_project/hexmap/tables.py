"""hexmap's one table: a tag on a tile of a vde map (vde's ``MapItem``)."""

from piccolo.columns import ForeignKey, OnDelete, Varchar
from piccolo.table import Table
from vde.mapping.tables import MapItem


class TileTag(Table, tablename="hexmap_tile_tags"):
    """A word a user put on a tile; it goes with the tile."""

    tile = ForeignKey(references=MapItem, null=False, on_delete=OnDelete.cascade)
    tag = Varchar(length=50)
