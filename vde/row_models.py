"""Pydantic models of vde's rows, derived from the tables so that they cannot drift.

Piccolo's ``create_pydantic_model`` keeps secret columns and makes every field
optional (``Column._meta.required`` is off unless a table sets it). vde's models
tighten that from the tables themselves:

* A **read model** is one full row as ``Table.select()`` returns it, minus every
  column marked ``secret=True`` (found from ``_meta.secret``, so a new secret
  column is dropped without anyone editing a list). Non-null columns are
  required, nullable ones default to ``None``; unknown keys, such as the secrets
  in a plain ``select()`` row, are ignored. Read models are frozen.
* A **write model** is what a caller provides to insert a row: the text id of an
  identity-layer row (the auth layer chooses it) but not an integer identity id
  (the database numbers it), never ``created_at``/``updated_at`` (the database
  stamps them), secrets included (a session needs its token). A column without a
  database default is required, one with a default takes that default, a
  nullable one defaults to ``None``; so ``Table(**model.model_dump())`` inserts.

Columns with ``choices=<Enum>`` are typed by the enum. Fields are named after
the Python attributes (``user``, ``ref_item``); a foreign key whose database
name differs also accepts that name (``user_id``) as an alias, which is how
``select()`` rows name it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import pydantic
from piccolo.columns import JSON, JSONB, Column, Serial
from piccolo.table import Table
from piccolo.utils.pydantic import create_pydantic_model, get_pydantic_value_type
from pydantic.fields import FieldInfo

#: Stamped by the database (``DEFAULT now()``), never provided by a caller.
MANAGED_COLUMNS = frozenset({"created_at", "updated_at"})

READ_CONFIG = pydantic.ConfigDict(populate_by_name=True, frozen=True, extra="ignore")
_WRITE_CONFIG = pydantic.ConfigDict(populate_by_name=True, extra="forbid")


def secret_columns(table: type[Table]) -> tuple[Column, ...]:
    """The columns of ``table`` marked ``secret=True``."""
    return tuple(column for column in table._meta.columns if column._meta.secret)


def read_model(table: type[Table], name: str) -> type[pydantic.BaseModel]:
    """A frozen model of one row of ``table`` without its secret columns."""
    base = create_pydantic_model(
        table,
        include_default_columns=True,
        exclude_columns=secret_columns(table),
        model_name=name,
        deserialize_json=True,
        pydantic_config=READ_CONFIG,
    )
    fields = {
        field_name: _field(column, field, default=None if column._meta.null else ...)
        for field_name, field in base.model_fields.items()
        if not _is_json(column := table._meta.get_column_by_name(field_name))
    }
    return _subclass(base, name, fields)


def write_model(table: type[Table], name: str) -> type[pydantic.BaseModel]:
    """A model of what a caller provides to insert a row into ``table``."""
    excluded = [
        column
        for column in table._meta.columns
        if column._meta.name in MANAGED_COLUMNS or isinstance(column, Serial)
    ]
    base = create_pydantic_model(
        table,
        include_default_columns=True,
        exclude_columns=tuple(excluded),
        model_name=name,
        pydantic_config=_WRITE_CONFIG,
    )
    fields = {
        field_name: _field(column, field, default=_write_default(column))
        for field_name, field in base.model_fields.items()
        if not _is_json(column := table._meta.get_column_by_name(field_name))
    }
    return _subclass(base, name, fields)


def _write_default(column: Column) -> Any:
    """``...`` (required) unless the column is nullable or has a static default."""
    if column._meta.null:
        return None
    default = column.default
    if default is None or callable(default):
        return ...
    return default


def _is_json(column: Column) -> bool:
    # Piccolo's own JSON fields (and their validators) are kept as they are.
    return isinstance(column, (JSON, JSONB))


def _field(column: Column, piccolo_field: FieldInfo, default: Any) -> tuple[Any, Any]:
    """``(annotation, Field)`` for ``column``, keeping Piccolo's alias and metadata."""
    choices = column._meta.choices
    value_type: Any = (
        choices
        if isinstance(choices, type) and issubclass(choices, Enum)
        else get_pydantic_value_type(column)
    )
    annotation = value_type | None if column._meta.null else value_type
    field = pydantic.Field(
        default,
        alias=piccolo_field.alias,
        json_schema_extra=piccolo_field.json_schema_extra,
    )
    return annotation, field


def _subclass(
    base: type[pydantic.BaseModel], name: str, fields: dict[str, tuple[Any, Any]]
) -> type[pydantic.BaseModel]:
    model: type[pydantic.BaseModel] = pydantic.create_model(  # type: ignore[call-overload]
        name, __base__=base, **fields
    )
    model.__qualname__ = name
    return model
