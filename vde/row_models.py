"""What vde's row models share, and the check that keeps them in step with the tables.

The models themselves are classes written out in ``vde.<app>.models``, so a type
checker sees every field (``UserRead(...).emial`` is an error, not ``Any``). Each
app has two per table:

* a **read model** (``<Table>Read``) is one full row as ``Table.select()`` or
  vde's queries return it, minus every column marked ``secret=True``. Non-null
  columns are required, nullable ones default to ``None``; unknown keys (such
  as the secrets of a plain ``select()`` row) are ignored; it is frozen.
* a **write model** (``<Table>Write``) is what a caller provides to insert a
  row: the text id of an auth row (the auth layer chooses it) but no integer
  identity id, never ``created_at``/``updated_at`` (the database stamps them),
  secrets included (a session needs its token). A column without a database
  default is required, one with a default takes it, a nullable one defaults to
  ``None``; so ``Table(**model.model_dump())`` inserts.

Fields are named after the Python attributes (``user``, ``ref_item``); a foreign
key whose database name differs also accepts that name (``user_id``), which is
how SQL rows name it, when a model is read (``validation_alias``). A dump, with
or without ``by_alias`` (FastAPI dumps with it), names the fields, so JSON says
``parent``, as the attribute does. Both kinds derive from :class:`RowModel`, whose
validation errors never hold their input: a password or token passed in the
wrong place, or a whole row read with its secrets, must not end up in a log.

:func:`model_drift` compares a model with its table (tests/test_row_models.py
runs it for all twenty): a column added to a table and not to its model, a
changed type, nullability or default, a secret in a read model, all fail there.
"""

from __future__ import annotations

import datetime
import json
import types
from enum import Enum
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

import pydantic
from piccolo.columns import (
    JSON,
    JSONB,
    BigInt,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

#: Stamped by the database (``DEFAULT now()``), never provided by a caller.
MANAGED_COLUMNS = frozenset({"created_at", "updated_at"})

#: Read models: frozen, take SQL rows (``user_id``) and Piccolo rows (``user``)
#: alike, ignore unknown keys (a plain ``select()`` row's secrets), and never
#: repeat their input in an error (``str()`` by this setting, ``errors()`` and
#: ``json()`` by ``RowModel``).
READ_CONFIG = pydantic.ConfigDict(
    populate_by_name=True, frozen=True, extra="ignore", hide_input_in_errors=True
)
#: Write models: an unknown key (a typo, a timestamp) is an error; secrets they
#: carry never show in an error either.
WRITE_CONFIG = pydantic.ConfigDict(
    populate_by_name=True, extra="forbid", hide_input_in_errors=True
)


#: What a row model's validation error holds in place of each input value.
HIDDEN_INPUT = "[hidden]"
_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


class RowModel(pydantic.BaseModel):
    """Base of vde's row models: a validation error of one holds none of its input.

    ``hide_input_in_errors`` keeps the input out of ``str(error)`` only;
    ``errors()`` and ``json()`` still hand it out, and for a missing field the
    input is the whole row, a session's token or an account's password hash
    included. So the error is raised again with every input replaced by
    ``HIDDEN_INPUT``; types, locations and messages stay.
    """

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _hide_input(
        cls, data: Any, handler: pydantic.ModelWrapValidatorHandler[Self]
    ) -> Self:
        try:
            return handler(data)
        except pydantic.ValidationError as error:
            raise without_input(error) from None


def without_input(error: pydantic.ValidationError) -> pydantic.ValidationError:
    """``error`` with ``HIDDEN_INPUT`` as every line's input."""
    lines: list[InitErrorDetails] = []
    for line in error.errors(include_url=False, include_input=False):
        hidden: InitErrorDetails = {
            "type": line["type"],
            "loc": line["loc"],
            "input": HIDDEN_INPUT,
        }
        if line["type"] not in _PYDANTIC_ERROR_TYPES:  # a validator's own error
            hidden["type"] = PydanticCustomError(line["type"], line["msg"])
        elif "ctx" in line:
            hidden["ctx"] = line["ctx"]
        lines.append(hidden)
    return pydantic.ValidationError.from_exception_data(
        error.title, lines, hide_input=True
    )


def _json_text_to_value(value: Any) -> Any:
    """jsonb arrives as text from ``select()`` and asyncpg; a parsed value passes."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _check_json_text(value: str | None) -> str | None:
    if value is not None:
        try:
            json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError("not valid JSON text") from error
    return value


#: A jsonb column in a read model: the parsed value.
JsonValue = Annotated[Any, pydantic.BeforeValidator(_json_text_to_value)]
#: A jsonb column in a write model: JSON text, checked to parse (Piccolo stores it).
JsonText = Annotated[str, pydantic.AfterValidator(_check_json_text)]


def secret_columns(table: type[Table]) -> tuple[Column, ...]:
    """The columns of ``table`` marked ``secret=True``."""
    return tuple(column for column in table._meta.columns if column._meta.secret)


def read_columns(table: type[Table]) -> list[Column]:
    """The columns a read model of ``table`` holds: all but the secret ones."""
    return [column for column in table._meta.columns if not column._meta.secret]


def write_columns(table: type[Table]) -> list[Column]:
    """The columns a write model holds: no identity id, no managed timestamp."""
    return [
        column
        for column in table._meta.columns
        if column._meta.name not in MANAGED_COLUMNS and not isinstance(column, Serial)
    ]


def python_type(column: Column, kind: Literal["read", "write"]) -> Any:
    """The type a model field of ``column`` has, before nullability."""
    choices = column._meta.choices
    if isinstance(choices, type) and issubclass(choices, Enum):
        return choices
    if isinstance(column, ForeignKey):
        target = column._foreign_key_meta.resolved_references
        return python_type(target._meta.primary_key, kind)
    if isinstance(column, (JSON, JSONB)):
        return Any if kind == "read" else str
    for column_class, value_type in _TYPES:
        if isinstance(column, column_class):
            return value_type
    raise TypeError(f"no Python type known for {type(column).__name__} columns")


_TYPES: list[tuple[type[Column], type]] = [
    (Serial, int),
    (BigInt, int),
    (SmallInt, int),
    (Integer, int),
    (Boolean, bool),
    (Timestamptz, datetime.datetime),
    (Varchar, str),
    (Text, str),
]


def model_drift(
    table: type[Table], model: type[pydantic.BaseModel], kind: Literal["read", "write"]
) -> list[str]:
    """How ``model`` differs from what the columns of ``table`` ask; [] if in step.

    Checks the field names (the database name read as validation alias, the
    field's own name dumped), each type, nullability and default, and that a
    read model holds no secret column.
    """
    columns = read_columns(table) if kind == "read" else write_columns(table)
    expected = {column._meta.name: column for column in columns}
    fields = model.model_fields
    problems = [
        f"{model.__name__} lacks field {name!r} for column "
        f"{table._meta.tablename}.{column._meta.db_column_name}"
        for name, column in expected.items()
        if name not in fields
    ]
    secrets = {column._meta.name for column in secret_columns(table)}
    for name in fields.keys() - expected.keys():
        why = "a secret column" if name in secrets else "no such column"
        problems.append(f"{model.__name__} has field {name!r}: {why}")
    for name in expected.keys() & fields.keys():
        problems += _field_drift(model.__name__, expected[name], fields[name], kind)
    return problems


def _field_drift(
    model_name: str,
    column: Column,
    field: pydantic.fields.FieldInfo,
    kind: Literal["read", "write"],
) -> list[str]:
    where = f"{model_name}.{column._meta.name}"
    problems = []
    value_type = python_type(column, kind)
    want = value_type | None if column._meta.null else value_type
    if value_type is Any:
        want = Any
    if not _same_type(field.annotation, want):
        problems.append(f"{where} is {field.annotation}, the column needs {want}")
    db_name = column._meta.db_column_name
    if db_name != column._meta.name and field.validation_alias != db_name:
        problems.append(f"{where} must accept {db_name!r} (validation_alias)")
    if field.serialization_alias not in (None, column._meta.name):
        problems.append(
            f"{where} dumps as {field.serialization_alias!r}; the database name "
            "is for reading only (validation_alias, not alias)"
        )
    default = _expected_default(column, kind)
    actual = ... if field.is_required() else field.default
    if actual != default or type(actual) is not type(default):
        problems.append(f"{where} defaults to {actual!r}, the column to {default!r}")
    return problems


def _expected_default(column: Column, kind: Literal["read", "write"]) -> Any:
    """``...`` (required), else the value a model field must default to."""
    if column._meta.null:
        return None
    default = column.default
    if kind == "read" or default is None or callable(default):
        return ...
    return default.value if isinstance(default, Enum) else default


def _same_type(actual: Any, want: Any) -> bool:
    """Equal types, ``X | None`` and ``Optional[X]`` alike, validators ignored."""
    actual, want = _bare(actual), _bare(want)
    if actual == want:
        return True
    unions = (Union, types.UnionType)
    if get_origin(actual) in unions and get_origin(want) in unions:
        return {_bare(arg) for arg in get_args(actual)} == {
            _bare(arg) for arg in get_args(want)
        }
    return False


def _bare(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> ``X``."""
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0]
    return annotation
