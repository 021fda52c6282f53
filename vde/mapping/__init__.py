"""The hexagonal map: tiles (map items), their content (base items) and its versions.

The map's whole life, each operation set-based and atomic, taking a unit of
work (``vde.transactions``: a ``Tx``, a connection or a pool)::

    mapping_user_id_for  create_map  add_tile  update_content  history
    move_subtree  swap_tiles  copy_subtree  delete_subtree  tile_at  descendants
"""

from vde.mapping.content import UNSET, history, update_content
from vde.mapping.coordinates import Direction, MapCoordinates
from vde.mapping.copies import copy_subtree
from vde.mapping.deletes import DeletedSubtree, delete_subtree
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.mapping.moves import move_subtree, swap_tiles
from vde.mapping.owners import mapping_user_id_for
from vde.mapping.places import TileRef
from vde.mapping.queries import descendants, tile_at
from vde.mapping.tiles import add_tile, create_map

__all__ = [
    "UNSET",
    "BaseItemVersionRead",
    "DeletedSubtree",
    "Direction",
    "MapCoordinates",
    "Tile",
    "TileRef",
    "add_tile",
    "copy_subtree",
    "create_map",
    "delete_subtree",
    "descendants",
    "history",
    "mapping_user_id_for",
    "move_subtree",
    "swap_tiles",
    "tile_at",
    "update_content",
]
