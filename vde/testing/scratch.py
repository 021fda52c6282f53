"""Scratch databases on a real server: created for a test, dropped after it.

Cloning a migrated template (``CREATE DATABASE ... TEMPLATE``) costs a fraction of
running the migrations again, so each test can have a database of its own. The
generic parts live in ``vde.ops.scratch``; this module adds the test server and
the ``vde_test_`` names, and drops those of test runs that died before
cleaning up (at the start of a session, when the template is first needed).
"""

from __future__ import annotations

from vde.ops import scratch
from vde.ops.scratch import create_database, drop_database, with_database
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
    """``vde.ops.scratch.server_url``, its password hidden when printed."""
    return SecretUrl(scratch.server_url())


def scratch_name(purpose: str) -> str:
    """A fresh, recognisable database name (``vde_test_<purpose>_<pid>_<random>``)."""
    return scratch.scratch_name(f"test_{purpose}")


async def drop_abandoned_databases(server: str) -> list[str]:
    """Drop the ``vde_test_*`` databases of dead local processes; return their names."""
    return await scratch.drop_abandoned_databases(server, "test")
