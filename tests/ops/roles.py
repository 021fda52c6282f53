"""Helpers of the ``piccolo vde app_role`` tests."""

from __future__ import annotations

import asyncpg

from vde.testing import ScratchDatabase


async def connect_as(vde_db: ScratchDatabase, role: str) -> asyncpg.Connection:
    """A connection as ``role``: both test servers trust local connections."""
    return await asyncpg.connect(vde_db.url, user=role)
