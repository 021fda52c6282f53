"""The hexagonal map: tiles (map items), their content (base items) and its versions.

The map's whole life, each operation set-based and atomic, taking a unit of
work (``vde.transactions``: a ``Tx``, a connection or a pool)::

    mapping_user_id_for  create_map  add_tile  update_content  history
    move_subtree  swap_tiles  copy_subtree  delete_subtree  tile_at  descendants
    neighbourhood

The names load on first use (PEP 562): ``vde.registry`` imports
``vde.mapping.tables``, and an eager import of the operations here would bring
``vde.transactions`` (which imports the registry) into that import, a cycle.
Type checkers read the imports below as the package's own names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vde.mapping.content import UNSET, history, update_content
    from vde.mapping.coordinates import Direction, MapCoordinates
    from vde.mapping.copies import copy_subtree
    from vde.mapping.deletes import DeletedSubtree, delete_subtree
    from vde.mapping.models import BaseItemVersionRead, Tile
    from vde.mapping.moves import move_subtree, swap_tiles
    from vde.mapping.neighbourhoods import Neighbourhood, neighbourhood
    from vde.mapping.owners import mapping_user_id_for
    from vde.mapping.places import TileRef
    from vde.mapping.queries import descendants, tile_at
    from vde.mapping.tiles import add_tile, create_map

#: Each exported name and the module that defines it.
_HOMES = {
    "UNSET": "content",
    "history": "content",
    "update_content": "content",
    "Direction": "coordinates",
    "MapCoordinates": "coordinates",
    "copy_subtree": "copies",
    "DeletedSubtree": "deletes",
    "delete_subtree": "deletes",
    "BaseItemVersionRead": "models",
    "Tile": "models",
    "move_subtree": "moves",
    "swap_tiles": "moves",
    "Neighbourhood": "neighbourhoods",
    "neighbourhood": "neighbourhoods",
    "mapping_user_id_for": "owners",
    "TileRef": "places",
    "descendants": "queries",
    "tile_at": "queries",
    "add_tile": "tiles",
    "create_map": "tiles",
}

__all__ = [
    "UNSET",
    "BaseItemVersionRead",
    "DeletedSubtree",
    "Direction",
    "MapCoordinates",
    "Neighbourhood",
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
    "neighbourhood",
    "swap_tiles",
    "tile_at",
    "update_content",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vde.mapping' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vde.mapping.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
