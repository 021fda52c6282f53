"""Packaging beyond what pyproject.toml can say: the migrations ship in the wheel.

Piccolo imports migrations from a real folder on disk, so an installed vde must
carry them. The repository keeps them in the top-level ``piccolo_migrations/``
(where ``piccolo migrations new`` writes them); the wheel installs that folder
as ``vde/piccolo_migrations/``, which ``vde/migrations_path.py`` looks for first.
squawk's settings (``vde/squawk.toml``) ship too.
Nothing else at the top level (``piccolo_conf.py``, ``tests/``) is packaged.

An editable install (``pip install -e``) finds that folder through the import
hook setuptools writes for a remapped package; type checkers do not run import
hooks, so a project's ``mypy`` would not see vde at all. :class:`EditableWheel`
therefore also puts a folder on ``sys.path`` that holds only ``vde``, a link to
the checkout's package: the checkout's top level (``piccolo_conf.py``,
``tests``) stays out of every other project's imports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from setuptools import find_packages, setup
from setuptools.command.editable_wheel import editable_wheel

MIGRATIONS = "piccolo_migrations"
#: The folder on ``sys.path`` holding the link ``vde`` (``build/`` is not tracked).
LINKED = Path("build", "__editable__.vde.path")


class StaticPath:
    """setuptools' strategy for the editable wheel, plus a ``.pth`` of ``LINKED``."""

    def __init__(self, strategy: Any, name: str, project: Path) -> None:
        self.strategy = strategy
        self.name = name
        self.project = project

    def __call__(self, wheel: Any, files: list[str], mapping: dict[str, str]) -> None:
        self.strategy(wheel, files, mapping)
        folder = self.project / LINKED
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / "vde"
        if not link.is_symlink():
            try:  # relative: a copy of the checkout links to its own package
                os.symlink(Path("..", "..", "vde"), link, target_is_directory=True)
            except OSError as error:  # no symlinks here: the import hook alone
                print(f"vde: no link for type checkers in {folder}: {error}")
                return
        wheel.writestr(f"__editable__.{self.name}.types.pth", f"{folder.resolve()}\n")

    def __enter__(self) -> StaticPath:
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.strategy.__exit__(*exc)


class EditableWheel(editable_wheel):  # type: ignore[misc]
    def _select_strategy(self, name: str, tag: str, build_lib: str) -> StaticPath:
        strategy = super()._select_strategy(name, tag, build_lib)
        return StaticPath(strategy, name, Path(self.project_dir))


setup(
    packages=[
        *find_packages(include=["vde", "vde.*"]),
        f"vde.{MIGRATIONS}",
        *(f"vde.{MIGRATIONS}.{app}" for app in find_packages(MIGRATIONS)),
    ],
    package_dir={f"vde.{MIGRATIONS}": MIGRATIONS},
    # PEP 561: type checkers read vde's own annotations; `piccolo vde lint`
    # reads squawk's settings.
    package_data={"vde": ["py.typed", "squawk.toml"]},
    cmdclass={"editable_wheel": EditableWheel},
)
