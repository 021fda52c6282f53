from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import pytest_asyncio

from tests.typed_rows import by_column
from vde.llm import queries as typed_queries
from vde.llm.models import LlmJobResultRead
from vde.testing.plans import explain, indexes_used, loaded_database, nodes, seq_scanned

#: The helpers' typed rows, checked, then read as dicts by column name.
queries = by_column(typed_queries, LlmJobResultRead)

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

JOB_COLUMNS = [
    "id",
    "job_id",
    "user_id",
    "status",
    "request",
    "response",
    "error",
    "created_at",
    "updated_at",
]


async def _job(conn: Any, job: str, user: str, minute: int, **values: Any) -> None:
    created = T0 + datetime.timedelta(minutes=minute)
    await conn.execute(
        "INSERT INTO vde_llm_job_results (id, job_id, user_id, status, request,"
        " response, error, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        f"r-{job}",
        job,
        user,
        values.get("status", "completed"),
        values.get("request"),
        values.get("response"),
        values.get("error"),
        created,
    )


@pytest.fixture
async def jobs(vde_conn) -> None:
    # Inserted out of order; "b" and "c" were created at the same instant.
    await _job(vde_conn, "b", "u1", 2, status="failed", error="timeout")
    await _job(vde_conn, "a", "u1", 1, request=json.dumps({"prompt": "hi"}))
    await _job(vde_conn, "d", "u1", 3, status="pending")
    await _job(vde_conn, "c", "u1", 2)
    await _job(vde_conn, "x", "u2", 9)


async def test_jobs_of_a_user_are_newest_first(vde_conn, jobs):
    rows = await queries.jobs_of_user(vde_conn, "u1")
    assert [list(r.keys()) for r in rows] == [JOB_COLUMNS] * 4
    # Same created_at: the higher id ('r-c' > 'r-b') counts as newer.
    assert [(r["job_id"], r["status"], r["created_at"]) for r in rows] == [
        ("d", "pending", T0 + datetime.timedelta(minutes=3)),
        ("c", "completed", T0 + datetime.timedelta(minutes=2)),
        ("b", "failed", T0 + datetime.timedelta(minutes=2)),
        ("a", "completed", T0 + datetime.timedelta(minutes=1)),
    ]
    assert dict(rows[3]) == {
        "id": "r-a",
        "job_id": "a",
        "user_id": "u1",
        "status": "completed",
        "request": {"prompt": "hi"},  # parsed by LlmJobResultRead
        "response": None,
        "error": None,
        "created_at": T0 + datetime.timedelta(minutes=1),
        "updated_at": T0 + datetime.timedelta(minutes=1),
    }
    assert rows[2]["error"] == "timeout"
    assert await queries.jobs_of_user(vde_conn, "u3") == []


async def test_jobs_of_a_user_limited_to_the_newest(vde_conn, jobs):
    rows = await queries.jobs_of_user(vde_conn, "u1", limit=2)
    assert [r["job_id"] for r in rows] == ["d", "c"]
    assert await queries.jobs_of_user(vde_conn, "u1", limit=0) == []


@pytest.mark.parametrize("limit", [-1, 1.5, "2"])
async def test_jobs_of_a_user_refuse_a_bad_limit(vde_conn, limit):
    with pytest.raises(ValueError, match="limit must be an integer >= 0"):
        await queries.jobs_of_user(vde_conn, "u1", limit=limit)


# -- Plans on 20,000 jobs -----------------------------------------------------

#: 500 users with 40 jobs each, one a minute.
JOBS_SQL = """
INSERT INTO vde_llm_job_results (id, job_id, user_id, status, created_at)
SELECT 'r' || g, 'j' || g, 'u' || (g % 500), 'completed',
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 20000) g;
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def many_jobs(vde_template):
    async with loaded_database(vde_template, JOBS_SQL) as conn:
        yield conn


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("limit", [None, 10])
async def test_jobs_plan_reads_the_user_created_index_backwards(
    many_jobs, limit, generic
):
    plan = await explain(
        many_jobs, queries.JOBS_OF_USER_SQL, "u7", limit, generic=generic
    )
    assert seq_scanned(plan) == set(), plan
    assert indexes_used(plan) == {"vde_llm_job_results_user_created"}, plan
    scan = next(n for n in nodes(plan) if n.get("Index Name"))
    if limit is not None:
        # The newest few without sorting all of the user's jobs.
        assert (scan["Node Type"], scan["Scan Direction"]) == (
            "Index Scan",
            "Backward",
        )
    conditions = scan["Index Cond"]
    assert ("$1" in conditions) is generic, conditions
