"""Typed rows of the llm app: ``LlmJobResultRead`` and ``LlmJobResultWrite``.

The read model parses ``request``/``response`` (``select()`` returns jsonb as
text); the write model takes them as JSON text, as Piccolo's model does. See
:mod:`vde.row_models` for what each kind requires.
"""

from __future__ import annotations

from vde.llm.tables import LlmJobResult
from vde.row_models import read_model, write_model

LlmJobResultRead = read_model(LlmJobResult, "LlmJobResultRead")
LlmJobResultWrite = write_model(LlmJobResult, "LlmJobResultWrite")
