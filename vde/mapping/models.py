"""Typed rows of the mapping app: ``<Table>Read`` to read, ``<Table>Write`` to insert.

Write models have no ``id`` (the database numbers these rows) and no timestamps;
see :mod:`vde.row_models` for what each kind requires.
"""

from __future__ import annotations

from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping
from vde.row_models import read_model, write_model

BaseItemRead = read_model(BaseItem, "BaseItemRead")
BaseItemWrite = write_model(BaseItem, "BaseItemWrite")
BaseItemVersionRead = read_model(BaseItemVersion, "BaseItemVersionRead")
BaseItemVersionWrite = write_model(BaseItemVersion, "BaseItemVersionWrite")
MapItemRead = read_model(MapItem, "MapItemRead")
MapItemWrite = write_model(MapItem, "MapItemWrite")
UserMappingRead = read_model(UserMapping, "UserMappingRead")
UserMappingWrite = write_model(UserMapping, "UserMappingWrite")
