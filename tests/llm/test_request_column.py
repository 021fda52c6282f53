"""The column ``request`` is ``request_body`` in Python, and only there.

Piccolo's admin and CRUD endpoints take a parameter named ``request``, so the
attribute moved; the database column did not. The migrations that tell Piccolo
so run no statement, forwards or backwards: the catalog is the same before
and after each direction.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from piccolo.apps.migrations.commands.base import BaseMigrationManager

from vde.database.engine_switch import use_engine
from vde.llm.models import LlmJobResultRead, LlmJobResultWrite
from vde.llm.tables import LlmJobResult
from vde.ops.catalog import as_plain, read_catalog
from vde.testing import ScratchDatabase

#: The migrations of the attribute's rename (rename, then its db_column_name).
RENAME_MIGRATIONS = ("2026-12-03T11:00:07:452050", "2026-12-03T11:01:39:461230")


async def test_the_attribute_request_body_is_the_column_request(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    assert LlmJobResult.request_body._meta.db_column_name == "request"
    assert not hasattr(LlmJobResult, "request")
    columns = await vde_conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'vde_llm_job_results'"
    )
    names = {row["column_name"] for row in columns}
    assert "request" in names and "request_body" not in names

    job = LlmJobResultWrite(
        id="r1",
        job_id="j1",
        user_id="u1",
        status="pending",
        request_body=json.dumps({"prompt": "hi"}),
    )
    await LlmJobResult.insert(LlmJobResult(**job.model_dump()))
    stored = await vde_conn.fetchval("SELECT request FROM vde_llm_job_results")
    assert json.loads(stored) == {"prompt": "hi"}
    read = LlmJobResultRead.model_validate(await LlmJobResult.select().first())
    assert read.request_body == {"prompt": "hi"}
    # the SQL name is accepted too: vde's queries return rows by column name
    sql_row = dict(await vde_conn.fetchrow("SELECT * FROM vde_llm_job_results"))
    assert LlmJobResultRead.model_validate(sql_row).request_body == {"prompt": "hi"}


async def _catalog(conn: asyncpg.Connection) -> dict[str, Any]:
    return as_plain(await read_catalog(conn))


async def test_the_rename_migrations_change_nothing_either_way(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(
        manager.get_app_config("llm").resolved_migrations_folder_path
    )
    before = await _catalog(vde_conn)
    with use_engine(vde_db.engine):
        for migration_id in reversed(RENAME_MIGRATIONS):
            await (await modules[migration_id].forwards()).run(backwards=True)
            assert await _catalog(vde_conn) == before, migration_id
        for migration_id in RENAME_MIGRATIONS:
            await (await modules[migration_id].forwards()).run()
            assert await _catalog(vde_conn) == before, migration_id
