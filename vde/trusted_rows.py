"""Read models from the rows of vde's own SQL, without validating each value again.

PostgreSQL has already typed every value of a row vde's queries read: asyncpg
decodes an ``integer`` to ``int``, a ``timestamptz`` to an aware ``datetime``,
and a NOT NULL column is never NULL. Validating such a row with pydantic checks
what the database guarantees, and costs as much as the query: a page of 1,000
tiles took 1.9x the bare fetch, and ``model_construct`` (a Python loop over the
fields and their aliases per row) 2.7x (docs/benchmarks.md, "Typed rows and a
tile's neighbourhood"). So a
:class:`TrustedRows` fills each instance the way ``model_construct`` does (the
field values as its ``__dict__``), converting only what the database gives in
another form: an enum's text, a jsonb column's text (the model's own
``BeforeValidator``).

The builder doing that is generated once per statement shape (the column
names of its rows), as ``dataclasses`` generates ``__init__``: it unpacks each
record, builds the field dict as one literal (an enum's member looked up in it)
and sets the instance's slots with ``map`` over the whole list. Only positions
and the model's field names (identifiers) enter its source, never a column
name or a value. Models must be frozen (the read models are): their instances
share one set of field names, as ``model_construct(_fields_set=...)`` lets
them, since every field is set.

The cyclic garbage collector is paused while a page is built (if it runs at
all; a paused one stays paused): every object the builder makes is reachable
from the list it returns, so a pass over them frees nothing. Otherwise one
pass falls due per 700 new objects, each over all the young ones; after the
build, the one that is due runs at the next allocation, and a caller that has
let the page go by then owes nothing.

The result is the class ``model_validate`` gives, with the same values
(tests/test_trusted_rows.py compares them), frozen, holding only the model's
fields: a column the model lacks, such as a secret, is never kept. Rows that
do not fit (a column missing, an enum value the model does not know) go to
``model_validate``, which raises its usual error without the input. Rows from
elsewhere (a request, a caller's dict, a Piccolo ``select()``) keep going
through ``model_validate``.
"""

from __future__ import annotations

import datetime
import gc
import types
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from functools import partial
from itertools import repeat
from typing import Any, Generic, TypeVar, Union, get_args, get_origin

import pydantic

M = TypeVar("M", bound=pydantic.BaseModel)

#: What asyncpg decodes PostgreSQL's column types to, as the fields declare them.
DECODED = (int, str, bool, float, datetime.datetime, datetime.date)
Convert = Callable[[Any], Any]
#: An enum's members by value (looked up, not called), or a BeforeValidator.
Converter = dict[Any, Any] | Convert
Build = Callable[[Iterable[Any]], list[Any]]

#: How ``model_construct`` fills an instance: its four slots, set directly.
_SLOTS = {
    "new": object.__new__,
    "set_dict": pydantic.BaseModel.__dict__["__dict__"].__set__,
    "set_fields_set": pydantic.BaseModel.__dict__["__pydantic_fields_set__"].__set__,
    "set_extra": pydantic.BaseModel.__dict__["__pydantic_extra__"].__set__,
    "set_private": pydantic.BaseModel.__dict__["__pydantic_private__"].__set__,
    "repeat": repeat,
    "consume": partial(deque, maxlen=0),
}
#: The generated builder; ``{targets}`` are v0, v1, ... (every column of the
#: row). The slots are set by ``map`` over the whole list: C loops, no frame.
_BUILD = """\
def build(records):
    rows = [{{{fields}}} for {targets}in records]
    made = list(map(new, repeat(model, len(rows))))
    consume(map(set_dict, made, rows))
    consume(map(set_fields_set, made, repeat(fields_set)))
    consume(map(set_extra, made, repeat(None)))
    consume(map(set_private, made, repeat(None)))
    return made
"""


class TrustedRows(Generic[M]):
    """``model`` instances from asyncpg records of vde's own statements."""

    def __init__(self, model: type[M]) -> None:
        if model.__pydantic_post_init__ or model.__private_attributes__:
            raise TypeError(f"{model.__name__} needs model_validate's construction")
        if not model.model_config.get("frozen"):
            raise TypeError(f"{model.__name__} is not frozen: its rows share state")
        self.model = model
        fields = model.model_fields
        self._fields = [
            (name, column_of(name, field), converter(model, name, field))
            for name, field in fields.items()
        ]
        #: Shared by the instances: a frozen model never adds to it
        #: (``model_copy`` copies it first, then adds to the copy: a set, not
        #: a frozenset).
        self._fields_set = set(fields)
        #: The column names of a statement's rows -> its builder (None: unfit).
        self._builds: dict[tuple[str, ...], Build | None] = {}

    def one(self, record: Any) -> M:
        """``record`` as a ``model``."""
        return self.all((record,))[0]

    def all(self, records: Iterable[Any]) -> list[M]:
        """Each record (all of one statement) as a ``model``, in order."""
        records = list(records)
        if not records:
            return []
        build = self._build(tuple(records[0].keys()))
        if build is not None:
            collecting = gc.isenabled()
            gc.disable()
            try:
                return build(records)
            except (KeyError, TypeError, ValueError):
                pass  # a value the model does not know: validation names it
            finally:
                if collecting:
                    gc.enable()
        return [self.model.model_validate(dict(record)) for record in records]

    def _build(self, keys: tuple[str, ...]) -> Build | None:
        if keys not in self._builds:
            self._builds[keys] = self._generate(keys)
        return self._builds[keys]

    def _generate(self, keys: tuple[str, ...]) -> Build | None:
        position = {key: index for index, key in enumerate(keys)}
        if any(column not in position for _, column, _ in self._fields):
            return None
        namespace: dict[str, Any] = {
            **_SLOTS,
            "model": self.model,
            "fields_set": self._fields_set,
        }
        fields = []
        for index, (name, column, convert) in enumerate(self._fields):
            value = f"v{position[column]}"
            if isinstance(convert, dict):
                namespace[f"c{index}"] = convert
                value = f"c{index}[{value}]"
            elif convert is not None:
                namespace[f"c{index}"] = convert
                value = f"c{index}({value})"
            fields.append(f"{name!r}: {value}")
        source = _BUILD.format(
            targets="".join(f"v{index}, " for index in range(len(keys))),
            fields=", ".join(fields),
        )
        code = compile(source, f"<TrustedRows({self.model.__name__})>", "exec")
        exec(code, namespace)
        build: Build = namespace["build"]
        return build


def column_of(name: str, field: pydantic.fields.FieldInfo) -> str:
    """The column a field reads: its validation alias, else its name."""
    alias = field.validation_alias
    if alias is None:
        return name
    if not isinstance(alias, str):
        raise TypeError(f"field {name!r} reads {alias!r}; name one column")
    return alias


def converter(
    model: type[pydantic.BaseModel], name: str, field: pydantic.fields.FieldInfo
) -> Converter | None:
    """What turns the decoded value into the field's; None: it already is.

    A type asyncpg never decodes to is refused here, when the reader is made,
    instead of passing a value of the wrong type into a typed row.
    """
    if not name.isidentifier():
        raise TypeError(f"{model.__name__} has a field named {name!r}")
    where = f"{model.__name__}.{name}"
    befores = [m for m in field.metadata if isinstance(m, pydantic.BeforeValidator)]
    if len(befores) != len(field.metadata):
        raise TypeError(f"{where}: only a BeforeValidator is applied to a row")
    annotation = field.annotation
    if befores:
        if annotation is not Any or len(befores) > 1:
            raise TypeError(f"{where}: one BeforeValidator on an Any field only")
        convert: Convert = befores[0].func  # type: ignore[assignment]
        return convert
    if annotation is Any:
        return None
    nullable = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(get_args(annotation))
        if len(members) != 1:
            raise TypeError(f"{where}: {annotation} is not one type or None")
        annotation = members[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        by_value: dict[Any, Any] = {member.value: member for member in annotation}
        if nullable:
            by_value[None] = None
        return by_value
    if annotation in DECODED:
        return None
    raise TypeError(f"{where}: asyncpg decodes no column to {annotation}")
