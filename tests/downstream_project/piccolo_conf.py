"""Piccolo's configuration of hexmap: vde's apps, vde's commands, its own app."""

from piccolo.conf.apps import AppRegistry
from vde.database import make_engine
from vde.ops import cli
from vde.registry import APP_MODULES

DB = make_engine()  # DATABASE_URL, else the embedded server
APP_REGISTRY = AppRegistry(
    apps=[*APP_MODULES, "vde.ops.piccolo_app", "hexmap.piccolo_app"]
)
cli.install()  # `piccolo vde` lists its commands; read-only ones write nothing
