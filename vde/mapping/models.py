"""Typed rows of the mapping app: ``<Table>Read`` to read, ``<Table>Write`` to insert.

Write models have no ``id`` (the database numbers these rows) and no timestamps;
see :mod:`vde.row_models` for what each kind requires; tests/test_row_models.py
keeps every field in step with its column. ``Tile`` is what vde's map queries
return: a tile with its content.
"""

from __future__ import annotations

from datetime import datetime

import pydantic

from vde.mapping.item_types import MapItemType
from vde.row_models import READ_CONFIG, WRITE_CONFIG, RowModel


class BaseItemRead(RowModel):
    """The content shown on one or more tiles (a row of ``vde_base_items``)."""

    model_config = READ_CONFIG

    id: int
    owner_id: int
    title: str
    content: str
    preview: str | None = None
    link: str | None = None
    created_at: datetime
    updated_at: datetime


class BaseItemWrite(RowModel):
    model_config = WRITE_CONFIG

    owner_id: int
    title: str
    content: str
    preview: str | None = None
    link: str | None = None


class BaseItemVersionWrite(RowModel):
    model_config = WRITE_CONFIG

    owner_id: int
    base_item: int = pydantic.Field(validation_alias="base_item_id")
    title: str
    content: str
    preview: str | None = None
    link: str | None = None
    version_number: int
    updated_by: str | None = None


class MapItemWrite(RowModel):
    model_config = WRITE_CONFIG

    coord_user_id: int
    coord_group_id: int = 0
    path: str = ""
    item_type: MapItemType
    origin: int | None = pydantic.Field(None, validation_alias="origin_id")
    parent: int | None = pydantic.Field(None, validation_alias="parent_id")
    ref_item: int = pydantic.Field(validation_alias="ref_item_id")


class UserMappingRead(RowModel):
    """An auth user's integer map-owner id (a row of ``vde_user_mapping``)."""

    model_config = READ_CONFIG

    id: int
    auth_user: str = pydantic.Field(validation_alias="auth_user_id")
    mapping_user_id: int
    created_at: datetime
    updated_at: datetime


class UserMappingWrite(RowModel):
    model_config = WRITE_CONFIG

    auth_user: str = pydantic.Field(validation_alias="auth_user_id")
    mapping_user_id: int


class MapItemRead(RowModel):
    """One tile (a row of ``vde_map_items``)."""

    model_config = READ_CONFIG

    id: int
    coord_user_id: int
    coord_group_id: int
    path: str
    item_type: MapItemType
    origin: int | None = pydantic.Field(None, validation_alias="origin_id")
    parent: int | None = pydantic.Field(None, validation_alias="parent_id")
    ref_item: int = pydantic.Field(validation_alias="ref_item_id")
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


class BaseItemVersionRead(RowModel):
    """A saved version of a base item (a row of ``vde_base_item_versions``)."""

    model_config = READ_CONFIG

    id: int
    owner_id: int
    base_item: int = pydantic.Field(validation_alias="base_item_id")
    title: str
    content: str
    preview: str | None = None
    link: str | None = None
    version_number: int
    created_at: datetime
    updated_by: str | None = None
