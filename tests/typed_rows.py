"""Query helpers as the column-level tests read them: typed rows checked, as dicts.

The query tests assert each column by its database name and in select-list
order. ``by_column(module, Model...)`` wraps a ``vde.<app>.queries`` module: each
helper's result is first checked to be the typed row the helper promises (a
``Tile``, an ``ApiKeyRead``, ...), then given to the test as a dict by column
name (``model_dump()``, each field under the column it reads: its validation
alias, else its name). SQL constants pass through unchanged.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pydantic

from vde.trusted_rows import column_of


class by_column:  # noqa: N801 - used like the module it wraps
    def __init__(self, module: ModuleType, *models: type[pydantic.BaseModel]) -> None:
        self._module = module
        self._models = models

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if not inspect.iscoroutinefunction(value):
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await value(*args, **kwargs)
            if result is None:
                return None
            if isinstance(result, list):
                return [self._row(row) for row in result]
            return self._row(result)

        return call

    def _row(self, row: Any) -> dict[str, Any]:
        assert isinstance(row, self._models), f"{type(row).__name__} is not typed"
        fields = type(row).model_fields
        return {
            column_of(name, fields[name]): value
            for name, value in row.model_dump().items()
        }
