"""Typed rows of the llm app: ``LlmJobResultRead`` and ``LlmJobResultWrite``.

The read model parses ``request_body``/``response`` (``select()`` and asyncpg
return jsonb as text); the write model takes them as JSON text, as Piccolo
stores it. ``request_body`` is the column ``request`` (its SQL name, which both
models also accept). See :mod:`vde.row_models` for what each kind requires.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vde.llm.job_status import JobStatus
from vde.row_models import READ_CONFIG, WRITE_CONFIG, JsonText, JsonValue, RowModel


class LlmJobResultRead(RowModel):
    """The request, state and outcome of one background LLM job."""

    model_config = READ_CONFIG

    id: str
    job_id: str
    user_id: str
    status: JobStatus
    request_body: JsonValue = Field(None, validation_alias="request")
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
    request_body: JsonText | None = Field(None, validation_alias="request")
    response: JsonText | None = None
    error: str | None = None
