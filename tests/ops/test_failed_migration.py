"""A migration that fails half-way leaves the database exactly as it was.

A throw-away Piccolo app (written to a temporary folder, registered next to
vde's apps by its own ``piccolo_conf.py``) has one migration whose raw steps
create a table, an index and a function, change a vde default and insert a row,
whose generated steps create another table, and whose last step fails. Piccolo
runs each migration in one transaction; this checks that nothing of it is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from vde.ops.catalog import as_plain, read_catalog
from vde.testing import ScratchDatabase

MIGRATION_ID = "2030-01-01T00:00:00:000000"

BROKEN_MIGRATION = f'''
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "{MIGRATION_ID}"
VERSION = "1.38.0"
DESCRIPTION = "succeeds half-way, then fails"

TEXT_PARAMS = {{
    "default": None, "null": False, "primary_key": False, "unique": False,
    "index": False, "index_method": IndexMethod.btree, "choices": None,
    "db_column_name": None, "secret": False,
}}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="broken")

    async def raw_steps():
        engine = engine_finder()
        await engine.run_ddl("CREATE TABLE broken_raw (id integer, note text)")
        await engine.run_ddl("CREATE INDEX broken_raw_note ON broken_raw (note)")
        await engine.run_ddl(
            "CREATE FUNCTION broken_answer() RETURNS int LANGUAGE sql AS 'SELECT 42'"
        )
        await engine.run_ddl(
            "ALTER TABLE vde_users ALTER COLUMN email_verified SET DEFAULT true"
        )
        await engine.run_ddl(
            "INSERT INTO vde_users (id, email) VALUES ('broken', 'b@example.com')"
        )

    manager.add_raw(raw_steps)
    manager.add_table(class_name="BrokenNote", tablename="broken_notes")
    manager.add_column(
        table_class_name="BrokenNote", tablename="broken_notes",
        column_name="title", db_column_name="title",
        column_class_name="Text", column_class=Text, params=TEXT_PARAMS,
    )
    # The failing step: a column for a table that does not exist.
    manager.add_column(
        table_class_name="Missing", tablename="broken_missing",
        column_name="title", db_column_name="title",
        column_class_name="Text", column_class=Text, params=TEXT_PARAMS,
    )
    return manager
'''

BROKEN_APP = '''
import os

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="broken",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[],
)
'''

PICCOLO_CONF = '''
from piccolo.conf.apps import AppRegistry

from vde.database import make_engine
from vde.ops import cli
from vde.registry import APP_MODULES

DB = make_engine()

APP_REGISTRY = AppRegistry(
    apps=[*APP_MODULES, "vde.ops.piccolo_app", "broken_app.piccolo_app"]
)
cli.install()
'''

#: Everything in schema public that a migration could leave behind, beyond the
#: tables' columns, constraints, indexes and triggers that ``read_catalog`` reads.
OBJECTS = """
SELECT 'relation' AS kind, relname || ' ' || relkind::text AS object
FROM pg_class WHERE relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'function', proname || '(' || pg_get_function_identity_arguments(oid)
       || ') ' || prosrc
FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'type', typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
ORDER BY 1, 2
"""


async def snapshot(connection: asyncpg.Connection) -> dict[str, Any]:
    """The whole of schema public, Piccolo's migration records and vde's users."""
    return {
        "tables": as_plain(await read_catalog(connection, prefix="")),
        "objects": [tuple(row) for row in await connection.fetch(OBJECTS)],
        "migrations": sorted(
            tuple(row) for row in await connection.fetch(
                "SELECT app_name, name FROM migration"
            )
        ),
        "users": [tuple(row) for row in await connection.fetch(
            "SELECT * FROM vde_users ORDER BY id"
        )],
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: its ``piccolo_conf.py`` and the broken app."""
    app = tmp_path / "broken_app"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "piccolo_app.py").write_text(textwrap.dedent(BROKEN_APP))
    (app / "migrations" / "__init__.py").write_text("")
    migration = app / "migrations" / "broken_2030_01_01t00_00_00_000000.py"
    migration.write_text(BROKEN_MIGRATION)
    (tmp_path / "piccolo_conf.py").write_text(PICCOLO_CONF)
    return tmp_path


def piccolo(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    env.pop("PICCOLO_CONF", None)
    return subprocess.run(
        [sys.executable, "-m", "piccolo.main", *args], cwd=project, env=env,
        capture_output=True, text=True, timeout=300,
    )


async def test_failed_migration_leaves_the_database_unchanged_and_unrecorded(
    project: Path, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    before = await snapshot(vde_conn)
    assert before["migrations"] and before["objects"]

    done = piccolo(project, vde_db.url, "vde", "migrate")
    assert done.returncode == 1, done
    assert MIGRATION_ID in done.stdout  # Piccolo says which migration it ran
    assert "Migration failed, rolled back and not recorded" in done.stderr
    assert 'relation "broken_missing" does not exist' in done.stderr
    assert await snapshot(vde_conn) == before

    # Piccolo's own command: the same failure, the same untouched database.
    done = piccolo(project, vde_db.url, "migrations", "forwards", "all")
    assert done.returncode == 1, done
    assert 'relation "broken_missing" does not exist' in done.stdout
    assert await snapshot(vde_conn) == before
    assert await vde_conn.fetchval(
        "SELECT count(*) FROM migration WHERE app_name = 'broken'"
    ) == 0
