"""Databases for tests on a real server: created for a test, dropped after it.

Cloning a migrated template (``CREATE DATABASE ... TEMPLATE``) costs a fraction of
running the migrations again, so each test can have a database of its own. The
generic parts live in ``vde.database.scratch``; this module adds the test
server's URL (its password hidden when printed) and the ``vde_test_`` names, and
drops those of test runs that died before cleaning up (at the start of a
session, when the template is first needed).
"""

from __future__ import annotations

from vde.database import database_url, scratch
from vde.database.scratch import create_database, drop_database, with_database
from vde.testing.guard import SecretUrl

__all__ = [
    "create_database",
    "drop_abandoned_databases",
    "drop_database",
    "scratch_name",
    "server_url",
    "with_database",
]


def server_url() -> str:
    """``vde.database.database_url()``, its password hidden when printed: the
    server the test databases are made on (that database itself is never
    written to)."""
    return SecretUrl(database_url())


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_test_<purpose>_<pid>_<random>``)."""
    return scratch.scratch_name(f"test_{purpose}")


async def drop_abandoned_databases(server: str) -> list[str]:
    """Drop the ``vde_test_*`` databases of dead local processes; return their names."""
    return await scratch.drop_abandoned_databases(server, "test")
