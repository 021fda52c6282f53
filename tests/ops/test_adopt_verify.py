"""``--apply`` checks its own work: a difference found before the commit rolls
everything back. The copy is sabotaged in-process, after it ran and before the
check, in the ways a wrong conversion or a lost row would show."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine

from tests.ops import adopt_seed
from vde.database import use_engine
from vde.ops.adopt import copy, run
from vde.ops.adopt.layout import Layout
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)

SABOTAGE = {
    "a value changed": (
        "UPDATE public.vde_users SET name = 'Mallory' WHERE id = 'u1'",
        "vde_users: checksum",
    ),
    "a timestamp shifted": (
        "UPDATE public.vde_map_items SET created_at = created_at + interval '1 hour' "
        "WHERE id = 4",
        "vde_map_items: checksum",
    ),
    "a row lost": (
        "DELETE FROM public.vde_sessions WHERE id = 's2'",
        "vde_sessions: 1 rows, expected 2 + 0",
    ),
    "a NULL meaning lost": (
        "UPDATE public.vde_api_keys SET rate_limit_enabled = true WHERE id = 'key3'",
        "vde_api_keys: checksum",
    ),
}


@pytest.fixture
async def seed() -> AsyncIterator[str]:
    server = server_url()
    name = scratch_name("adopt_verify")
    url = await create_database(server, name)
    try:
        await adopt_seed.build(url)
        yield url
    finally:
        await drop_database(server, name)


@pytest.mark.parametrize("sabotage", SABOTAGE, ids=list(SABOTAGE))
async def test_a_difference_found_before_commit_rolls_everything_back(
    seed: str,
    sabotage: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sql, named = SABOTAGE[sabotage]
    restart: Callable[[asyncpg.Connection, Layout], Awaitable[None]] = (
        copy.restart_identities
    )

    async def restart_then_break(
        connection: asyncpg.Connection, layout: Layout
    ) -> None:
        await restart(connection, layout)
        # Named in full: adopt's search_path holds pg_catalog and pg_temp only.
        await connection.execute(sql)

    monkeypatch.setattr(copy, "restart_identities", restart_then_break)
    before = await adopt_seed.snapshot(seed)
    engine = PostgresEngine(config={"dsn": seed})
    with use_engine(engine):
        status = await run.apply(engine, repair=False, trusting=[])
    out = capsys.readouterr().out
    assert status == 1
    assert "--apply failed and was rolled back" in out
    assert f"verification failed, rolled back:\n  {named}" in out
    assert await adopt_seed.snapshot(seed) == before


async def test_without_sabotage_the_same_run_commits(
    seed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart: the check passes on an honest copy."""
    engine = PostgresEngine(config={"dsn": seed})
    with use_engine(engine):
        assert await run.apply(engine, repair=False, trusting=[]) == 0
    assert "Verified: row counts and checksums" in capsys.readouterr().out
