"""Typed rows of the mapping app: ``<Table>Read`` to read, ``<Table>Write`` to insert.

Write models have no ``id`` (the database numbers these rows) and no timestamps;
see :mod:`vde.row_models` for what each kind requires. ``MapItemRead`` and
``Tile`` are written out, so a type checker sees their fields.
"""

from __future__ import annotations

from datetime import datetime

import pydantic

from vde.mapping.item_types import MapItemType
from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping
from vde.row_models import READ_CONFIG, read_model, write_model

BaseItemRead = read_model(BaseItem, "BaseItemRead")
BaseItemWrite = write_model(BaseItem, "BaseItemWrite")
BaseItemVersionWrite = write_model(BaseItemVersion, "BaseItemVersionWrite")
MapItemWrite = write_model(MapItem, "MapItemWrite")
UserMappingRead = read_model(UserMapping, "UserMappingRead")
UserMappingWrite = write_model(UserMapping, "UserMappingWrite")


class MapItemRead(pydantic.BaseModel):
    """One tile (a row of ``vde_map_items``)."""

    model_config = READ_CONFIG

    id: int
    coord_user_id: int
    coord_group_id: int
    path: str
    item_type: MapItemType
    origin: int | None = pydantic.Field(None, alias="origin_id")
    parent: int | None = pydantic.Field(None, alias="parent_id")
    ref_item: int = pydantic.Field(alias="ref_item_id")
    created_at: datetime
    updated_at: datetime


class Tile(MapItemRead):
    """A tile with what it shows: its base item's title, content, preview and link.

    The base item's own id is ``ref_item``.
    """

    title: str
    content: str
    preview: str | None = None
    link: str | None = None


class BaseItemVersionRead(pydantic.BaseModel):
    """A saved version of a base item (a row of ``vde_base_item_versions``)."""

    model_config = READ_CONFIG

    id: int
    base_item: int = pydantic.Field(alias="base_item_id")
    title: str
    content: str
    preview: str | None = None
    link: str | None = None
    version_number: int
    created_at: datetime
    updated_by: str | None = None
