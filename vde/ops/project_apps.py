"""The apps of the project a ``piccolo vde`` command runs in, and their tables.

A service built on vde registers apps of its own beside vde's in its
``piccolo_conf.py`` (say a table of tags whose foreign key points at vde's
tiles). The commands act on the whole project's schema, not on vde's part of
it: ``app_role`` grants on every app's tables, ``drift`` builds every app's
migrations, ``lint`` lints the project's own migrations (vde's are linted in
vde's repository). The apps are Piccolo's ``Finder``'s, in the order
``piccolo_conf.py`` lists them (the migrations sort them by dependency).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from piccolo.conf.apps import AppConfig, Finder
from piccolo.table import Table

from vde.errors import VdeError
from vde.registry import APP_MODULES

#: vde's apps: those with tables, and ``vde`` (its commands).
VDE_APP_MODULES = (*APP_MODULES, "vde.ops.piccolo_app")

#: The folder holding the ``vde`` package: a checkout of vde's repository, or
#: the site-packages folder it is installed in.
_VDE_HOME = Path(__file__).resolve().parents[2]


class UnknownAppsError(VdeError):
    """An app named on the command line is not registered in piccolo_conf.py."""


def app_names(names: str | Sequence[str]) -> list[str]:
    """``"auth, hexmap"`` (as ``--apps`` gives it) or a sequence -> the names."""
    parts = names.split(",") if isinstance(names, str) else list(names)
    return [part.strip() for part in parts if part.strip()]


def registered_apps(names: str | Sequence[str] = "") -> list[AppConfig]:
    """The apps ``piccolo_conf.py`` registers, in its order; with
    ``names``, only those (each must be registered, else
    :class:`UnknownAppsError`, which lists the registered ones)."""
    apps = Finder().get_app_configs(sort_by_migration_dependencies=False)
    wanted = app_names(names)
    if not wanted:
        return apps
    known = [app.app_name for app in apps]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UnknownAppsError(
            f"no app {', '.join(unknown)} in piccolo_conf.py's APP_REGISTRY; "
            f"its apps are {', '.join(known)}"
        )
    return [app for app in apps if app.app_name in wanted]


def app_tables(apps: Sequence[AppConfig]) -> list[type[Table]]:
    """The tables of ``apps`` (each once), app by app."""
    return list(dict.fromkeys(table for app in apps for table in app.table_classes))


def vde_apps() -> list[AppConfig]:
    """vde's own apps (their ``APP_CONFIG`` objects)."""
    return [importlib.import_module(name).APP_CONFIG for name in VDE_APP_MODULES]


def vde_is_the_project() -> bool:
    """Whether the ``piccolo_conf.py`` in use is vde's own, at the top of its
    repository: there vde's migrations are the project's own."""
    conf = Path(Finder().get_piccolo_conf_path()).resolve()
    return conf.parent == _VDE_HOME


def own_apps() -> list[AppConfig]:
    """The apps whose migrations are the project's: every registered app but
    vde's, which are linted in vde's repository (where they are all)."""
    apps = registered_apps()
    if vde_is_the_project():
        return apps
    theirs = {id(app) for app in vde_apps()}
    return [app for app in apps if id(app) not in theirs]
