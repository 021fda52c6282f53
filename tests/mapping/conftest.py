"""A small map to hang tests on: its owner, a base item and the root tile.

Rows are written with raw SQL; tiles sit where a tree puts them (a child's path
is its parent's plus one step, in the parent's map).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vde.ops.commands.app_role import app_role

Row = dict[str, Any]
AddTile = Callable[..., Awaitable[Row]]


@dataclass(frozen=True)
class Home:
    """User 'u1', mapped to owner id 1, whose map (1, 0) has a root showing ``item``."""

    user: Row
    mapping: Row
    item: Row
    root: Row


@pytest.fixture
async def home(insert: Any) -> Home:
    user = await insert("vde_users", id="u1", email="ada@example.com")
    mapping = await insert("vde_user_mapping", auth_user_id="u1", mapping_user_id=1)
    item = await insert(
        "vde_base_items", owner_id=1, title="Ada", content="Ada's map"
    )
    root = await insert(
        "vde_map_items", coord_user_id=1, item_type="user", ref_item_id=item["id"]
    )
    return Home(user, mapping, item, root)


@pytest.fixture
def add_tile(insert: Any, home: Home) -> AddTile:
    """``await add_tile(parent, step, **columns)``: a 'base' child of ``parent``,
    showing ``home.item`` in owner 1's maps, else a base item of its owner."""

    async def add(parent: Row, step: int, **columns: Any) -> Row:
        path = f"{parent['path']},{step}" if parent["path"] else str(step)
        owner = parent["coord_user_id"]
        item = home.item
        if owner != home.item["owner_id"] and "ref_item_id" not in columns:
            item = await insert(
                "vde_base_items", owner_id=owner, title="Other", content="other"
            )
        values = {
            "coord_user_id": parent["coord_user_id"],
            "coord_group_id": parent["coord_group_id"],
            "path": path,
            "item_type": "base",
            "parent_id": parent["id"],
            "ref_item_id": item["id"],
            **columns,
        }
        return await insert("vde_map_items", **values)

    return add


@pytest.fixture
async def race_map(home: Home, add_tile: AddTile) -> dict[str, Row]:
    """Map (1, 0): the root, X at '1' with child '1,2', Y at '2' with child '2,5'
    (``tests/mapping/races.py``)."""
    x = await add_tile(home.root, 1)
    y = await add_tile(home.root, 2)
    await add_tile(x, 2)
    await add_tile(y, 5)
    return {"root": home.root, "x": x, "y": y, "item": home.item}


@pytest.fixture
async def dml_role(role: str) -> AsyncIterator[str]:
    """The application's role as ``piccolo vde app_role`` makes it (DML only),
    under a unique name (``role`` drops it afterwards); connect with
    ``tests.conftest.connect_as``."""
    await app_role(name=role)
    yield role


@pytest.fixture
async def grace(insert: Any) -> Row:
    """User 'u2', not mapped yet."""
    return await insert("vde_users", id="u2", email="grace@example.com")
