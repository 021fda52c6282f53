"""The better-auth 1.7 migration (issue 9) keeps existing rows, both ways.

Run through Piccolo's CLI on an empty scratch database: the auth app is brought
to the migration before it, rows are written, then the migration runs forwards
and backwards over them.
"""

from __future__ import annotations

import datetime

import asyncpg

from tests.ops.test_migrations import piccolo

BEFORE = "2026-11-26T17:26:32:771886"  # the auth tables as issue 2 made them
LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
THIRTY_DAYS_MS = 2_592_000_000


async def _column_types(conn: asyncpg.Connection) -> dict[str, str]:
    rows = await conn.fetch(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = 'vde_api_keys'
          AND column_name IN ('refill_interval', 'rate_limit_time_window', 'config_id')
        """
    )
    return {row["column_name"]: row["data_type"] for row in rows}


async def test_migration_keeps_rows_forwards_and_backwards(vde_empty_url: str) -> None:
    run = piccolo(
        vde_empty_url, "migrations", "forwards", "auth", f"--migration_id={BEFORE}"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    conn = await asyncpg.connect(vde_empty_url)
    try:
        await conn.execute(
            "INSERT INTO vde_users (id, email) VALUES ('u1', 'ada@example.com');"
            "INSERT INTO vde_api_keys (id, key, user_id, refill_interval)"
            " VALUES ('k1', 'hash-1', 'u1', 3600000);"
        )
        await conn.execute(
            "INSERT INTO vde_verification_tokens (id, identifier, value, expires_at)"
            " VALUES ('v1', 'reset-password:t1', 'u1', $1)",
            LATER,
        )
        assert await _column_types(conn) == {
            "refill_interval": "integer",
            "rate_limit_time_window": "integer",
        }

        run = piccolo(vde_empty_url, "migrations", "forwards", "auth")
        assert run.returncode == 0, run.stdout + run.stderr

        assert await _column_types(conn) == {
            "refill_interval": "bigint",
            "rate_limit_time_window": "bigint",
            "config_id": "text",
        }
        key = await conn.fetchrow("SELECT * FROM vde_api_keys")
        assert key is not None
        assert (key["id"], key["key"], key["refill_interval"], key["config_id"]) == (
            "k1",
            "hash-1",
            3_600_000,
            "default",
        )
        assert key["rate_limit_time_window"] == 86_400_000
        # What the migration is for: a second reset of u1, a 30-day refill.
        await conn.execute(
            "INSERT INTO vde_verification_tokens (id, identifier, value, expires_at)"
            " VALUES ('v2', 'reset-password:t2', 'u1', $1)",
            LATER,
        )
        await conn.execute(
            "UPDATE vde_api_keys SET refill_interval = $1", THIRTY_DAYS_MS
        )

        # Backwards needs rows the old schema can hold: one value each, int4.
        await conn.execute(
            "DELETE FROM vde_verification_tokens WHERE id = 'v2';"
            "UPDATE vde_api_keys SET refill_interval = 3600000"
        )
        run = piccolo(vde_empty_url, "migrations", "backwards", "auth", "--auto_agree")
        assert run.returncode == 0, run.stdout + run.stderr

        assert await _column_types(conn) == {
            "refill_interval": "integer",
            "rate_limit_time_window": "integer",
        }
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_constraint"
                " WHERE conname = 'vde_verification_tokens_value_key'"
            )
            == 1
        )
        assert [
            tuple(r)
            for r in await conn.fetch(
                "SELECT id, identifier, value FROM vde_verification_tokens"
            )
        ] == [("v1", "reset-password:t1", "u1")]
        assert [
            tuple(r)
            for r in await conn.fetch(
                "SELECT id, key, refill_interval FROM vde_api_keys"
            )
        ] == [("k1", "hash-1", 3_600_000)]
    finally:
        await conn.close()
