"""vde's Piccolo apps and their tables, without reading a ``piccolo_conf``.

Tools that work on "all of vde's tables" (the diagram, the application role)
take them from here, so they do not depend on how a project registers the apps.
"""

from __future__ import annotations

from piccolo.conf.apps import AppConfig
from piccolo.table import Table


def vde_apps() -> list[AppConfig]:
    """The apps with tables, in migration order."""
    from vde.auth.piccolo_app import APP_CONFIG as AUTH
    from vde.llm.piccolo_app import APP_CONFIG as LLM
    from vde.mapping.piccolo_app import APP_CONFIG as MAPPING

    return [AUTH, MAPPING, LLM]


def vde_tables() -> list[type[Table]]:
    """Every vde table, app by app, in the order each app lists them."""
    return [table for app in vde_apps() for table in app.table_classes]
