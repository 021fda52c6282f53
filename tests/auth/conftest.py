"""A user with sign-in rows to hang tests on, written with raw SQL."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

Row = dict[str, Any]

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
async def user(insert: Any) -> Row:
    return await insert("vde_users", id="u1", email="ada@example.com")


@pytest.fixture
async def credentials(insert: Any, user: Row) -> dict[str, Row]:
    """The user's account, session and api key: rows that go when the user goes."""
    uid = user["id"]
    return {
        "vde_accounts": await insert(
            "vde_accounts", id="a1", user_id=uid, account_id="gh-1",
            provider_id="github",
        ),
        "vde_sessions": await insert(
            "vde_sessions", id="s1", user_id=uid, token="t1", expires_at=LATER
        ),
        "vde_api_keys": await insert("vde_api_keys", id="k1", user_id=uid, key="h1"),
    }
