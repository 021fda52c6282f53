from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.constraints import Check
from piccolo.constraints import Unique
from piccolo.table import Table


class BaseItem(Table, tablename="vde_base_items", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


class User(Table, tablename="vde_users", schema=None):
    id = Text(
        default=None,
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-11-26T17:26:34:933272"
VERSION = "1.38.0"
DESCRIPTION = "map tables: base items, versions, map items, user mapping"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )

    manager.add_table(
        class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="MapItem", tablename="vde_map_items", schema=None, columns=None
    )

    manager.add_table(
        class_name="BaseItem",
        tablename="vde_base_items",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="UserMapping",
        tablename="vde_user_mapping",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="base_item",
        db_column_name="base_item_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": BaseItem,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.no_action,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "base_item_id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="title",
        db_column_name="title",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="content",
        db_column_name="content",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="preview",
        db_column_name="preview",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="link",
        db_column_name="link",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="version_number",
        db_column_name="version_number",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        column_name="updated_by",
        db_column_name="updated_by",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="coord_user_id",
        db_column_name="coord_user_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="coord_group_id",
        db_column_name="coord_group_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="path",
        db_column_name="path",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 255,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="item_type",
        db_column_name="item_type",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 50,
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum("MapItemType", {"USER": "user", "BASE": "base"}),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="origin",
        db_column_name="origin_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": "self",
            "on_delete": OnDelete.set_null,
            "on_update": OnUpdate.no_action,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "origin_id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="parent",
        db_column_name="parent_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": "self",
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.no_action,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "parent_id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="ref_item",
        db_column_name="ref_item_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": BaseItem,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.no_action,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "ref_item_id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="MapItem",
        tablename="vde_map_items",
        column_name="updated_at",
        db_column_name="updated_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="title",
        db_column_name="title",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="content",
        db_column_name="content",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="preview",
        db_column_name="preview",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="link",
        db_column_name="link",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="BaseItem",
        tablename="vde_base_items",
        column_name="updated_at",
        db_column_name="updated_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="UserMapping",
        tablename="vde_user_mapping",
        column_name="id",
        db_column_name="id",
        column_class_name="Serial",
        column_class=Serial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="UserMapping",
        tablename="vde_user_mapping",
        column_name="auth_user",
        db_column_name="auth_user_id",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": User,
            "on_delete": OnDelete.no_action,
            "on_update": OnUpdate.no_action,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": "auth_user_id",
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="UserMapping",
        tablename="vde_user_mapping",
        column_name="mapping_user_id",
        db_column_name="mapping_user_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="UserMapping",
        tablename="vde_user_mapping",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="UserMapping",
        tablename="vde_user_mapping",
        column_name="updated_at",
        db_column_name="updated_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_constraint(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        constraint_name="vde_base_item_versions_number_unique",
        constraint_class=Unique,
        params={
            "columns": ["base_item_id", "version_number"],
            "nulls_distinct": True,
        },
        schema=None,
    )

    manager.add_constraint(
        table_class_name="BaseItemVersion",
        tablename="vde_base_item_versions",
        constraint_name="vde_base_item_versions_number_positive",
        constraint_class=Check,
        params={"condition": "version_number >= 1"},
        schema=None,
    )

    manager.add_constraint(
        table_class_name="MapItem",
        tablename="vde_map_items",
        constraint_name="vde_map_items_coordinates_unique",
        constraint_class=Unique,
        params={
            "columns": ["coord_user_id", "coord_group_id", "path"],
            "nulls_distinct": True,
        },
        schema=None,
    )

    manager.add_constraint(
        table_class_name="MapItem",
        tablename="vde_map_items",
        constraint_name="vde_map_items_path_format",
        constraint_class=Check,
        params={"condition": "path ~ '^([0-6](,[0-6])*)?$'"},
        schema=None,
    )

    manager.add_constraint(
        table_class_name="MapItem",
        tablename="vde_map_items",
        constraint_name="vde_map_items_item_type_check",
        constraint_class=Check,
        params={"condition": "item_type IN ('user', 'base')"},
        schema=None,
    )

    manager.add_constraint(
        table_class_name="MapItem",
        tablename="vde_map_items",
        constraint_name="user_item_parent_constraint",
        constraint_class=Check,
        params={"condition": "item_type <> 'user' OR parent_id IS NULL"},
        schema=None,
    )

    manager.add_constraint(
        table_class_name="MapItem",
        tablename="vde_map_items",
        constraint_name="null_parent_is_user_constraint",
        constraint_class=Check,
        params={"condition": "parent_id IS NOT NULL OR item_type = 'user'"},
        schema=None,
    )

    return manager
