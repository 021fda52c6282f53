"""pytest plugin: each test gets a fresh, migrated PostgreSQL database of its own.

Use it from a project whose ``piccolo_conf.py`` registers vde's apps, with one
line in ``conftest.py``::

    pytest_plugins = ["vde.testing"]

It runs on the server in ``DATABASE_URL`` when that is set, else on the embedded
server. Fixtures: ``vde_db`` (a :class:`ScratchDatabase`, Piccolo pointed at it)
and ``vde_conn`` (an asyncpg connection to it).
"""

from vde.testing.fixtures import (
    ScratchDatabase,
    vde_conn,
    vde_db,
    vde_template,
)

__all__ = ["ScratchDatabase", "vde_conn", "vde_db", "vde_template"]
