"""The LLM job table refuses what the spec says it must, and acts as it says.

Rows are written with raw SQL so that the database, not Python, is what refuses;
one test goes through Piccolo to show its error is the same asyncpg one.
"""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import (
    CheckViolationError,
    NotNullViolationError,
    UniqueViolationError,
)

from vde.llm.job_status import JobStatus
from vde.llm.tables import LlmJobResult
from vde.ops.catalog import read_catalog

Row = dict[str, Any]

JOBS = "vde_llm_job_results"
PAST = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)

#: The smallest valid job row: exactly the columns NOT NULL without a default.
MINIMAL: Row = {"id": "r1", "job_id": "j1", "user_id": "u1", "status": "pending"}

SPEC_STATUSES = ["pending", "processing", "completed", "failed", "cancelled"]


async def test_minimal_row_lists_every_required_column(vde_conn: asyncpg.Connection):
    catalog = await read_catalog(vde_conn)
    required = {
        name
        for name, column in catalog[JOBS].columns.items()
        if not column.nullable and column.default is None and not column.identity
    }
    assert set(MINIMAL) == required


@pytest.mark.parametrize("column", MINIMAL)
async def test_missing_required_value_is_rejected(
    column: str, insert_sql: Any, rejects: Any
):
    row = {name: value for name, value in MINIMAL.items() if name != column}
    await rejects(
        insert_sql(JOBS, row),
        *row.values(),
        error=NotNullViolationError,
        constraint=None,
        column=column,
        tables=JOBS,
    )


def test_job_status_enum_holds_the_spec_values():
    assert list(JobStatus) == SPEC_STATUSES


@pytest.mark.parametrize("status", list(JobStatus))
async def test_each_job_status_goes_in(status: str, insert: Any):
    row = await insert(JOBS, **{**MINIMAL, "status": status})
    assert row["status"] == status


@pytest.mark.parametrize(
    "status", ["done", "PENDING", "Failed", "canceled", "", " pending", "pending "]
)
async def test_unknown_job_status_is_rejected(
    status: str, insert: Any, insert_sql: Any, rejects: Any
):
    await insert(JOBS, **MINIMAL)
    row = {**MINIMAL, "id": "r2", "job_id": "j2", "status": status}
    await rejects(
        insert_sql(JOBS, row),
        *row.values(),
        error=CheckViolationError,
        constraint="vde_llm_job_results_status_check",
        tables=JOBS,
    )


async def test_moving_a_job_to_an_unknown_status_is_rejected(
    insert: Any, rejects: Any
):
    await insert(JOBS, **MINIMAL)
    await rejects(
        "UPDATE vde_llm_job_results SET status = 'done' WHERE id = 'r1'",
        error=CheckViolationError,
        constraint="vde_llm_job_results_status_check",
        tables=JOBS,
    )


async def test_unknown_job_status_is_rejected_through_piccolo(rejects: Any):
    job = LlmJobResult(id="r1", job_id="j1", user_id="u1", status="done")
    await rejects(
        lambda: LlmJobResult.insert(job).run(),
        error=CheckViolationError,
        constraint="vde_llm_job_results_status_check",
        tables=JOBS,
    )


async def test_second_result_of_one_job_is_rejected(
    insert: Any, insert_sql: Any, rejects: Any
):
    await insert(JOBS, **MINIMAL)
    row = {**MINIMAL, "id": "r2"}
    await rejects(
        insert_sql(JOBS, row),
        *row.values(),
        error=UniqueViolationError,
        constraint="vde_llm_job_results_job_id_key",
        tables=JOBS,
    )


async def test_jobs_of_a_user_unknown_to_auth_go_in(insert: Any):
    # user_id is deliberately no foreign key: jobs may precede or outlive the user.
    row = await insert(JOBS, **{**MINIMAL, "user_id": "not-a-user"})
    assert row["user_id"] == "not-a-user"


async def test_defaults(insert: Any, vde_conn: asyncpg.Connection):
    async with vde_conn.transaction():
        row = await insert(JOBS, **MINIMAL)
        now = await vde_conn.fetchval("SELECT now()")
    assert (row["request"], row["response"], row["error"]) == (None, None, None)
    assert row["created_at"] == row["updated_at"] == now


async def test_update_through_piccolo_bumps_updated_at(
    insert: Any, vde_conn: asyncpg.Connection
):
    await insert(JOBS, **MINIMAL)
    # Stamps in the past, so that the bump shows without sleeping.
    await vde_conn.execute(f"UPDATE {JOBS} SET created_at = $1, updated_at = $1", PAST)

    await LlmJobResult.update({LlmJobResult.status: JobStatus.COMPLETED}).where(
        LlmJobResult.id == "r1"
    ).run()

    row = await vde_conn.fetchrow(f"SELECT * FROM {JOBS} WHERE id = 'r1'")
    assert row is not None
    assert row["status"] == "completed"
    assert row["updated_at"] > PAST
    assert row["created_at"] == PAST
