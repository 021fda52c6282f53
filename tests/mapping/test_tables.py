"""The map tables refuse what the spec says they must, and act as it says.

Rows are written with raw SQL so that the database, not Python, is what
refuses; one test goes through Piccolo to show its error is the same asyncpg one.
Fixtures (``home``, ``grace``, ``add_tile``) are in this folder's conftest.
"""

from __future__ import annotations

import datetime
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import (
    CheckViolationError,
    ForeignKeyViolationError,
    NotNullViolationError,
    RestrictViolationError,
    UniqueViolationError,
)
from piccolo.table import Table

from vde.mapping.item_types import MapItemType
from vde.mapping.tables import BaseItem, MapItem, UserMapping
from vde.ops.catalog import read_catalog

Row = dict[str, Any]

PAST = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
TILES = "vde_map_items"
ITEMS = "vde_base_items"
VERSIONS = "vde_base_item_versions"
MAPPING = "vde_user_mapping"


def minimal_row(table: str, home: Any, grace_item: Row | None = None) -> Row:
    """The smallest valid row: only the columns NOT NULL without a default.

    The tile is the root of a second map (owner 2), showing ``grace_item``; the
    mapping is for ``grace``.
    """
    item = home.item["id"]
    return {
        ITEMS: {"owner_id": 1, "title": "Notes", "content": "Lovelace's notes"},
        VERSIONS: {
            "owner_id": 1, "base_item_id": item, "title": "Ada", "content": "v1",
            "version_number": 1,
        },
        TILES: {
            "coord_user_id": 2, "item_type": "user",
            "ref_item_id": grace_item["id"] if grace_item else None,
        },
        MAPPING: {"auth_user_id": "u2", "mapping_user_id": 2},
    }[table]


@pytest.fixture
async def grace_item(insert: Any) -> Row:
    """Content of owner 2, for the root of Grace's map."""
    return await insert(ITEMS, owner_id=2, title="Notes", content="Grace's notes")


REQUIRED = {
    ITEMS: ("owner_id", "title", "content"),
    VERSIONS: ("owner_id", "base_item_id", "title", "content", "version_number"),
    TILES: ("coord_user_id", "item_type", "ref_item_id"),
    MAPPING: ("auth_user_id", "mapping_user_id"),
}


async def test_required_lists_every_required_column(
    home: Any, vde_conn: asyncpg.Connection
):
    catalog = await read_catalog(vde_conn)
    for table, columns in REQUIRED.items():
        required = {
            name
            for name, column in catalog[table].columns.items()
            if not column.nullable and column.default is None and not column.identity
        }
        assert set(columns) == required == set(minimal_row(table, home)), table


@pytest.mark.parametrize(
    ("table", "column"),
    [(table, column) for table, columns in REQUIRED.items() for column in columns],
    ids="{0[0]}.{0[1]}".format,
)
async def test_missing_required_value_is_rejected(
    table: str,
    column: str,
    home: Any,
    grace: Row,
    grace_item: Row,
    insert_sql: Any,
    rejects: Any,
):
    row = {k: v for k, v in minimal_row(table, home, grace_item).items() if k != column}
    await rejects(
        insert_sql(table, row),
        *row.values(),
        error=NotNullViolationError,
        constraint=None,
        column=column,
        tables=table,
    )


@pytest.mark.parametrize("table", REQUIRED)
async def test_minimal_row_goes_in_with_a_generated_id(
    table: str,
    home: Any,
    grace: Row,
    grace_item: Row,
    insert: Any,
    vde_conn: asyncpg.Connection,
):
    row = await insert(table, **minimal_row(table, home, grace_item))
    assert isinstance(row["id"], int)
    assert row["id"] == await vde_conn.fetchval(f"SELECT max(id) FROM {table}")
    assert await vde_conn.fetchval(f"SELECT count(DISTINCT id) FROM {table}") == (
        await vde_conn.fetchval(f"SELECT count(*) FROM {table}")
    )


# --- tiles: coordinates, paths, types, parents -----------------------------------


async def test_second_tile_on_one_coordinate_is_rejected(
    home: Any, add_tile: Any, rejects: Any
):
    tile = await add_tile(home.root, 3)
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, coord_group_id, path, item_type,"
        " parent_id, ref_item_id) VALUES (1, 0, '3', 'base', $1, $2)",
        home.root["id"],
        tile["ref_item_id"],
        error=UniqueViolationError,
        constraint="vde_map_items_coordinates_unique",
        tables=TILES,
    )


@pytest.mark.parametrize(("user", "group"), [(1, 1), (2, 0)], ids=["group", "user"])
async def test_same_path_in_another_map_goes_in(
    user: int, group: int, home: Any, insert: Any, add_tile: Any
):
    await add_tile(home.root, 3)
    item = await insert(ITEMS, owner_id=user, title="Other", content="")
    root = await insert(
        TILES, coord_user_id=user, coord_group_id=group, item_type="user",
        ref_item_id=item["id"],
    )
    tile = await add_tile(root, 3)
    assert (tile["coord_user_id"], tile["coord_group_id"], tile["path"]) == (
        user, group, "3"
    )


MALFORMED_PATHS = [
    "1,,2", "7", "a", "1,", ",1", "12", " 1", "1 ", "1,2,", ",", "-1", "1;2", "1\n",
    "\n1", "1,7", "٣",  # an Arabic-Indic three: a digit to Unicode, not a direction
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
async def test_malformed_path_is_rejected(path: str, home: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id,"
        " ref_item_id) VALUES (1, $1, 'base', $2, $3)",
        path,
        home.root["id"],
        home.item["id"],
        error=CheckViolationError,
        constraint="vde_map_items_path_format",
        tables=TILES,
    )


async def test_malformed_path_is_rejected_through_piccolo(home: Any, rejects: Any):
    tile = MapItem(
        coord_user_id=1,
        path="1,,2",
        item_type=MapItemType.BASE,
        parent=home.root["id"],
        ref_item=home.item["id"],
    )
    await rejects(
        lambda: MapItem.insert(tile).run(),
        error=CheckViolationError,
        constraint="vde_map_items_path_format",
        tables=TILES,
    )


@pytest.mark.parametrize("path", ["0", "3", "1,4,6", "2,0", "6,5,4,3,2,1,0"])
async def test_valid_path_goes_in(path: str, home: Any, add_tile: Any):
    tile = home.root
    for step in path.split(","):
        tile = await add_tile(tile, int(step))
    assert tile["path"] == path


async def test_root_path_is_empty(home: Any):
    assert home.root["path"] == ""


@pytest.mark.parametrize("item_type", ["USER", "Base", "root", "", "user "])
async def test_unknown_item_type_is_rejected(item_type: str, home: Any, rejects: Any):
    # With a parent, so only the item_type rule can object.
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id,"
        " ref_item_id) VALUES (1, '3', $1, $2, $3)",
        item_type,
        home.root["id"],
        home.item["id"],
        error=CheckViolationError,
        constraint="vde_map_items_item_type_check",
        tables=TILES,
    )


def test_item_type_enum_holds_the_checked_values():
    assert sorted(MapItemType) == ["base", "user"]


async def test_user_tile_with_a_parent_is_rejected(home: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id,"
        " ref_item_id) VALUES (1, '3', 'user', $1, $2)",
        home.root["id"],
        home.item["id"],
        error=CheckViolationError,
        constraint="user_item_parent_constraint",
        tables=TILES,
    )


async def test_base_tile_without_a_parent_is_rejected(home: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, coord_group_id, item_type,"
        " ref_item_id) VALUES (1, 1, 'base', $1)",
        home.item["id"],
        error=CheckViolationError,
        constraint="null_parent_is_user_constraint",
        tables=TILES,
    )


async def test_removing_a_base_tiles_parent_is_rejected(
    home: Any, add_tile: Any, rejects: Any
):
    tile = await add_tile(home.root, 3)
    await rejects(
        "UPDATE vde_map_items SET parent_id = NULL WHERE id = $1",
        tile["id"],
        error=CheckViolationError,
        constraint="null_parent_is_user_constraint",
        tables=TILES,
    )


async def test_user_root_without_and_base_tile_with_a_parent_go_in(
    home: Any, add_tile: Any
):
    tile = await add_tile(home.root, 3)
    assert (home.root["item_type"], home.root["parent_id"]) == ("user", None)
    assert (tile["item_type"], tile["parent_id"]) == ("base", home.root["id"])


# --- base items and their versions -----------------------------------------------


async def test_deleting_a_base_item_in_use_is_rejected(
    home: Any, insert: Any, rejects: Any, vde_conn: asyncpg.Connection
):
    await insert(VERSIONS, **minimal_row(VERSIONS, home))
    # PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation (23001,
    # commit 086c84b23); older servers as foreign_key_violation (23503).
    restrict_error = (
        RestrictViolationError
        if vde_conn.get_server_version().major >= 18
        else ForeignKeyViolationError
    )
    await rejects(
        "DELETE FROM vde_base_items WHERE id = $1",
        home.item["id"],
        error=restrict_error,
        constraint="vde_map_items_ref_item_id_fkey",
        tables=[ITEMS, VERSIONS, TILES],
    )


async def test_deleting_an_unused_base_item_removes_its_versions(
    home: Any, insert: Any, vde_conn: asyncpg.Connection
):
    unused = await insert(ITEMS, owner_id=1, title="Draft", content="not on the map")
    for number in (1, 2):
        await insert(
            VERSIONS, owner_id=1, base_item_id=unused["id"], title="Draft",
            content=f"v{number}", version_number=number,
        )
    kept = await insert(VERSIONS, **minimal_row(VERSIONS, home))

    await vde_conn.execute("DELETE FROM vde_base_items WHERE id = $1", unused["id"])

    items = await vde_conn.fetchval("SELECT array_agg(id) FROM vde_base_items")
    versions = await vde_conn.fetchval(f"SELECT array_agg(id) FROM {VERSIONS}")
    assert (items, versions) == ([home.item["id"]], [kept["id"]])


async def test_duplicate_version_number_is_rejected(
    home: Any, insert: Any, rejects: Any
):
    await insert(VERSIONS, **minimal_row(VERSIONS, home))
    await rejects(
        "INSERT INTO vde_base_item_versions (owner_id, base_item_id, title,"
        " content, version_number) VALUES (1, $1, 'Ada', 'again', 1)",
        home.item["id"],
        error=UniqueViolationError,
        constraint="vde_base_item_versions_number_unique",
        tables=VERSIONS,
    )


@pytest.mark.parametrize("number", [0, -1, -(2**31)])
async def test_version_number_below_one_is_rejected(
    number: int, home: Any, rejects: Any
):
    await rejects(
        "INSERT INTO vde_base_item_versions (owner_id, base_item_id, title,"
        " content, version_number) VALUES (1, $1, 'Ada', 'v0', $2)",
        home.item["id"],
        number,
        error=CheckViolationError,
        constraint="vde_base_item_versions_number_positive",
        tables=VERSIONS,
    )


async def test_versions_numbered_per_item_go_in(
    home: Any, insert: Any, vde_conn: asyncpg.Connection
):
    other = await insert(ITEMS, owner_id=1, title="Notes", content="...")
    for item, number in [(home.item["id"], 1), (home.item["id"], 2), (other["id"], 1)]:
        await insert(
            VERSIONS, owner_id=1, base_item_id=item, title="t", content="c",
            version_number=number,
        )
    rows = await vde_conn.fetch(
        "SELECT base_item_id, version_number FROM vde_base_item_versions ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (home.item["id"], 1), (home.item["id"], 2), (other["id"], 1)
    ]


# --- tiles: what deleting one does -----------------------------------------------


async def test_deleting_a_tile_removes_its_subtree_and_keeps_its_copies(
    home: Any, grace: Row, insert: Any, add_tile: Any, vde_conn: asyncpg.Connection
):
    branch = await add_tile(home.root, 1)
    child = await add_tile(branch, 2)
    grandchild = await add_tile(child, 3)
    sibling = await add_tile(home.root, 4)
    # Grace's map holds copies of a doomed tile and of a surviving one.
    await insert(MAPPING, auth_user_id="u2", mapping_user_id=2)
    grace_item = await insert(ITEMS, owner_id=2, title="Grace", content="")
    other_root = await insert(
        TILES, coord_user_id=2, item_type="user", ref_item_id=grace_item["id"]
    )
    copy_of_doomed = await add_tile(other_root, 1, origin_id=grandchild["id"])
    copy_of_kept = await add_tile(other_root, 2, origin_id=sibling["id"])

    await vde_conn.execute("DELETE FROM vde_map_items WHERE id = $1", branch["id"])

    rows = await vde_conn.fetch("SELECT id, origin_id FROM vde_map_items ORDER BY id")
    assert {row["id"]: row["origin_id"] for row in rows} == {
        home.root["id"]: None,
        sibling["id"]: None,
        other_root["id"]: None,
        copy_of_doomed["id"]: None,
        copy_of_kept["id"]: sibling["id"],
    }


# --- user mapping ------------------------------------------------------------------


async def test_deleting_a_user_who_has_a_mapping_is_rejected(
    home: Any, insert: Any, rejects: Any
):
    await insert(
        "vde_accounts", id="a1", user_id="u1", account_id="ada",
        provider_id="credential",
    )
    await insert("vde_api_keys", id="k1", user_id="u1", key="h1")
    await rejects(
        "DELETE FROM vde_users WHERE id = 'u1'",
        error=ForeignKeyViolationError,
        constraint="vde_user_mapping_auth_user_id_fkey",
        # The cascades to accounts and keys are undone with the failed delete.
        tables=["vde_users", "vde_accounts", "vde_api_keys", MAPPING, TILES],
    )


async def test_user_can_go_once_the_mapping_is_gone(
    home: Any, vde_conn: asyncpg.Connection
):
    await vde_conn.execute("DELETE FROM vde_user_mapping WHERE auth_user_id = 'u1'")
    await vde_conn.execute("DELETE FROM vde_users WHERE id = 'u1'")
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_users") == 0


@pytest.mark.parametrize(
    ("auth_user_id", "mapping_user_id", "constraint"),
    [
        ("u1", 2, "vde_user_mapping_auth_user_id_key"),
        ("u2", 1, "vde_user_mapping_mapping_user_id_key"),
    ],
    ids=["user-mapped-twice", "owner-id-taken"],
)
async def test_second_mapping_is_rejected(
    auth_user_id: str, mapping_user_id: int, constraint: str,
    home: Any, grace: Row, rejects: Any,
):
    await rejects(
        "INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id) VALUES ($1, $2)",
        auth_user_id,
        mapping_user_id,
        error=UniqueViolationError,
        constraint=constraint,
        tables=MAPPING,
    )


async def test_mapping_of_unknown_user_is_rejected(home: Any, rejects: Any):
    await rejects(
        "INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id)"
        " VALUES ('nobody', 9)",
        error=ForeignKeyViolationError,
        constraint="vde_user_mapping_auth_user_id_fkey",
        tables=MAPPING,
    )


# --- defaults and updated_at ---------------------------------------------------------


@pytest.mark.parametrize("table", REQUIRED)
async def test_defaults(
    table: str,
    home: Any,
    grace: Row,
    grace_item: Row,
    insert: Any,
    vde_conn: asyncpg.Connection,
):
    async with vde_conn.transaction():
        row = await insert(table, **minimal_row(table, home, grace_item))
        now = await vde_conn.fetchval("SELECT now()")
    assert row["created_at"] == now
    assert row.get("updated_at", now) == now  # versions are immutable: no updated_at
    optional = {
        ITEMS: {"preview": None, "link": None},
        VERSIONS: {"preview": None, "link": None, "updated_by": None},
        TILES: {"coord_group_id": 0, "path": "", "origin_id": None, "parent_id": None},
        MAPPING: {},
    }[table]
    assert {name: row[name] for name in optional} == optional


@pytest.mark.parametrize(
    ("table_class", "values", "row_of_home"),
    [
        (BaseItem, {BaseItem.title: "Ada, again"}, "item"),
        (MapItem, {MapItem.coord_group_id: 5}, "root"),
        (UserMapping, {UserMapping.mapping_user_id: 7}, "mapping"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
async def test_update_through_piccolo_bumps_updated_at(
    table_class: type[Table], values: dict[Any, Any], row_of_home: str, home: Any,
    vde_conn: asyncpg.Connection,
):
    table = table_class._meta.tablename
    id_ = getattr(home, row_of_home)["id"]
    # Stamps in the past, so that the bump shows without sleeping.
    await vde_conn.execute(f"UPDATE {table} SET created_at = $1, updated_at = $1", PAST)

    await table_class.update(values).where(table_class._meta.primary_key == id_).run()

    row = await vde_conn.fetchrow(
        f"SELECT created_at, updated_at FROM {table} WHERE id = $1", id_
    )
    assert row is not None
    assert row["updated_at"] > PAST
    assert row["created_at"] == PAST


# --- the map owner in every key ------------------------------------------------


async def test_tile_showing_another_owners_content_is_rejected(
    home: Any, grace_item: Row, rejects: Any
):
    await rejects(
        "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id,"
        " ref_item_id) VALUES (1, '3', 'base', $1, $2)",
        home.root["id"],
        grace_item["id"],
        error=ForeignKeyViolationError,
        constraint="vde_map_items_ref_item_id_fkey",
        tables=[TILES, ITEMS],
    )


async def test_version_of_another_owners_base_item_is_rejected(
    home: Any, rejects: Any
):
    await rejects(
        "INSERT INTO vde_base_item_versions (owner_id, base_item_id, title,"
        " content, version_number) VALUES (2, $1, 'Ada', 'v1', 1)",
        home.item["id"],
        error=ForeignKeyViolationError,
        constraint="vde_base_item_versions_base_item_id_fkey",
        tables=[VERSIONS, ITEMS],
    )
