"""Every relation of the spec's list, navigated from Python (one test each)."""

from dataclasses import dataclass

import pytest

from vde.auth.tables import User
from vde.mapping.item_types import MapItemType
from vde.mapping.relations import (
    children_of,
    copies_of,
    tiles_showing,
    user_mapping_of,
    versions_of,
)
from vde.mapping.tables import BaseItem, BaseItemVersion, MapItem, UserMapping


@dataclass(frozen=True)
class Tree:
    """Map (7, 0): root '' (Ada) -> '1' (Idea) -> '1,2' (Detail), and '2' (Idea).

    Map (7, 1): root '' (Ada) -> '3', a copy of tile '1' (origin), showing Idea.
    Map (8, 0): root '' (Bob) -> '4', a copy of tile '1' showing Bob's own Idea.
    """

    root: int
    one: int
    one_two: int
    two: int
    copy: int
    ada: int
    idea: int
    detail: int
    bobs_copy: int
    bobs_idea: int


async def tile(path, content, parent=None, group=0, origin=None, owner=7) -> int:
    kind = MapItemType.BASE if parent else MapItemType.USER
    row = MapItem(
        coord_user_id=owner,
        coord_group_id=group,
        path=path,
        item_type=kind,
        parent=parent,
        origin=origin,
        ref_item=content,
    )
    await row.save()
    return row.id


async def content(title, owner=7) -> int:
    row = BaseItem(owner_id=owner, title=title, content=f"About {title}")
    await row.save()
    return row.id


@pytest.fixture
async def tree(vde_db) -> Tree:
    await User.insert(User(id="u1", email="ada@example.com")).run()
    await UserMapping.insert(UserMapping(auth_user="u1", mapping_user_id=7)).run()
    ada, idea, detail = (
        await content("Ada"),
        await content("Idea"),
        await content("Detail"),
    )
    root = await tile("", ada)
    one = await tile("1", idea, parent=root)
    one_two = await tile("1,2", detail, parent=one)
    two = await tile("2", idea, parent=root)
    other_root = await tile("", ada, group=1)
    copy = await tile("3", idea, parent=other_root, group=1, origin=one)
    bob, bobs_idea = await content("Bob", owner=8), await content("Idea", owner=8)
    bobs_root = await tile("", bob, owner=8)
    bobs_copy = await tile("4", bobs_idea, parent=bobs_root, origin=one, owner=8)
    for number in (1, 2):
        await BaseItemVersion.insert(
            BaseItemVersion(
                owner_id=7,
                base_item=idea,
                title=f"Idea v{number}",
                content="",
                version_number=number,
            )
        ).run()
    return Tree(root, one, one_two, two, copy, ada, idea, detail, bobs_copy, bobs_idea)


async def test_map_item_to_its_base_item_by_ref(tree):
    rows = (
        await MapItem.select(MapItem.path, MapItem.ref_item.title)
        .where((MapItem.coord_user_id == 7) & (MapItem.coord_group_id == 0))
        .order_by(MapItem.path)
    )
    assert [(r["path"], r["ref_item_id.title"]) for r in rows] == [
        ("", "Ada"),
        ("1", "Idea"),
        ("1,2", "Detail"),
        ("2", "Idea"),
    ]


async def test_map_item_to_its_parent(tree):
    row = (
        await MapItem.select(MapItem.parent.path, MapItem.parent.id)
        .where(MapItem.id == tree.one_two)
        .first()
    )
    assert row == {"parent_id.path": "1", "parent_id.id": tree.one}


async def test_map_item_to_its_origin(tree):
    origin = MapItem.origin
    row = (
        await MapItem.select(origin.coord_group_id, origin.path)
        .where(MapItem.id == tree.copy)
        .first()
    )
    assert row == {"origin_id.coord_group_id": 0, "origin_id.path": "1"}


async def test_map_item_to_its_children(tree):
    rows = await children_of(7, tree.root).order_by(MapItem.path)
    assert [r["id"] for r in rows] == [tree.one, tree.two]
    assert await children_of(7, tree.one_two) == []
    assert await children_of(8, tree.root) == []  # the children are Ada's


async def test_map_item_to_its_copies_in_each_owners_maps(tree):
    assert [r["id"] for r in await copies_of(7, tree.one)] == [tree.copy]
    assert [r["id"] for r in await copies_of(8, tree.one)] == [tree.bobs_copy]
    assert await copies_of(7, tree.two) == []


async def test_base_item_to_the_map_items_showing_it(tree):
    rows = await tiles_showing(7, tree.idea).order_by(MapItem.id)
    assert [r["id"] for r in rows] == [tree.one, tree.two, tree.copy]
    assert await tiles_showing(8, tree.idea) == []
    shows = await tiles_showing(8, tree.bobs_idea)
    assert [r["id"] for r in shows] == [tree.bobs_copy]


async def test_base_item_to_its_versions(tree):
    rows = await versions_of(7, tree.idea).order_by(
        BaseItemVersion.version_number, ascending=False
    )
    assert [(r["version_number"], r["title"]) for r in rows] == [
        (2, "Idea v2"),
        (1, "Idea v1"),
    ]
    assert await versions_of(7, tree.ada) == []
    assert await versions_of(8, tree.idea) == []  # Ada's item's history


@pytest.mark.parametrize(
    "relation", [children_of, copies_of, tiles_showing, versions_of]
)
def test_each_relation_filters_by_the_owner_first(relation):
    """The owner's column in the filter lets a server sharded by owner answer
    from one shard."""
    query = relation(7, 1)
    column = "owner_id" if relation is versions_of else "coord_user_id"
    table = query.table._meta.tablename
    assert f'WHERE ("{table}"."{column}" = 7 AND' in str(query), str(query)


async def test_version_to_its_base_item(tree):
    rows = await BaseItemVersion.select(BaseItemVersion.base_item.title).where(
        BaseItemVersion.version_number == 2
    )
    assert rows == [{"base_item_id.title": "Idea"}]


async def test_user_mapping_to_its_user(tree):
    row = (
        await UserMapping.select(UserMapping.auth_user.email)
        .where(UserMapping.mapping_user_id == 7)
        .first()
    )
    assert row == {"auth_user_id.email": "ada@example.com"}


async def test_user_to_its_user_mapping(tree):
    row = await user_mapping_of("u1")
    assert (row["auth_user_id"], row["mapping_user_id"]) == ("u1", 7)
    await User.insert(User(id="u2", email="bob@example.com")).run()
    assert await user_mapping_of("u2") is None
