"""pytest plugin: each test gets a fresh, migrated PostgreSQL database of its own.

Use it with one line in ``conftest.py``::

    pytest_plugins = ["vde.testing"]

A project with a ``piccolo_conf.py`` registers vde's apps there; one without
gets vde's own stand-in (``vde.testing.configuration``).

It runs on the server in ``DATABASE_URL`` when that is set, else on the embedded
server (data in ``VDE_PGDATA``, default ``./.pgdata``). Fixtures: ``vde_db`` (a
:class:`ScratchDatabase`, Piccolo's tables and a small connection pool pointed
at it), ``vde_conn`` (an asyncpg connection to it) and ``vde_empty_url`` (an
empty database, for tests of migrations) and ``vde_signed_in`` (a user with a
live session and a map-owner id, :class:`SignedInUser`). The fixtures are
pytest-asyncio ones (``pip install 'vde[testing]'``), on the session's event
loop. Outside ``vde_db`` Piccolo's tables refuse every query
(``vde.testing.guard``), and the URLs it hands out hide their password when
printed. docs/testing.md gives the pytest settings and a downstream project,
and ``tests/test_readme_examples.py`` runs it.
"""

try:
    import pytest_asyncio  # noqa: F401
except ImportError as missing:  # a project that installed only pytest
    raise ImportError(
        "vde.testing needs pytest-asyncio: pip install 'vde[testing]'"
    ) from missing

from vde.testing.configuration import pytest_configure
from vde.testing.fixtures import (
    ScratchDatabase,
    vde_conn,
    vde_db,
    vde_empty_url,
    vde_template,
)
from vde.testing.guard import vde_tables_refuse_outside_vde_db
from vde.testing.signed_in import SignedInUser, vde_signed_in

__all__ = [
    "ScratchDatabase",
    "pytest_configure",
    "SignedInUser",
    "vde_conn",
    "vde_db",
    "vde_empty_url",
    "vde_signed_in",
    "vde_tables_refuse_outside_vde_db",
    "vde_template",
]
