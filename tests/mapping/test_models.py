import json

import pydantic
import pytest

from vde.auth.tables import User
from vde.mapping.item_types import MapItemType
from vde.mapping.models import (
    BaseItemRead,
    BaseItemVersionRead,
    BaseItemVersionWrite,
    BaseItemWrite,
    MapItemRead,
    MapItemWrite,
    Tile,
    UserMappingRead,
    UserMappingWrite,
)
from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping


async def insert(table, model) -> dict:
    """Insert the row a write model describes; return the row as read back."""
    inserted = await table.insert(table(**model.model_dump())).returning(
        table._meta.primary_key).run()
    pk = table._meta.primary_key
    return await table.select().where(pk == inserted[0][pk._meta.name]).first().run()


async def test_write_then_read_every_mapping_table(vde_db):
    await User.insert(User(id="u1", email="ada@example.com")).run()
    mapping = await insert(UserMapping, UserMappingWrite(auth_user="u1",
                                                         mapping_user_id=7))
    item = await insert(BaseItem, BaseItemWrite(owner_id=7, title="Root", content="c"))
    version = await insert(BaseItemVersion, BaseItemVersionWrite(
        owner_id=7, base_item=item["id"], title="Root", content="c", version_number=1))
    root = await insert(MapItem, MapItemWrite(
        coord_user_id=7, item_type=MapItemType.USER, ref_item=item["id"]))

    assert UserMappingRead.model_validate(mapping).auth_user == "u1"
    assert BaseItemRead.model_validate(item).title == "Root"
    assert BaseItemVersionRead.model_validate(version).base_item == item["id"]
    tile = MapItemRead.model_validate(root)
    assert (tile.path, tile.coord_group_id, tile.item_type, tile.parent) == (
        "", 0, MapItemType.USER, None)
    assert tile.model_dump(mode="json", by_alias=True)["ref_item"] == item["id"]


def test_a_tile_dumps_and_serialises_its_field_names_not_its_columns():
    """FastAPI answers with ``model_dump_json(by_alias=True)``: ``parent``, as read."""
    row = {"id": 2, "coord_user_id": 1, "coord_group_id": 0, "path": "1",
           "item_type": "base", "origin_id": 3, "parent_id": 1, "ref_item_id": 4,
           "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
           "title": "t", "content": "c"}
    tile = Tile.model_validate(row)
    assert (tile.parent, tile.origin, tile.ref_item) == (1, 3, 4)
    for dumped in (tile.model_dump(by_alias=True),
                   json.loads(tile.model_dump_json(by_alias=True))):
        assert (dumped["parent"], dumped["origin"], dumped["ref_item"]) == (1, 3, 4)
        assert {"parent_id", "origin_id", "ref_item_id"}.isdisjoint(dumped)
    assert Tile.model_validate(tile.model_dump()) == tile


def test_write_models_have_no_identity_id_and_no_timestamps():
    for model in (BaseItemWrite, BaseItemVersionWrite, MapItemWrite, UserMappingWrite):
        assert {"id", "created_at", "updated_at"}.isdisjoint(model.model_fields)


def test_map_item_write_requires_coordinate_type_and_content():
    with pytest.raises(pydantic.ValidationError) as error:
        MapItemWrite()
    assert {e["loc"][0] for e in error.value.errors()} == {
        "coord_user_id", "item_type", "ref_item_id"}
    with pytest.raises(pydantic.ValidationError) as error:
        MapItemWrite(coord_user_id=1, item_type="USER", ref_item=1)
    assert error.value.errors()[0]["loc"] == ("item_type",)


def test_version_and_mapping_write_models_require_their_fields():
    with pytest.raises(pydantic.ValidationError) as error:
        BaseItemVersionWrite(title="t", content="c")
    assert {e["loc"][0] for e in error.value.errors()} == {
        "owner_id", "base_item_id", "version_number"}
    with pytest.raises(pydantic.ValidationError) as error:
        UserMappingWrite()
    assert {e["loc"][0] for e in error.value.errors()} == {
        "auth_user_id", "mapping_user_id"}
