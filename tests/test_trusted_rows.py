"""Read models built from database rows without validation equal validated ones.

``TrustedRows`` skips pydantic's validation for rows of vde's own statements;
these tests hold it to what validation gives: the same class and values for a
real row of every table, no secret kept, a row that does not fit refused by
validation's own error (without its input), and a field type the database
cannot give refused when the reader is made.
"""

from __future__ import annotations

import datetime
import inspect
import json
import re

import asyncpg
import pydantic
import pytest
from piccolo.table import Table

from vde.auth import models as auth_models
from vde.auth.tables import Account, ApiKey, Session, User, VerificationToken
from vde.llm import models as llm_models
from vde.llm.job_status import JobStatus
from vde.llm.tables import LlmJobResult
from vde.mapping import models as mapping_models
from vde.mapping.item_types import MapItemType
from vde.mapping.models import Tile
from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping
from vde.registry import vde_tables
from vde.row_models import HIDDEN_INPUT, READ_CONFIG, RowModel, secret_columns
from vde.trusted_rows import TrustedRows

SECRET = "SECRET-VALUE-" + "s" * 20
LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
READ_MODELS = [
    model
    for module in (auth_models, mapping_models, llm_models)
    for _, model in inspect.getmembers(module, inspect.isclass)
    if issubclass(model, RowModel)
    and model.__module__ == module.__name__
    and (model.__name__.endswith("Read") or model is Tile)
]
#: The table behind each read model (``Tile`` is read in tests/mapping).
TABLES = [
    (table, getattr(module, f"{table.__name__}Read"))
    for table in vde_tables()
    for module in (auth_models, mapping_models, llm_models)
    if hasattr(module, f"{table.__name__}Read")
]


def test_every_read_model_has_a_trusted_reader() -> None:
    """A field of a type asyncpg never gives would fail here, not at a query."""
    assert len(READ_MODELS) == 11
    for model in READ_MODELS:
        TrustedRows(model)


async def insert_one_row_in_every_table() -> None:
    """A row in each table, every secret column set to ``SECRET``."""
    await User.insert(User(id="u1", email="ada@example.com", name="Ada")).run()
    await Account.insert(
        Account(
            id="a1",
            user="u1",
            account_id="u1",
            provider_id="credential",
            password=SECRET,
            access_token=SECRET,
            refresh_token=SECRET,
            id_token=SECRET,
            access_token_expires_at=LATER,
        )
    ).run()
    await Session.insert(
        Session(id="s1", user="u1", token=SECRET, expires_at=LATER)
    ).run()
    await VerificationToken.insert(
        VerificationToken(id="v1", identifier=SECRET, value=SECRET, expires_at=LATER)
    ).run()
    await ApiKey.insert(ApiKey(id="k1", user="u1", key=SECRET, name="k")).run()
    await LlmJobResult.insert(
        LlmJobResult(
            id="r1",
            job_id="j1",
            user_id="u1",
            status=JobStatus.COMPLETED,
            request_body=json.dumps({"prompt": "p", "n": [1, 2]}),
            response='"done"',
        )
    ).run()
    await UserMapping.insert(UserMapping(auth_user="u1", mapping_user_id=7)).run()
    item = (await BaseItem.insert(BaseItem(owner_id=7, title="t", content="c")).run())[
        0
    ]["id"]
    await BaseItemVersion.insert(
        BaseItemVersion(
            owner_id=7,
            base_item=item,
            title="t",
            content="c",
            version_number=1,
            updated_by="u1",
        )
    ).run()
    await MapItem.insert(
        MapItem(coord_user_id=7, item_type=MapItemType.USER, ref_item=item)
    ).run()


@pytest.mark.parametrize(
    ("table", "model"), TABLES, ids=[model.__name__ for _, model in TABLES]
)
async def test_a_whole_row_gives_the_validated_model_without_its_secrets(
    vde_conn: asyncpg.Connection, table: type[Table], model: type[RowModel]
) -> None:
    """``SELECT *``: every column, secrets included, in the table's own order."""
    await insert_one_row_in_every_table()
    rows = await vde_conn.fetch(f"SELECT * FROM {table._meta.tablename}")
    assert len(rows) == 1
    (trusted,) = TrustedRows(model).all(rows)
    validated = model.model_validate(dict(rows[0]))
    assert type(trusted) is model
    assert trusted == validated
    assert trusted.model_fields_set == validated.model_fields_set
    assert {k: type(v) for k, v in trusted.__dict__.items()} == {
        k: type(v) for k, v in validated.__dict__.items()
    }
    secrets = {column._meta.name for column in secret_columns(table)}
    assert secrets.isdisjoint(trusted.__dict__)
    for shown in (repr(trusted), trusted.model_dump_json(), str(trusted.model_dump())):
        assert SECRET not in shown
    with pytest.raises(pydantic.ValidationError):
        trusted.id = 2  # type: ignore[misc]  # frozen like a validated one


async def test_json_and_enum_columns_are_converted_as_validation_converts_them(
    vde_conn: asyncpg.Connection,
) -> None:
    await insert_one_row_in_every_table()
    rows = await vde_conn.fetch("SELECT * FROM vde_llm_job_results")
    (job,) = TrustedRows(llm_models.LlmJobResultRead).all(rows)
    assert job.request_body == {"prompt": "p", "n": [1, 2]}
    assert job.response == "done"
    assert job.status is JobStatus.COMPLETED
    rows = await vde_conn.fetch("SELECT * FROM vde_map_items")
    (tile,) = TrustedRows(mapping_models.MapItemRead).all(rows)
    assert tile.item_type is MapItemType.USER


async def test_each_row_is_its_own_model_as_a_validated_one_is(
    vde_conn: asyncpg.Connection,
) -> None:
    """Own values; ``model_copy(update=...)`` changes the copy alone."""
    rows = await vde_conn.fetch(
        "SELECT 1 AS id, 2 AS owner_id, 'b' AS title, 'c' AS content,"
        " now() AS created_at, now() AS updated_at FROM generate_series(1, 3)"
    )
    first, second, _ = TrustedRows(mapping_models.BaseItemRead).all(rows)
    assert first.__dict__ is not second.__dict__
    copied = first.model_copy(update={"title": "new"})
    assert (copied.title, first.title, second.title) == ("new", "b", "b")
    assert copied.model_fields_set == first.model_fields_set
    assert copied.model_fields_set is not first.model_fields_set


TILE_ROW = """
SELECT 5 AS id, 1 AS coord_user_id, 0 AS coord_group_id, '3' AS path,
       {item_type} AS item_type, NULL::int AS origin_id, 4 AS parent_id,
       9 AS ref_item_id, now() AS created_at, now() AS updated_at,
       't' AS title, 'c' AS content, NULL::text AS preview, NULL::text AS link
"""


async def test_columns_in_any_order_with_extra_ones_fill_the_right_fields(
    vde_conn: asyncpg.Connection,
) -> None:
    """Only positions enter the generated loop: a column named like code is data."""
    rows = await vde_conn.fetch(
        "SELECT 'x' AS \"'}; import os; {'\", row.link, row.title, row.*, $1 AS key"
        f" FROM ({TILE_ROW.format(item_type=repr('base'))}) row",
        SECRET,
    )
    (tile,) = TrustedRows(Tile).all(rows)
    assert tile == Tile.model_validate(dict(rows[0]))
    assert (tile.id, tile.parent, tile.ref_item, tile.title) == (5, 4, 9, "t")
    assert SECRET not in repr(tile.__dict__)


@pytest.mark.parametrize(
    ("select", "error"),
    [
        (TILE_ROW.format(item_type="'root'"), "enum"),
        (TILE_ROW.format(item_type="'base'").replace("'t' AS title, ", ""), "missing"),
    ],
    ids=["unknown-enum-value", "missing-column"],
)
async def test_a_row_that_does_not_fit_gets_validations_error_without_input(
    vde_conn: asyncpg.Connection, select: str, error: str
) -> None:
    rows = await vde_conn.fetch(select)
    with pytest.raises(pydantic.ValidationError) as caught:
        TrustedRows(Tile).all(rows)
    (line,) = caught.value.errors()
    assert line["type"] == error
    assert line["input"] == HIDDEN_INPUT


async def test_rows_are_not_validated(vde_conn: asyncpg.Connection) -> None:
    """A model whose validation refuses everything still gets its rows."""

    class Refusing(Tile):
        @pydantic.field_validator("title")
        @classmethod
        def refuse(cls, value: str) -> str:
            raise ValueError("validated")

    rows = await vde_conn.fetch(TILE_ROW.format(item_type="'base'"))
    with pytest.raises(pydantic.ValidationError):
        Refusing.model_validate(dict(rows[0]))
    assert TrustedRows(Refusing).all(rows)[0].title == "t"
    assert TrustedRows(Refusing).all([]) == []


class WithList(RowModel):
    model_config = READ_CONFIG

    ids: list[int]


class WithChoices(RowModel):
    model_config = READ_CONFIG

    user: str = pydantic.Field(
        validation_alias=pydantic.AliasChoices("user_id", "user")
    )


class WithAfter(RowModel):
    model_config = READ_CONFIG

    name: str = pydantic.Field()
    checked: str = pydantic.Field(pattern="^a")


class NotFrozen(RowModel):
    name: str


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (WithList, "asyncpg decodes no column to list[int]"),
        (WithChoices, "name one column"),
        (WithAfter, "only a BeforeValidator"),
        (NotFrozen, "NotFrozen is not frozen"),
    ],
)
def test_a_field_rows_cannot_fill_as_declared_is_refused_up_front(
    model: type[RowModel], message: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        TrustedRows(model)
