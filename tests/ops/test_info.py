"""``piccolo vde info`` hides passwords (``tests/test_redaction.py`` has every
form); vde's read-only commands write nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "Sekr1t-pw"


def piccolo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "piccolo.main", "vde", *args]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def with_password_parameter(url: str) -> str:
    # Both test servers trust local connections: the password is never asked.
    return url + ("&" if "?" in url else "?") + f"password={SECRET}"


async def test_info_prints_the_server_without_the_password(vde_empty_url: str) -> None:
    result = piccolo(with_password_parameter(vde_empty_url), "info")
    assert result.returncode == 0, result.stderr
    assert "password=***" in result.stdout
    assert "server:   PostgreSQL" in result.stdout
    assert SECRET not in result.stdout + result.stderr


OBJECTS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""


@pytest.mark.parametrize(
    "command",
    [
        ["info"],
        ["drift"],
        ["lint", "--output={tmp}"],
        ["app_role", "--name=vde_ro_x"],
        ["distribute"],
    ],
    ids=["info", "drift", "lint", "app_role", "distribute"],
)
async def test_read_only_commands_leave_a_database_without_piccolo_table_as_it_was(
    vde_empty_url: str, tmp_path: Path, command: list[str]
) -> None:
    # Piccolo's CLI counted unapplied migrations before every `piccolo vde`
    # command, creating its `migration` table on the way (Piccolo 1.38's main()).
    args = [arg.format(tmp=tmp_path) for arg in command]
    result = piccolo(vde_empty_url, *args)
    # drift finds every table missing, app_role no tables, distribute no Citus:
    # they exit 1.
    assert result.returncode == (0 if args[0] in ("info", "lint") else 1), result
    connection = await asyncpg.connect(vde_empty_url)
    try:
        assert await connection.fetchval("SELECT to_regclass('migration')") is None
        assert await connection.fetchval(OBJECTS) == 0
        assert not await connection.fetchval(
            "SELECT true FROM pg_roles WHERE rolname = 'vde_ro_x'"
        )
    finally:
        await connection.close()
