"""Results of background LLM jobs, read back by the user who started them."""

from __future__ import annotations

from piccolo.columns import JSONB, Text
from piccolo.constraints import Check
from piccolo.table import Table

from vde.columns import created_at, one_of, tablename, updated_at
from vde.llm.job_status import JobStatus


class LlmJobResult(Table, tablename=tablename("llm_job_results")):
    """The request, state and outcome of one background LLM job."""

    id = Text(primary_key=True, default=None)
    job_id = Text(unique=True, default=None)
    # Not a foreign key: jobs may outlive or precede the user row.
    user_id = Text(default=None)
    status = Text(default=None, choices=JobStatus)
    # The database column is "request"; the attribute is not, because
    # Piccolo's admin and CRUD endpoints take a parameter named "request".
    request_body = JSONB(null=True, default=None, db_column_name="request")
    response = JSONB(null=True, default=None)
    error = Text(null=True, default=None)
    created_at = created_at()
    updated_at = updated_at()

    vde_llm_job_results_status_check = Check(one_of("status", JobStatus))
