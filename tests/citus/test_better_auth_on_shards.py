"""better-auth against the coordinator of a distributed database: the interop
flows of tests/interop/test_better_auth.py and test_signed_in.py rerun there,
straight (no pooler). The auth tables stay the coordinator's own
(docs/scale-out.md), so each of better-auth's statements is served by one
node, with no two-phase commit; the tables that are distributed are the map's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest_asyncio

from tests.interop.conftest import Flows, better_auth, start_flows, stop_flows  # noqa: F401
from tests.interop.test_better_auth import (  # noqa: F401 (tests rerun)
    test_api_keys_create_verify_refill_list_and_delete,
    test_sign_up_sign_in_sessions_and_password_change,
    test_two_password_resets_before_the_first_is_used,
)
from tests.interop.test_signed_in import (  # noqa: F401 (tests rerun)
    test_the_bearer_token_better_auth_hands_out_signs_in,
    test_the_cookie_better_auth_sets_gives_user_session_and_owner,
)
from vde.testing import ScratchDatabase

AUTH_TABLES = {
    "vde_users",
    "vde_accounts",
    "vde_sessions",
    "vde_verification_tokens",
    "vde_api_keys",
    "vde_user_mapping",
}


@pytest_asyncio.fixture
async def flows(better_auth: Path, vde_db: ScratchDatabase) -> AsyncIterator[Flows]:  # noqa: F811
    running = await start_flows(better_auth, vde_db.url)
    try:
        yield running
    finally:
        await stop_flows(running)


async def test_the_auth_tables_are_the_coordinators_own(
    vde_conn: asyncpg.Connection,
) -> None:
    distributed = {
        row["name"]
        for row in await vde_conn.fetch(
            "SELECT logicalrelid::regclass::text AS name FROM pg_dist_partition"
        )
    }
    assert distributed == {"vde_map_items", "vde_base_items", "vde_base_item_versions"}
    assert not AUTH_TABLES & distributed
