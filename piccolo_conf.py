"""Piccolo's configuration for working on vde itself.

``DB`` is the server in ``DATABASE_URL`` when set, otherwise an embedded
PostgreSQL with its data in ``.pgdata/`` (see ``vde/database/engine.py``).
``cli.install()`` fits Piccolo's CLI to ``piccolo vde`` (see ``vde/ops/cli.py``).
"""

from piccolo.conf.apps import AppRegistry

from vde.database import make_engine
from vde.ops import cli
from vde.registry import APP_MODULES

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=[*APP_MODULES, "vde.ops.piccolo_app"])
# `piccolo vde` lists its commands; its read-only commands create no table.
cli.install()
