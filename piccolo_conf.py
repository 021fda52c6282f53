"""Piccolo's configuration for working on vde itself.

``DB`` is the server in ``DATABASE_URL`` when set, otherwise an embedded
PostgreSQL with its data in ``.pgdata/`` (see ``vde/database/engine.py``).
"""

from piccolo.conf.apps import AppRegistry

from vde.database import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "vde.auth.piccolo_app",
        "vde.mapping.piccolo_app",
        "vde.llm.piccolo_app",
        "vde.ops.piccolo_app",
    ]
)
