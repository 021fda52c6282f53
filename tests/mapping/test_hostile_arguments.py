"""Every operation ``vde.mapping`` exports refuses hostile arguments with a VdeError.

The table below names each operation's arguments by kind; each kind has its
hostile values (NUL and lone surrogates in text, ids past PostgreSQL's integer,
a 10 MB or unknown user id, a non-coordinate, limits past bigint or given as
bools) and the exact error each must raise. Every case checks that the error is
short, that no SQL ran before it (an unknown user needs one look-up), and that
no row of any map or user table changed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

import vde.mapping
from tests.conftest import table_rows
from vde.errors import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidCoordinatesError,
    UserNotFoundError,
    VdeError,
)
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    descendants,
    history,
    mapping_user_id_for,
    move_subtree,
    neighbourhood,
    queries,
    relations,
    swap_tiles,
    tile_at,
    update_content,
)
from vde.mapping.arguments import MAX_PAGE_SIZE, MAX_USER_ID_LENGTH
from vde.mapping.versions import append_version

WATCHED = (
    "vde_users",
    "vde_user_mapping",
    "vde_base_items",
    "vde_base_item_versions",
    "vde_map_items",
)
#: Longest message a refusal may have (input it repeats is cut to ~80 characters).
SHORT = 300


@dataclass(frozen=True)
class Map:
    """User 'u1' (owner 1) with tiles at '1' (and '1,0' below it) and '2'."""

    user: str
    root: MapCoordinates
    tile: Tile
    other: MapCoordinates
    free: MapCoordinates


@pytest.fixture
async def home_map(home: Any, add_tile: Any, vde_conn: asyncpg.Connection) -> Map:
    one = await add_tile(home.root, 1)
    await add_tile(one, 0)
    await add_tile(home.root, 2)
    tile = await tile_at(vde_conn, MapCoordinates(1, 0, "1"))
    assert tile is not None
    return Map(
        "u1",
        MapCoordinates.root(1),
        tile,
        MapCoordinates(1, 0, "2"),
        MapCoordinates(1, 0, "3"),
    )


@dataclass(frozen=True)
class FromMap:
    """A hostile value made from the test's map (a ``Tile`` with a bad field)."""

    make: Callable[[Map], Any]


Kind = list[tuple[str, Any, type[VdeError]]]

TEXT: Kind = [
    ("nul", "a\x00b", InvalidArgumentError),
    ("lone-surrogate", "a\ud800b", InvalidArgumentError),
    ("int", 5, InvalidArgumentTypeError),
    ("bytes", b"ab", InvalidArgumentTypeError),
]
HOSTILE: dict[str, Kind] = {
    "text": [*TEXT, ("none", None, InvalidArgumentTypeError)],
    "optional text": TEXT,
    "user id": [
        ("unknown", "nobody", UserNotFoundError),
        ("10-MB", "u" * 10_000_000, InvalidArgumentError),
        ("past-limit", "u" * (MAX_USER_ID_LENGTH + 1), InvalidArgumentError),
        ("empty", "", InvalidArgumentError),
        ("nul", "u\x001", InvalidArgumentError),
        ("lone-surrogate", "u\udc001", InvalidArgumentError),
        ("int", 1, InvalidArgumentTypeError),
        ("none", None, InvalidArgumentTypeError),
    ],
    "map number": [
        ("2**31", 2**31, InvalidCoordinatesError),
        ("below-int4", -(2**31) - 1, InvalidCoordinatesError),
        ("bool", True, InvalidCoordinatesError),
        ("str", "0", InvalidCoordinatesError),
    ],
    "coordinates": [
        ("str", "1", InvalidArgumentTypeError),
        ("tuple", (1, 0, "1"), InvalidArgumentTypeError),
        ("id", 1, InvalidArgumentTypeError),
        ("none", None, InvalidArgumentTypeError),
    ],
    "tile": [
        ("bare-id", 1, InvalidArgumentError),
        ("id-2**31", 2**31, InvalidArgumentError),
        ("id-2**63", 2**63, InvalidArgumentError),
        ("id-0", 0, InvalidArgumentError),
        ("id--1", -1, InvalidArgumentError),
        ("bool", True, InvalidArgumentTypeError),
        ("str", "1", InvalidArgumentTypeError),
        ("float", 1.0, InvalidArgumentTypeError),
        ("none", None, InvalidArgumentTypeError),
        (
            "Tile-id-2**31",
            FromMap(lambda m: m.tile.model_copy(update={"id": 2**31})),
            InvalidArgumentError,
        ),
        (
            "Tile-owner-2**31",
            FromMap(lambda m: m.tile.model_copy(update={"coord_user_id": 2**31})),
            InvalidCoordinatesError,
        ),
    ],
    "flag": [
        ("str", "no", InvalidArgumentTypeError),
        ("int", 0, InvalidArgumentTypeError),
        ("none", None, InvalidArgumentTypeError),
    ],
    "limit": [
        ("2**63", 2**63, InvalidArgumentError),
        ("past-max", MAX_PAGE_SIZE + 1, InvalidArgumentError),
        ("0", 0, InvalidArgumentError),
        ("-1", -1, InvalidArgumentError),
        ("bool", True, InvalidArgumentTypeError),
        ("float", 1.5, InvalidArgumentTypeError),
        ("str", "10", InvalidArgumentTypeError),
    ],
    "offset": [
        ("2**63", 2**63, InvalidArgumentError),
        ("-1", -1, InvalidArgumentError),
        ("bool", True, InvalidArgumentTypeError),
        ("float", 1.5, InvalidArgumentTypeError),
    ],
    "generations": [
        ("-1", -1, InvalidArgumentError),
        ("bool", True, InvalidArgumentTypeError),
        ("str", "1", InvalidArgumentTypeError),
    ],
}
HOSTILE["target"] = HOSTILE["coordinates"]
HOSTILE["generation count"] = [
    *HOSTILE["generations"],
    ("none", None, InvalidArgumentTypeError),
    ("float", 2.0, InvalidArgumentTypeError),
]

#: Each operation: its valid arguments (after the executor) and their kinds.
CALLS: dict[str, tuple[Callable[..., Any], Callable[[Map], dict[str, Any]]]] = {
    "mapping_user_id_for": (mapping_user_id_for, lambda m: {"auth_user_id": m.user}),
    "create_map": (
        create_map,
        lambda m: {
            "auth_user_id": m.user,
            "title": "t",
            "content": "c",
            "group_id": 1,
            "preview": None,
            "link": "l",
        },
    ),
    "add_tile": (
        add_tile,
        lambda m: {
            "coords": m.free,
            "title": "t",
            "content": "c",
            "preview": "p",
            "link": None,
        },
    ),
    "update_content": (
        update_content,
        lambda m: {
            "tile": m.tile,
            "title": "t",
            "content": "c",
            "preview": "p",
            "link": None,
            "updated_by": m.user,
        },
    ),
    "history": (history, lambda m: {"tile": m.tile}),
    "move_subtree": (move_subtree, lambda m: {"tile": m.tile, "target": m.free}),
    "swap_tiles": (swap_tiles, lambda m: {"a": m.tile, "b": m.other}),
    "copy_subtree": (
        copy_subtree,
        lambda m: {"source": m.tile, "target": m.free, "clone_content": False},
    ),
    "delete_subtree": (
        delete_subtree,
        lambda m: {"tile": m.tile, "delete_unused_content": True},
    ),
    "tile_at": (tile_at, lambda m: {"coords": m.other}),
    "descendants": (
        descendants,
        lambda m: {"coords": m.root, "generations": 2, "limit": 10, "offset": 1},
    ),
    "neighbourhood": (
        neighbourhood,
        lambda m: {"coords": m.root, "generations": 2},
    ),
}
KINDS: dict[str, dict[str, str]] = {
    "mapping_user_id_for": {"auth_user_id": "user id"},
    "create_map": {
        "auth_user_id": "user id",
        "title": "text",
        "content": "text",
        "group_id": "map number",
        "preview": "optional text",
        "link": "optional text",
    },
    "add_tile": {
        "coords": "coordinates",
        "title": "text",
        "content": "text",
        "preview": "optional text",
        "link": "optional text",
    },
    "update_content": {
        "tile": "tile",
        "title": "text",
        "content": "text",
        "preview": "optional text",
        "link": "optional text",
        "updated_by": "optional text",
    },
    "history": {"tile": "tile"},
    "move_subtree": {"tile": "tile", "target": "target"},
    "swap_tiles": {"a": "tile", "b": "tile"},
    "copy_subtree": {"source": "tile", "target": "target", "clone_content": "flag"},
    "delete_subtree": {"tile": "tile", "delete_unused_content": "flag"},
    "tile_at": {"coords": "coordinates"},
    "descendants": {
        "coords": "coordinates",
        "generations": "generations",
        "limit": "limit",
        "offset": "offset",
    },
    "neighbourhood": {"coords": "coordinates", "generations": "generation count"},
}
CASES = [
    pytest.param(name, argument, value, error, id=f"{name}-{argument}-{label}")
    for name, arguments in KINDS.items()
    for argument, kind in arguments.items()
    for label, value, error in HOSTILE[kind]
]


def test_the_table_names_every_operation_and_argument() -> None:
    """A new operation or argument fails here until the table gives it a kind."""
    exported = {
        name
        for name in vde.mapping.__all__
        if inspect.iscoroutinefunction(getattr(vde.mapping, name))
    }
    assert exported == set(CALLS) == set(KINDS)
    for name, (function, _) in CALLS.items():
        arguments = list(inspect.signature(function).parameters)
        assert arguments[0] == "executor"
        assert set(arguments[1:]) == set(KINDS[name]), name


@pytest.mark.parametrize("name", list(CALLS))
async def test_the_valid_call_runs(
    name: str, home_map: Map, vde_conn: asyncpg.Connection
) -> None:
    """The hostile cases change one argument of a call that works."""
    function, valid = CALLS[name]
    await function(vde_conn, **valid(home_map))


async def snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {table: await table_rows(conn, table) for table in WATCHED}


@pytest.mark.parametrize(("name", "argument", "value", "error"), CASES)
async def test_a_hostile_argument_is_refused_with_a_vde_error(
    name: str,
    argument: str,
    value: Any,
    error: type[VdeError],
    home_map: Map,
    vde_conn: asyncpg.Connection,
) -> None:
    function, valid = CALLS[name]
    arguments = valid(home_map)
    arguments[argument] = value.make(home_map) if isinstance(value, FromMap) else value
    before = await snapshot(vde_conn)
    sent: list[str] = []
    with vde_conn.query_logger(lambda record: sent.append(record.query)):
        with pytest.raises(VdeError) as caught:
            await function(vde_conn, **arguments)
        await asyncio.sleep(0)  # loggers are called soon, not at once
    assert type(caught.value) is error, caught.value
    assert argument in str(caught.value) or error is UserNotFoundError
    assert len(str(caught.value)) <= SHORT, str(caught.value)
    if error is not UserNotFoundError:
        assert sent == [], "checked before any SQL"
    assert await snapshot(vde_conn) == before


#: The other public helpers of the mapping app, each with one hostile argument.
HELPERS = [
    pytest.param(queries.map_root, (2**31,), InvalidCoordinatesError, id="map_root"),
    pytest.param(queries.map_roots, (True,), InvalidCoordinatesError, id="map_roots"),
    pytest.param(queries.children, (1, 2**31), InvalidArgumentError, id="children"),
    pytest.param(
        queries.children, (2**31, 1), InvalidCoordinatesError, id="children-owner"
    ),
    pytest.param(queries.copies, (1, True), InvalidArgumentTypeError, id="copies"),
    pytest.param(queries.copies, ("1", 1), InvalidCoordinatesError, id="copies-owner"),
    pytest.param(queries.versions, (1, 2**63), InvalidArgumentError, id="versions"),
    pytest.param(
        queries.versions, (None, 1), InvalidCoordinatesError, id="versions-owner"
    ),
    pytest.param(
        append_version,
        (1, 2**31, "t", "c"),
        InvalidArgumentError,
        id="append_version-id",
    ),
    pytest.param(
        append_version,
        (1, 1, "t\x00", "c"),
        InvalidArgumentError,
        id="append_version-text",
    ),
    pytest.param(
        append_version,
        (1, 1, "t", "c", None, None, "\udfff"),
        InvalidArgumentError,
        id="append_version-updated_by",
    ),
    pytest.param(
        append_version,
        ("1", 1, "t", "c"),
        InvalidCoordinatesError,
        id="append_version-owner",
    ),
]
RELATIONS = [
    pytest.param(
        relations.children_of, (7, 2**31), InvalidArgumentError, id="children_of"
    ),
    pytest.param(
        relations.children_of,
        (None, 1),
        InvalidCoordinatesError,
        id="children_of-owner",
    ),
    pytest.param(
        relations.copies_of, (7, "1"), InvalidArgumentTypeError, id="copies_of"
    ),
    pytest.param(
        relations.copies_of, (True, 1), InvalidCoordinatesError, id="copies_of-owner"
    ),
    pytest.param(
        relations.tiles_showing, (7, 0), InvalidArgumentError, id="tiles_showing"
    ),
    pytest.param(
        relations.tiles_showing,
        (2**31, 1),
        InvalidCoordinatesError,
        id="tiles_showing-owner",
    ),
    pytest.param(
        relations.versions_of, (7, 2**63), InvalidArgumentError, id="versions_of"
    ),
    pytest.param(
        relations.versions_of, ("7", 1), InvalidCoordinatesError, id="versions_of-owner"
    ),
    pytest.param(
        relations.user_mapping_of,
        ("u\x00",),
        InvalidArgumentError,
        id="user_mapping_of",
    ),
]


@pytest.mark.parametrize(("helper", "arguments", "error"), HELPERS)
async def test_the_other_helpers_refuse_hostile_arguments_before_any_sql(
    helper: Callable[..., Any],
    arguments: tuple[Any, ...],
    error: type[VdeError],
    home_map: Map,
    vde_conn: asyncpg.Connection,
) -> None:
    before = await snapshot(vde_conn)
    sent: list[str] = []
    with vde_conn.query_logger(lambda record: sent.append(record.query)):
        with pytest.raises(VdeError) as caught:
            await helper(vde_conn, *arguments)
        await asyncio.sleep(0)
    assert type(caught.value) is error, caught.value
    assert sent == []
    assert await snapshot(vde_conn) == before


@pytest.mark.parametrize(("relation", "arguments", "error"), RELATIONS)
def test_the_relations_refuse_hostile_arguments_when_built(
    relation: Callable[..., Any], arguments: tuple[Any, ...], error: type[VdeError]
) -> None:
    with pytest.raises(VdeError) as caught:
        relation(*arguments)
    assert type(caught.value) is error, caught.value
