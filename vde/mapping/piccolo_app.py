"""The ``mapping`` app: tiles, their content and its versions, map owners."""

from piccolo.conf.apps import AppConfig

from vde.migrations_path import migrations_folder

from .tables import BaseItem, BaseItemVersion, MapItem, UserMapping

APP_CONFIG = AppConfig(
    app_name="mapping",
    migrations_folder_path=migrations_folder("mapping"),
    table_classes=[BaseItem, BaseItemVersion, MapItem, UserMapping],
    # vde_user_mapping points at vde_users.
    migration_dependencies=["vde.auth.piccolo_app"],
    commands=[],
)
