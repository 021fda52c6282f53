"""Every row model is a class written in the source, in step with its table.

``model_drift`` compares a model with the columns of its table: names, the
database name as alias, type, nullability, default, and no secret in a read
model. The last tests prove it catches a column added to a table only.
"""

from __future__ import annotations

import json

import pydantic
import pytest
from piccolo.columns import Integer, Text

from vde.auth import models as auth_models
from vde.auth.models import SessionRead
from vde.llm import models as llm_models
from vde.mapping import models as mapping_models
from vde.mapping.models import BaseItemVersionRead, MapItemRead, Tile
from vde.registry import vde_tables
from vde.row_models import HIDDEN_INPUT, RowModel, model_drift

MODULES = [auth_models, mapping_models, llm_models]
MODELS = [
    (table, kind, getattr(module, f"{table.__name__}{kind.title()}"))
    for table in vde_tables()
    for module in MODULES
    if hasattr(module, f"{table.__name__}Read")
    for kind in ("read", "write")
]


def test_every_table_has_a_read_and_a_write_model_written_as_a_class():
    assert len(vde_tables()) == 10
    assert len(MODELS) == 20
    for table, _, model in MODELS:
        # A class statement in the app's models module, not built at run time.
        assert model.__module__ == f"vde.{table.__module__.split('.')[1]}.models"
        assert model.__qualname__ == model.__name__


@pytest.mark.parametrize(
    ("table", "kind", "model"), MODELS, ids=[m.__name__ for _, _, m in MODELS]
)
def test_model_is_in_step_with_its_table(table, kind, model):
    assert model_drift(table, model, kind) == []


def test_tile_and_version_rows_extend_the_table_models():
    assert set(Tile.model_fields) == set(MapItemRead.model_fields) | {
        "title",
        "content",
        "preview",
        "link",
    }
    assert BaseItemVersionRead.model_fields["base_item"].validation_alias == (
        "base_item_id"
    )


def test_a_column_added_to_a_table_and_not_to_its_model_fails(monkeypatch):
    from vde.mapping.tables import BaseItem

    class GrownBaseItem(BaseItem, tablename="vde_base_items"):
        summary = Text(null=True, default=None)
        weight = Integer(default=3)

    drift = model_drift(GrownBaseItem, mapping_models.BaseItemRead, "read")
    assert drift == [
        "BaseItemRead lacks field 'summary' for column vde_base_items.summary",
        "BaseItemRead lacks field 'weight' for column vde_base_items.weight",
    ]
    assert len(model_drift(GrownBaseItem, mapping_models.BaseItemWrite, "write")) == 2


def test_a_changed_type_nullability_default_or_a_secret_is_named():
    from vde.auth.tables import Session

    class WrongSessionRead(auth_models.SessionRead):
        expires_at: str  # type: ignore[assignment]
        ip_address: str = "x"  # type: ignore[assignment]
        token: str = ""

    assert sorted(model_drift(Session, WrongSessionRead, "read")) == [
        "WrongSessionRead has field 'token': a secret column",
        "WrongSessionRead.expires_at is <class 'str'>, the column needs "
        "<class 'datetime.datetime'>",
        "WrongSessionRead.ip_address defaults to 'x', the column to None",
        "WrongSessionRead.ip_address is <class 'str'>, the column needs str | None",
    ]

    class ApiKeyWriteWithoutDefault(auth_models.ApiKeyWrite):
        rate_limit_max: int  # type: ignore[misc]

    from vde.auth.tables import ApiKey

    assert model_drift(ApiKey, ApiKeyWriteWithoutDefault, "write") == [
        "ApiKeyWriteWithoutDefault.rate_limit_max defaults to Ellipsis, "
        "the column to 10"
    ]


def test_a_database_name_used_for_dumping_is_named():
    """``alias=`` would make JSON (FastAPI dumps by alias) say ``base_item_id``."""
    from vde.mapping.tables import BaseItemVersion

    class DumpedByColumn(BaseItemVersionRead):
        base_item: int = pydantic.Field(alias="base_item_id")

    class NotReadByColumn(BaseItemVersionRead):
        base_item: int

    assert model_drift(BaseItemVersion, DumpedByColumn, "read") == [
        "DumpedByColumn.base_item dumps as 'base_item_id'; the database name "
        "is for reading only (validation_alias, not alias)"
    ]
    assert model_drift(BaseItemVersion, NotReadByColumn, "read") == [
        "NotReadByColumn.base_item must accept 'base_item_id' (validation_alias)"
    ]


@pytest.mark.parametrize(
    ("table", "kind", "model"), MODELS, ids=[m.__name__ for _, _, m in MODELS]
)
def test_every_model_dumps_its_field_names_by_alias_too(table, kind, model):
    """What a web layer shows: the attribute names, never a column's other name."""
    values = {name: f"v{number}" for number, name in enumerate(model.model_fields)}
    made = model.model_construct(**values)
    assert list(made.model_dump(by_alias=True, warnings=False)) == list(
        model.model_fields
    )
    assert list(json.loads(made.model_dump_json(by_alias=True, warnings=False))) == (
        list(model.model_fields)
    )


SECRET = "SECRET-TOKEN-VALUE-" + "x" * 20


def shown(error: pydantic.ValidationError) -> list[str]:
    """Every way a validation error reaches a log or a response."""
    return [
        str(error),
        repr(error),
        str(error.errors()),
        error.json(),
        str(error.errors(include_url=False, include_context=True)),
    ]


@pytest.mark.parametrize(
    "model", [m for _, _, m in MODELS], ids=[m.__name__ for _, _, m in MODELS]
)
@pytest.mark.parametrize("shape", ["wrong-types", "missing-fields", "not-a-mapping"])
def test_no_validation_error_repeats_its_input(model, shape):
    """Not in str() (``hide_input_in_errors``), nor in errors() and json().

    Wrong types: each field's error would hold the secret itself. Missing
    fields: each "missing" error would hold the whole input, with the secret in
    an unknown key. Not a mapping: the one error would hold the input.
    """
    if shape == "wrong-types":
        values: object = {name: [SECRET] for name in model.model_fields}
    elif shape == "missing-fields":
        values = {"not_a_field": SECRET}
    else:
        values = [("token", SECRET)]
    with pytest.raises(pydantic.ValidationError) as error:
        model.model_validate(values)
    assert error.value.errors()[0]["input"] == HIDDEN_INPUT
    for text in shown(error.value):
        assert SECRET not in text


def test_a_row_model_inside_another_type_hides_its_input_too():
    """A list of rows (a response body) reports each row's errors without input."""
    with pytest.raises(pydantic.ValidationError) as error:
        pydantic.TypeAdapter(list[SessionRead]).validate_python(
            [{"id": "s1", "token": SECRET}]
        )
    assert error.value.errors()[0]["loc"][0] == 0
    for text in shown(error.value):
        assert SECRET not in text


def test_every_row_model_is_a_row_model():
    for _, _, model in MODELS:
        assert issubclass(model, RowModel), model.__name__
