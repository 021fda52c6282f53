"""The map's tables: content (base items and versions), tiles, and map owners.

A tile (``MapItem``) sits at a coordinate (coord_user_id, coord_group_id, path)
and points at its content (``BaseItem``). Objects Piccolo cannot express (identity
ids, ``COLLATE "C"`` on ``path``, the partial index of map roots, the tree trigger
and its two checks) are added by raw steps in ``piccolo_migrations/mapping/``.
``vde_map_items_coordinates_unique`` is DEFERRABLE (checked at statement end, so
one UPDATE can swap two subtrees): it cannot be an ON CONFLICT arbiter.
"""

from __future__ import annotations

from piccolo.columns import (
    ForeignKey,
    Integer,
    OnDelete,
    OnUpdate,
    Serial,
    Text,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from vde.auth.tables import User
from vde.columns import created_at, one_of, tablename, updated_at
from vde.mapping.item_types import MapItemType

#: A path is '' (the root) or directions 0-6 separated by commas.
PATH_PATTERN = r"^([0-6](,[0-6])*)?$"


class BaseItem(Table, tablename=tablename("base_items")):
    """The content shown on one or more tiles."""

    id = Serial(primary_key=True)
    owner_id = Integer(
        default=None,
        help_text="The map owner whose tiles show it (0: no tile shows it).",
    )
    title = Text(default=None)
    content = Text(default=None)
    preview = Text(null=True, default=None)
    link = Text(null=True, default=None)
    created_at = created_at()
    updated_at = updated_at()


class BaseItemVersion(Table, tablename=tablename("base_item_versions")):
    """An immutable snapshot of a base item's content, numbered 1, 2, 3, ..."""

    id = Serial(primary_key=True)
    owner_id = Integer(default=None, help_text="Its base item's owner.")
    # Indexed by the leading column of vde_base_item_versions_number_unique.
    base_item = ForeignKey(
        BaseItem,
        null=False,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.no_action,
        db_column_name="base_item_id",
    )
    title = Text(default=None)
    content = Text(default=None)
    preview = Text(null=True, default=None)
    link = Text(null=True, default=None)
    version_number = Integer(default=None)
    created_at = created_at()
    updated_by = Text(null=True, default=None)

    vde_base_item_versions_number_unique = Unique(["base_item_id", "version_number"])
    vde_base_item_versions_number_positive = Check("version_number >= 1")


class MapItem(Table, tablename=tablename("map_items")):
    """A tile: a position in a user's hex map that shows a base item."""

    id = Serial(primary_key=True)
    coord_user_id = Integer(default=None, help_text="The map owner's mapping id.")
    coord_group_id = Integer(default=0)
    path = Varchar(
        length=255,
        default="",
        help_text=(
            "Directions from the map's root, comma-separated, each 0-6 "
            "(0 = centre, 1-6 = NW, NE, E, SE, SW, W); '' is the root."
        ),
    )
    item_type = Varchar(length=50, default=None, choices=MapItemType)
    origin: ForeignKey[MapItem] = ForeignKey(
        "self",
        null=True,
        on_delete=OnDelete.set_null,
        on_update=OnUpdate.no_action,
        db_column_name="origin_id",
        index=True,
        help_text="The tile this one was copied from.",
    )
    parent: ForeignKey[MapItem] = ForeignKey(
        "self",
        null=True,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.no_action,
        db_column_name="parent_id",
        index=True,
    )
    ref_item = ForeignKey(
        BaseItem,
        null=False,
        on_delete=OnDelete.restrict,
        on_update=OnUpdate.no_action,
        db_column_name="ref_item_id",
        index=True,
    )
    created_at = created_at()
    updated_at = updated_at()

    vde_map_items_coordinates_unique = Unique(
        ["coord_user_id", "coord_group_id", "path"]
    )
    vde_map_items_path_format = Check(f"path ~ '{PATH_PATTERN}'")
    vde_map_items_item_type_check = Check(one_of("item_type", MapItemType))
    user_item_parent_constraint = Check(
        f"item_type <> '{MapItemType.USER}' OR parent_id IS NULL"
    )
    null_parent_is_user_constraint = Check(
        f"parent_id IS NOT NULL OR item_type = '{MapItemType.USER}'"
    )


class UserMapping(Table, tablename=tablename("user_mapping")):
    """Maps an auth user (text id) to the integer owner id used in coordinates."""

    id = Serial(primary_key=True)
    auth_user = ForeignKey(
        User,
        null=False,
        unique=True,
        # A user who owns maps must not be deleted by accident.
        on_delete=OnDelete.no_action,
        on_update=OnUpdate.no_action,
        db_column_name="auth_user_id",
    )
    mapping_user_id = Integer(unique=True, default=None)
    created_at = created_at()
    updated_at = updated_at()
