"""Typed rows of the llm app: ``LlmJobResultRead`` and ``LlmJobResultWrite``.

The read model parses ``request``/``response`` (``select()`` and asyncpg return
jsonb as text); the write model takes them as JSON text, as Piccolo stores it.
See :mod:`vde.row_models` for what each kind requires.
"""

from __future__ import annotations

from datetime import datetime

from vde.llm.job_status import JobStatus
from vde.row_models import READ_CONFIG, WRITE_CONFIG, JsonText, JsonValue, RowModel


class LlmJobResultRead(RowModel):
    """The request, state and outcome of one background LLM job."""

    model_config = READ_CONFIG

    id: str
    job_id: str
    user_id: str
    status: JobStatus
    request: JsonValue = None
    response: JsonValue = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class LlmJobResultWrite(RowModel):
    model_config = WRITE_CONFIG

    id: str
    job_id: str
    user_id: str
    status: JobStatus
    request: JsonText | None = None
    response: JsonText | None = None
    error: str | None = None
