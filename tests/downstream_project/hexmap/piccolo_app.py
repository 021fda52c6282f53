"""The ``hexmap`` app: its tables and its migrations, after vde's map's."""

import os

from piccolo.conf.apps import AppConfig

from hexmap.tables import TileTag

APP_CONFIG = AppConfig(
    app_name="hexmap",
    migrations_folder_path=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"
    ),
    table_classes=[TileTag],
    # Its foreign key points at vde's tiles: their migrations run first.
    migration_dependencies=["vde.mapping.piccolo_app"],
    commands=[],
)
