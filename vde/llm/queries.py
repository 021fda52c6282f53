"""Reading back a user's LLM jobs, newest first, by the (user_id, created_at) index."""

from __future__ import annotations

import asyncpg

from vde.llm.tables import LlmJobResult
from vde.sql import Connection, select_list

#: Read backwards along vde_llm_job_results_user_created; the id breaks ties
#: between jobs created in one transaction (same ``now()``).
JOBS_OF_USER_SQL = (
    f"SELECT {select_list(LlmJobResult)}\nFROM {LlmJobResult._meta.tablename}\n"
    "WHERE user_id = $1\nORDER BY created_at DESC, id DESC\nLIMIT $2"
)


async def jobs_of_user(
    conn: Connection, user_id: str, *, limit: int | None = None
) -> list[asyncpg.Record]:
    """``user_id``'s jobs, newest first; at most ``limit`` of them (None: all)."""
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be an integer >= 0, got {limit!r}")
    return await conn.fetch(JOBS_OF_USER_SQL, user_id, limit)
