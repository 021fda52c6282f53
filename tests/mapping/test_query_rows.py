"""The map queries build their typed rows without validating them again.

Their rows come from vde's own statements, typed by PostgreSQL
(``vde.trusted_rows``): with validation refused outright, every query still
returns its rows, equal to the validated ones.
"""

from __future__ import annotations

from typing import Any, NoReturn

import asyncpg
import pytest

from vde.mapping import MapCoordinates, queries
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.mapping.versions import append_version
from vde.trusted_rows import TrustedRows


@pytest.fixture
async def small_map(
    home: Any, add_tile: Any, vde_conn: asyncpg.Connection
) -> dict[str, Any]:
    one = await add_tile(home.root, 1)
    await add_tile(one, 4, origin_id=home.root["id"])
    await add_tile(home.root, 2)
    for title in ("first", "second"):
        await append_version(vde_conn, 1, home.item["id"], title, "c")
    return {"root": home.root, "one": one, "item": home.item}


def refuse(cls: type, *args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError(f"{cls.__name__} validated a row of vde's own SQL")


async def test_every_query_returns_rows_without_validating_them(
    small_map: dict[str, Any],
    vde_conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, one = MapCoordinates.root(1), MapCoordinates(1, 0, "1")
    reads = {
        "map_root": lambda: queries.map_root(vde_conn, 1),
        "map_roots": lambda: queries.map_roots(vde_conn, 1),
        "tile_at": lambda: queries.tile_at(vde_conn, one),
        "descendants": lambda: queries.descendants(vde_conn, root),
        "descendants, a page": lambda: queries.descendants(vde_conn, root, limit=2),
        "children": lambda: queries.children(vde_conn, 1, small_map["root"]["id"]),
        "copies": lambda: queries.copies(vde_conn, 1, small_map["root"]["id"]),
        "versions": lambda: queries.versions(vde_conn, 1, small_map["item"]["id"]),
    }
    with monkeypatch.context() as patched:  # every row through model_validate
        patched.setattr(TrustedRows, "_build", lambda self, keys: None)
        validated = {name: await read() for name, read in reads.items()}
    with monkeypatch.context() as patched:
        for model in (Tile, BaseItemVersionRead):
            patched.setattr(model, "model_validate", classmethod(refuse))
        trusted = {name: await read() for name, read in reads.items()}
    assert trusted == validated
    assert [len(rows) for rows in trusted.values() if isinstance(rows, list)] == [
        1,
        3,
        2,
        2,
        1,
        2,
    ]
    for rows in trusted.values():
        for row in rows if isinstance(rows, list) else [rows]:
            assert type(row) in (Tile, BaseItemVersionRead)


async def test_a_page_of_tiles_equals_the_validated_tiles_field_for_field(
    small_map: dict[str, Any], vde_conn: asyncpg.Connection
) -> None:
    """Values, their order in JSON, which fields count as set, the empty slots."""
    page = await queries.descendants(vde_conn, MapCoordinates.root(1), limit=10)
    rows = await vde_conn.fetch(
        queries.DESCENDANTS_PAGE_SQL,
        1,
        0,
        *MapCoordinates.root(1).descendant_bounds(),
        MapCoordinates.root(1).descendant_length_limit(None),
        10,
        0,
    )
    assert len(page) == len(rows) == 3
    for built, row in zip(page, rows, strict=True):
        validated = Tile.model_validate(dict(row))
        assert type(built) is Tile
        assert list(built.__dict__.items()) == list(validated.__dict__.items())
        assert built.model_fields_set == validated.model_fields_set
        assert built.model_dump(exclude_unset=True) == validated.model_dump(
            exclude_unset=True
        )
        assert built.__pydantic_extra__ is validated.__pydantic_extra__ is None
        assert built.__pydantic_private__ is validated.__pydantic_private__ is None
        for by_alias in (False, True):
            assert built.model_dump_json(by_alias=by_alias) == (
                validated.model_dump_json(by_alias=by_alias)
            )
        assert built == validated and hash(built) == hash(validated)
