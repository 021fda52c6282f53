"""Scratch databases on a real server: created for a test, dropped after it.

Cloning a migrated template (``CREATE DATABASE ... TEMPLATE``) costs a fraction of
running the migrations again, so each test can have a database of its own. The
generic parts live in ``vde.ops.scratch``; this module adds the test server and
the ``vde_test_`` names.
"""

from __future__ import annotations

import os

from vde.database import DATABASE_URL_VARIABLE, embedded_server
from vde.ops import scratch
from vde.ops.scratch import create_database, drop_database, with_database
from vde.testing.guard import SecretUrl

__all__ = [
    "create_database",
    "drop_database",
    "scratch_name",
    "server_url",
    "with_database",
]


def server_url() -> str:
    """An admin URL of the server tests run on: ``DATABASE_URL`` or the embedded one.

    Scratch databases are created next to the database it names; that database
    itself is never written to.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        return SecretUrl(url)
    return SecretUrl(embedded_server().get_uri("postgres"))


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_test_<purpose>_<pid>_<random>``)."""
    return scratch.scratch_name(f"test_{purpose}")
