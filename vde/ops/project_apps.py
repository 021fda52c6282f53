"""The apps of the project a ``piccolo vde`` command runs in, and their tables.

A service built on vde registers apps of its own beside vde's in its
``piccolo_conf.py`` (say a table of tags whose foreign key points at vde's
tiles). The commands act on the whole project's schema, not on vde's part of
it: ``app_role`` grants on every app's tables, ``drift`` builds every app's
migrations, ``lint`` lints the project's own migrations (those kept in the
project; vde's are linted in vde's repository). The apps are Piccolo's
``Finder``'s, in the order ``piccolo_conf.py`` lists them (the migrations sort
them by dependency).
"""

from __future__ import annotations

import site
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from piccolo.conf.apps import AppConfig, Finder
from piccolo.table import Table

from vde.errors import VdeError


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


def lies_in(folder: Path, project: Path, installed: Sequence[Path]) -> bool:
    """Whether ``folder`` is the project's: inside ``project``, and not inside
    a folder of installed packages (a virtual environment may sit in the
    project)."""
    return folder.is_relative_to(project) and not any(
        folder.is_relative_to(place) for place in installed
    )


def own_apps() -> list[AppConfig]:
    """The apps whose migrations are the project's: those kept in the folder
    of its ``piccolo_conf.py``. Installed apps' (vde's, a library's) are
    checked where they are made; in vde's repository vde's are its own."""
    project = Path(Finder().get_piccolo_conf_path()).resolve().parent
    installed = [Path(place).resolve() for place in _installed_folders()]
    return [
        app
        for app in registered_apps()
        if lies_in(
            Path(app.resolved_migrations_folder_path).resolve(), project, installed
        )
    ]


def _installed_folders() -> set[str]:
    paths = sysconfig.get_paths()
    return {paths["purelib"], paths["platlib"], *site.getsitepackages()}
