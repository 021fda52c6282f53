"""Collecting each migration's SQL for squawk (vde/ops/migration_sql.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import asyncpg
import pytest
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from vde.ops.migration_sql import (
    WRITTEN,
    MigrationSql,
    MigrationSqlError,
    collect,
    parse_preview,
    raw_sql,
    squawk_ignores,
    write,
)

REPO = Path(__file__).resolve().parents[2]


async def test_collect_has_generated_and_raw_sql_and_creates_nothing(
    vde_empty_url: str,
) -> None:
    migrations = await collect(PostgresEngine(config={"dsn": vde_empty_url}))
    by_id = {m.migration_id: m for m in migrations}
    auth = by_id["2026-11-26T17:26:32:771886"]
    assert auth.raw == []
    assert any('CREATE TABLE "vde_users"' in sql for sql in auth.generated)
    # The raw step --preview leaves out: identity ids, collation, partial index.
    mapping_raw = by_id["2026-11-26T17:26:38:707864"]
    assert mapping_raw.generated == []
    assert any("CREATE INDEX vde_map_items_roots" in sql for sql in mapping_raw.raw)
    assert any("COLLATE \"C\"" in sql for sql in mapping_raw.raw)
    assert [m.app_name for m in migrations][:1] == ["auth"]
    connection = await asyncpg.connect(vde_empty_url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()
    # The preview records nothing and builds nothing but Piccolo's own table.
    assert [row["tablename"] for row in tables] == ["migration"]


def test_parse_preview_splits_blocks_by_migration_and_terminates_statements() -> None:
    output = (
        "🚀 Running 2 migrations:\n"
        "  - 2026-01-01T00:00:00:000001 [preview forwards]... \n"
        ' CREATE TABLE "t" ("id" TEXT);CREATE INDEX t_i ON "t" ("id");\n'
        'ALTER TABLE "t" DROP COLUMN "x"\n'
        "ok! ✔️\n"
        "  - 2026-01-01T00:00:00:000002 [preview forwards]... ok! ✔️\n"
    )
    assert parse_preview(output) == {
        "2026-01-01T00:00:00:000001": [
            'CREATE TABLE "t" ("id" TEXT);CREATE INDEX t_i ON "t" ("id");',
            'ALTER TABLE "t" DROP COLUMN "x";',
        ],
        "2026-01-01T00:00:00:000002": [],
    }


def test_raw_sql_accepts_a_string_or_a_list() -> None:
    module = ModuleType("m")
    assert raw_sql(module) == []
    module.FORWARDS = "SELECT 1"  # type: ignore[attr-defined]
    assert raw_sql(module) == ["SELECT 1"]
    module.FORWARDS = ["SELECT 1", "SELECT 2"]  # type: ignore[attr-defined]
    assert raw_sql(module) == ["SELECT 1", "SELECT 2"]


async def test_raw_step_without_forwards_constant_is_refused(
    vde_empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A migration whose raw SQL hides in a function: the linter cannot see it.
    hidden = ModuleType("hidden_raw_migration")

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id="x", app_name="mapping")

        async def raw() -> None:
            pass

        manager.add_raw(raw)
        return manager

    hidden.ID = "2999-01-01T00:00:00:000000"  # type: ignore[attr-defined]
    hidden.forwards = forwards  # type: ignore[attr-defined]
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    real = BaseMigrationManager.get_migration_modules

    def with_hidden(self: BaseMigrationManager, folder: str) -> dict:
        modules = real(self, folder)
        if folder.endswith("mapping"):
            modules[hidden.ID] = hidden  # type: ignore[attr-defined]
        return modules

    monkeypatch.setattr(BaseMigrationManager, "get_migration_modules", with_hidden)
    with pytest.raises(MigrationSqlError, match="no FORWARDS constant"):
        await collect(PostgresEngine(config={"dsn": vde_empty_url}))


MIGRATIONS = [
    MigrationSql("auth", "2026-01-01T00:00:00:000001", [], ["CREATE TABLE a ();"]),
    MigrationSql("llm", "2026-01-01T00:00:00:000002", ["CREATE INDEX i ON a"], []),
]
NAMES = [
    "001_auth_2026_01_01T00_00_00_000001.sql",
    "002_llm_2026_01_01T00_00_00_000002.sql",
]


def test_write_makes_one_file_per_migration_raw_steps_first(tmp_path: Path) -> None:
    paths = write(MIGRATIONS, tmp_path / "new")
    assert [p.name for p in paths] == NAMES
    assert sorted(p.name for p in (tmp_path / "new").glob("*.sql")) == NAMES
    assert "CREATE INDEX i ON a;" in paths[1].read_text()


def test_write_replaces_its_own_files_and_leaves_every_other_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "foo.sql").write_text("-- the user's own")
    write(MIGRATIONS, tmp_path)
    # A later run with fewer migrations: the earlier run's extra file goes.
    write(MIGRATIONS[:1], tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.sql")) == [NAMES[0], "foo.sql"]
    assert (tmp_path / "foo.sql").read_text() == "-- the user's own"


def test_write_refuses_a_file_in_the_way_that_it_did_not_write(
    tmp_path: Path,
) -> None:
    (tmp_path / NAMES[1]).write_text("-- the user's own")
    with pytest.raises(MigrationSqlError, match="did not write: move it away"):
        write(MIGRATIONS, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [NAMES[1]]  # nothing written
    assert (tmp_path / NAMES[1]).read_text() == "-- the user's own"


def test_an_edited_list_of_written_files_removes_nothing_outside_it(
    tmp_path: Path,
) -> None:
    folder, outside = tmp_path / "out", tmp_path / "outside.sql"
    outside.write_text("-- kept")
    folder.mkdir()
    (folder / WRITTEN).write_text("../outside.sql\n/tmp/x.sql\n.hidden.sql\n")
    (folder / ".hidden.sql").write_text("-- kept")
    write(MIGRATIONS, folder)
    assert outside.read_text() == "-- kept"
    assert (folder / ".hidden.sql").read_text() == "-- kept"


def test_lint_command_leaves_an_sql_file_it_did_not_write(
    vde_empty_url: str, tmp_path: Path
) -> None:
    (tmp_path / "foo.sql").write_text("SELECT 1;")
    env = {**os.environ, "DATABASE_URL": vde_empty_url, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "vde", "lint", f"--output={tmp_path}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done
    assert (tmp_path / "foo.sql").read_text() == "SELECT 1;"
    assert len(list(tmp_path.glob("0*.sql"))) > 10  # and wrote its own


def test_rules_ignored_on_purpose_become_file_level_ignores_with_reasons() -> None:
    migration = MigrationSql(
        "auth",
        "2026-01-01T00:00:00:000003",
        [],
        ['ALTER TABLE "a" DROP CONSTRAINT "k";'],
        ignored={"ban-drop-constraint": "nothing relies on it"},
    )
    lines = migration.text().splitlines()
    assert lines[1:3] == [
        "-- nothing relies on it", "-- squawk-ignore-file ban-drop-constraint"
    ]


def test_an_ignored_rule_without_a_reason_is_refused() -> None:
    module = ModuleType("m")
    assert squawk_ignores(module) == {}
    module.SQUAWK_IGNORE_FILE = {"ban-drop-constraint": " "}  # type: ignore[attr-defined]
    with pytest.raises(MigrationSqlError, match="needs its reason"):
        squawk_ignores(module)
