"""Fixtures of the ops tests: roles for ``piccolo vde app_role``."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest_asyncio

from vde.testing import ScratchDatabase


@pytest_asyncio.fixture
async def role(vde_db: ScratchDatabase) -> AsyncIterator[str]:
    """A unique role name; the role is dropped afterwards (roles are cluster-wide)."""
    name = f"vde_test_role_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        connection = await vde_db.connect()
        try:
            exists = await connection.fetchval(
                "SELECT true FROM pg_roles WHERE rolname = $1", name
            )
            if exists:
                # Its grants live in this database (and on it): remove them first.
                await connection.execute(f'DROP OWNED BY "{name}"')
                await connection.execute(f'DROP ROLE "{name}"')
        finally:
            await connection.close()
