"""Piccolo's configuration for a project that has none, during its tests.

vde's apps (their tables and migrations) and an engine that refuses every
query: each test that asks for ``vde_db`` gets its scratch database's engine
instead. ``vde.testing.configuration`` puts this module in the place of the
missing ``piccolo_conf``.
"""

from piccolo.conf.apps import AppRegistry

from vde.registry import APP_MODULES
from vde.testing.guard import RefusingEngine

DB = RefusingEngine()
APP_REGISTRY = AppRegistry(apps=list(APP_MODULES))
