"""Packaging beyond what pyproject.toml can say: the migrations ship in the wheel.

Piccolo imports migrations from a real folder on disk, so an installed vde must
carry them. The repository keeps them in the top-level ``piccolo_migrations/``
(where ``piccolo migrations new`` writes them); the wheel installs that folder
as ``vde/piccolo_migrations/``, which ``vde/migrations_path.py`` looks for first.
squawk's settings (``vde/squawk.toml``) ship too.
Nothing else at the top level (``piccolo_conf.py``, ``tests/``) is packaged.
"""

from setuptools import find_packages, setup

MIGRATIONS = "piccolo_migrations"

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
)
