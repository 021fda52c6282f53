"""The migrations build the schema, take it down to nothing, and build it again.

Run through Piccolo's own CLI (as a user would) against an empty scratch database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

from vde.ops.catalog import as_plain, read_catalog
from vde.registry import APP_NAMES
from vde.testing.databases import (
    server_url,
    with_database,
)

REPO = Path(__file__).resolve().parents[2]


def piccolo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``piccolo ARGS`` in the repository with ``DATABASE_URL=url``."""
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "piccolo.main", *args]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


async def catalog_of(url: str) -> dict[str, object]:
    connection = await asyncpg.connect(url)
    try:
        return as_plain(await read_catalog(connection))
    finally:
        await connection.close()


async def leftovers(url: str) -> list[str]:
    """Anything of vde's in the database: relations, functions, types, rows."""
    connection = await asyncpg.connect(url)
    try:
        objects = await connection.fetch(
            """
            SELECT 'relation ' || relname AS what FROM pg_class
            WHERE relname LIKE 'vde\\_%' OR relname LIKE '%map\\_items%'
            UNION ALL
            SELECT 'function ' || proname FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = current_schema()
            UNION ALL
            SELECT 'type ' || typname FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = current_schema() AND typname LIKE 'vde\\_%'
            """
        )
        recorded = await connection.fetch(
            "SELECT 'migration ' || app_name || ' ' || name AS what FROM migration"
        )
        return [row["what"] for row in [*objects, *recorded]]
    finally:
        await connection.close()


async def test_forwards_backwards_forwards(
    vde_empty_url: str, vde_template: str
) -> None:
    expected = await catalog_of(with_database(server_url(), vde_template))

    forwards = piccolo(vde_empty_url, "migrations", "forwards", "all")
    assert forwards.returncode == 0, forwards.stdout + forwards.stderr
    assert await catalog_of(vde_empty_url) == expected

    backwards = piccolo(vde_empty_url, "migrations", "backwards", "all", "--auto_agree")
    assert backwards.returncode == 0, backwards.stdout + backwards.stderr
    assert await leftovers(vde_empty_url) == []

    again = piccolo(vde_empty_url, "migrations", "forwards", "all")
    assert again.returncode == 0, again.stdout + again.stderr
    assert await catalog_of(vde_empty_url) == expected


@pytest.mark.parametrize("app_name", APP_NAMES)
async def test_tables_and_migrations_agree(app_name: str) -> None:
    """What ``piccolo migrations new APP --auto`` would write: nothing."""
    app_config = Finder().get_app_config(app_name)
    statements = await AutoMigrationManager().get_alter_statements(app_config)
    assert [s.statements for s in statements if s.statements] == []


def test_new_auto_reports_no_changes(vde_empty_url: str) -> None:
    """The CLI itself says so (it writes no file when there is nothing to do)."""
    before = set(REPO.glob("piccolo_migrations/*/*.py"))
    try:
        for app_name in APP_NAMES:
            result = piccolo(vde_empty_url, "migrations", "new", app_name, "--auto")
            output = result.stdout + result.stderr
            assert "No changes detected" in result.stdout, output
    finally:
        written = set(REPO.glob("piccolo_migrations/*/*.py")) - before
        for path in written:  # a failing run must not leave a migration behind
            path.unlink()
    assert not written
