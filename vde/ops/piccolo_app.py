"""The ``vde`` app: operations on vde's schema (no tables of its own).

Importing it changes nothing outside it; ``piccolo_conf.py`` calls
``vde.ops.cli.install()`` for what must change in Piccolo's own CLI.
"""

import os

from piccolo.conf.apps import AppConfig

from .cli import app_commands
from .commands.adopt import adopt
from .commands.app_role import app_role
from .commands.diagram import diagram
from .commands.distribute import distribute
from .commands.drift import drift
from .commands.info import info
from .commands.lint import lint
from .commands.migrate import migrate
from .commands.server import psql, server

APP_CONFIG = AppConfig(
    app_name="vde",
    # Empty: Piccolo's `forwards all` visits every app's migrations folder.
    migrations_folder_path=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"
    ),
    table_classes=[],
    migration_dependencies=[],
    # `piccolo vde help` lists them; no help page shows a `return` argument.
    commands=app_commands(
        "vde",
        [adopt, app_role, diagram, distribute, drift, info, lint, migrate, psql,
         server],
    ),
)
