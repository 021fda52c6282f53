"""The ``vde`` app: operations on vde's schema (no tables of its own)."""

import os

from piccolo.conf.apps import AppConfig, Command

from .cli import finish
from .commands.adopt import adopt
from .commands.app_role import app_role
from .commands.diagram import diagram
from .commands.drift import drift
from .commands.info import info
from .commands.lint import lint
from .commands.migrate import migrate

APP_CONFIG = AppConfig(
    app_name="vde",
    # Empty: Piccolo's `forwards all` visits every app's migrations folder.
    migrations_folder_path=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "piccolo_migrations"
    ),
    table_classes=[],
    migration_dependencies=[],
    commands=[
        Command(callable=adopt),
        Command(callable=app_role),
        Command(callable=diagram),
        Command(callable=drift),
        Command(callable=info),
        Command(callable=lint),
        Command(callable=migrate),
    ],
)

# `piccolo vde` and `piccolo vde --help` list the commands; no stray `return`;
# Piccolo's CLI creates no `migration` table before a `piccolo vde` command.
finish(APP_CONFIG)
