"""Reading back a user's LLM jobs, newest first, by the (user_id, created_at) index."""

from __future__ import annotations

from vde.errors import InvalidArgumentError, echo
from vde.llm.models import LlmJobResultRead
from vde.llm.tables import LlmJobResult
from vde.sql import select_list
from vde.transactions import Executor, connection_of

#: Read backwards along vde_llm_job_results_user_created; the id breaks ties
#: between jobs created in one transaction (same ``now()``).
JOBS_OF_USER_SQL = (
    f"SELECT {select_list(LlmJobResult)}\nFROM {LlmJobResult._meta.tablename}\n"
    "WHERE user_id = $1\nORDER BY created_at DESC, id DESC\nLIMIT $2"
)


async def jobs_of_user(
    executor: Executor, user_id: str, *, limit: int | None = None
) -> list[LlmJobResultRead]:
    """``user_id``'s jobs, newest first; at most ``limit`` of them (None: all).

    ``executor`` is a ``Tx``, a connection or a pool (``vde.transactions``).
    """
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise InvalidArgumentError(f"limit must be an integer >= 0, got {echo(limit)}")
    async with connection_of(executor) as conn:
        rows = await conn.fetch(JOBS_OF_USER_SQL, user_id, limit)
    return [LlmJobResultRead.model_validate(dict(row)) for row in rows]
