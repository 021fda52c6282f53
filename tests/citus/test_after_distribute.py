"""Operating a distributed database: ``migrate`` applies a later migration on
the cluster, ``drift`` finds nothing but what was changed by hand, and the
role of ``app_role`` reads and writes the shards through the coordinator."""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from piccolo.engine.postgres import PostgresEngine

from tests.citus.cluster import SHARD_COUNT, Cluster
from tests.ops.test_failed_migration import piccolo
from vde.database.forwards import migrate_database
from vde.ops.app_role_grants import make_app_role, sql_names
from vde.ops.distribute import distribute
from vde.ops.schemas import drift_from_migrations
from vde.registry import vde_tables
from vde.sql import quoted

LATER_APP = """
import os
from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="later",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[],
    migration_dependencies=["vde.mapping.piccolo_app"],
)
"""

#: After distribute: a column, an index and a trigger on the distributed tiles.
LATER_MIGRATION = """
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from vde.migration_steps import add_raw_steps

ID = "2030-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a note on each tile, trimmed"
FORWARDS = [
    "ALTER TABLE vde_map_items ADD COLUMN note text",
    "CREATE INDEX vde_map_items_note ON vde_map_items (coord_user_id, note)",
    "CREATE FUNCTION later_trim_note() RETURNS trigger LANGUAGE plpgsql AS "
    "'BEGIN NEW.note := btrim(NEW.note); RETURN NEW; END'",
    "CREATE TRIGGER later_trim_note BEFORE INSERT OR UPDATE ON vde_map_items "
    "FOR EACH ROW EXECUTE FUNCTION later_trim_note()",
]
BACKWARDS = [
    "DROP TRIGGER later_trim_note ON vde_map_items",
    "DROP FUNCTION later_trim_note()",
    "DROP INDEX vde_map_items_note",
    "ALTER TABLE vde_map_items DROP COLUMN note",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="later")
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
"""

PICCOLO_CONF = """
from piccolo.conf.apps import AppRegistry
from vde.database import make_engine
from vde.ops import cli
from vde.registry import APP_MODULES

DB = make_engine()
APP_REGISTRY = AppRegistry(apps=[*APP_MODULES, "vde.ops.piccolo_app", "later.app"])
cli.install()
"""


@pytest_asyncio.fixture
async def distributed(citus_cluster: Cluster) -> AsyncIterator[str]:
    """A database of this test's own: migrated, distributed."""
    name = citus_cluster.create_database("after")
    url = citus_cluster.url(name)
    try:
        await migrate_database(url)
        await distribute(url, apply=True, shard_count=SHARD_COUNT)
        yield url
    finally:
        citus_cluster.drop_database(name)


def later_project(folder: Path) -> Path:
    (folder / "later" / "migrations").mkdir(parents=True)
    (folder / "piccolo_conf.py").write_text(PICCOLO_CONF)
    (folder / "later" / "__init__.py").write_text("")
    (folder / "later" / "app.py").write_text(LATER_APP)
    (folder / "later" / "migrations" / "__init__.py").write_text("")
    migration = folder / "later" / "migrations" / "later_2030_01_01t00_00_00.py"
    migration.write_text(textwrap.dedent(LATER_MIGRATION))
    return folder


async def on_every_shard(connection: asyncpg.Connection, sql: str) -> set[str]:
    """The distinct results of ``sql`` (``%s`` the shard) on every tile shard."""
    rows = await connection.fetch(
        "SELECT result FROM run_command_on_shards('vde_map_items', $1)", sql
    )
    return {row["result"] for row in rows}


async def test_migrate_applies_a_later_migration_to_every_shard(
    distributed: str, tmp_path: Path
) -> None:
    project = later_project(tmp_path)
    done = piccolo(project, distributed, "vde", "migrate")
    assert done.returncode == 0, done.stderr
    assert "Applied 1 migration(s)." in done.stdout
    connection = await asyncpg.connect(distributed)
    try:
        assert await on_every_shard(
            connection,
            "SELECT count(*) FROM pg_indexes WHERE indexname LIKE "
            "'vde_map_items_note%%' AND tablename = '%s'",
        ) == {"1"}
        assert await on_every_shard(
            connection,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass"
            " AND tgname LIKE 'later_trim_note%%'",
        ) == {"1"}
        item = await connection.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content) "
            "VALUES (7, 'home', '') RETURNING id"
        )
        note = await connection.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id, note) "
            "VALUES (7, 'user', $1, '  kept  ') RETURNING note",
            item,
        )
        assert note == "kept"
    finally:
        await connection.close()
    drift = piccolo(project, distributed, "vde", "drift")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert "No drift" in drift.stdout


async def test_drift_finds_none_on_a_distributed_database(distributed: str) -> None:
    assert (
        await drift_from_migrations(PostgresEngine(config={"dsn": distributed})) == []
    )


async def test_drift_names_an_index_dropped_and_a_trigger_disabled(
    distributed: str,
) -> None:
    connection = await asyncpg.connect(distributed)
    try:
        await connection.execute("DROP INDEX vde_map_items_roots")
        async with connection.transaction():
            await connection.execute("SET LOCAL citus.enable_unsafe_triggers = on")
            await connection.execute(
                "ALTER TABLE vde_map_items DISABLE TRIGGER vde_map_items_tree_update"
            )
    finally:
        await connection.close()
    lines = await drift_from_migrations(PostgresEngine(config={"dsn": distributed}))
    assert lines == [
        "missing index vde_map_items_roots on vde_map_items",
        "state of trigger vde_map_items_tree_update on vde_map_items: "
        "expected enabled, found disabled",
    ]


async def test_the_app_role_reads_and_writes_the_shards(distributed: str) -> None:
    role = f"vde_citus_role_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(distributed)
    try:
        lines = await make_app_role(
            {"dsn": distributed}, role, "s3cret-pass", False, sql_names(vde_tables())
        )
        assert lines, lines
        app = await asyncpg.connect(distributed, user=role, password="s3cret-pass")
        try:
            item = await app.fetchval(
                "INSERT INTO vde_base_items (owner_id, title, content) "
                "VALUES (9, 'home', '') RETURNING id"
            )
            await app.execute(
                "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
                "VALUES (9, 'user', $1)",
                item,
            )
            assert (
                await app.fetchval(
                    "SELECT count(*) FROM vde_map_items WHERE coord_user_id = 9"
                )
                == 1
            )
            await app.execute("INSERT INTO vde_users (id, email) VALUES ('u', 'u@x')")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute("DROP TABLE vde_map_items")
        finally:
            await app.close()
    finally:
        await admin.execute(f"DROP OWNED BY {quoted(role)}")
        await admin.execute(f"DROP ROLE IF EXISTS {quoted(role)}")
        await admin.close()
