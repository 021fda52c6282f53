from __future__ import annotations

import dataclasses

import asyncpg
import pytest

from vde.errors import InvalidCoordinatesError, VdeError
from vde.mapping.coordinates import (
    MAX_DEPTH,
    MAX_PATH_LENGTH,
    Direction,
    MapCoordinates,
    format_path,
    parse_path,
)

DEEPEST = ",".join(["1"] * MAX_DEPTH)
GOOD_PATHS = ["", "0", "3", "6", "1,4,6", "2,0", "0,0,0", DEEPEST]
BAD_PATHS = [
    "1,,2",
    "7",
    "a",
    "1,",
    ",1",
    ",",
    " 3",
    "3 ",
    "3\n",
    "12",
    "1;2",
    "-1",
    "١",  # an Arabic-Indic digit one: a digit to Python, not a direction
    DEEPEST + ",1",
]


def test_directions_are_numbered_as_the_path_stores_them():
    assert [(d.name, d.value) for d in Direction] == [
        ("CENTER", 0),
        ("NW", 1),
        ("NE", 2),
        ("E", 3),
        ("SE", 4),
        ("SW", 5),
        ("W", 6),
    ]


@pytest.mark.parametrize(
    ("text", "directions"),
    [
        ("", ()),
        ("3", (Direction.E,)),
        ("1,4,6", (Direction.NW, Direction.SE, Direction.W)),
        ("2,0", (Direction.NE, Direction.CENTER)),
    ],
)
def test_path_parses_and_formats_back(text, directions):
    assert parse_path(text) == directions
    assert format_path(directions) == text
    assert format_path([int(d) for d in directions]) == text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("1,,2", "step 2 is empty"),
        ("1,", "step 2 is empty"),
        (",1", "step 1 is empty"),
        ("7", "step 1 is '7', not a direction 0-6"),
        ("1,a", "step 2 is 'a', not a direction 0-6"),
        ("3\n", "step 1 is '3\\n', not a direction 0-6"),
        (DEEPEST + ",1", f"the limit is {MAX_PATH_LENGTH}"),
    ],
)
def test_bad_path_is_refused_saying_what_is_wrong(path, message):
    with pytest.raises(ValueError) as caught:
        parse_path(path)
    assert message in str(caught.value)
    with pytest.raises(ValueError) as caught_again:
        MapCoordinates(1, 0, path)
    assert message in str(caught_again.value)


@pytest.mark.parametrize("step", [7, -1, True, "3", 2.0, None])
def test_bad_direction_is_refused(step):
    with pytest.raises(ValueError, match="direction must be an integer 0-6"):
        format_path([1, step])
    with pytest.raises(ValueError, match="direction must be an integer 0-6"):
        MapCoordinates(1).child(step)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("user_id", "1", "user_id must be an integer"),
        ("user_id", True, "user_id must be an integer"),
        ("user_id", 2**31, "does not fit"),
        ("group_id", -(2**31) - 1, "does not fit"),
        ("path", None, "path must be a string"),
        ("path", ("1",), "path must be a string"),
    ],
)
def test_bad_coordinate_values_are_refused(field, value, message):
    values = {"user_id": 1, "group_id": 0, "path": ""} | {field: value}
    with pytest.raises(ValueError, match=message):
        MapCoordinates(**values)


def test_coordinates_are_immutable_and_hashable():
    coords = MapCoordinates(5, 2, "1,4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        coords.path = "1"  # type: ignore[misc]
    assert {coords, MapCoordinates(5, 2, "1,4")} == {coords}


def test_root_has_no_parent_and_depth_zero():
    root = MapCoordinates.root(5, 2)
    assert root == MapCoordinates(5, 2, "")
    assert root.is_root
    assert root.depth == 0
    assert root.parent is None
    assert root.directions == ()


def test_child_and_parent_walk_the_path():
    root = MapCoordinates.root(5)
    tile = root.child(Direction.NW).child(4).child(Direction.W)
    assert tile == MapCoordinates(5, 0, "1,4,6")
    assert tile.depth == 3
    assert not tile.is_root
    assert tile.directions == (Direction.NW, Direction.SE, Direction.W)
    assert tile.parent == MapCoordinates(5, 0, "1,4")
    assert tile.parent.parent == MapCoordinates(5, 0, "1")
    assert tile.parent.parent.parent == root
    assert MapCoordinates.from_directions(5, 0, tile.directions) == tile


def test_child_below_the_deepest_tile_is_refused():
    deepest = MapCoordinates(1, 0, DEEPEST)
    assert deepest.depth == MAX_DEPTH
    with pytest.raises(ValueError, match=f"the limit is {MAX_PATH_LENGTH}"):
        deepest.child(Direction.E)


def test_coordinates_read_from_a_row():
    row = {"coord_user_id": 7, "coord_group_id": 1, "path": "2,0", "id": 3}
    assert MapCoordinates.from_row(row) == MapCoordinates(7, 1, "2,0")


def test_descendant_bounds_of_a_tile_hold_exactly_its_subtree():
    lower, upper = MapCoordinates(1, 0, "1,4").descendant_bounds()
    assert (lower, upper) == ("1,4,", "1,4-")
    paths = ["", "1", "1,4", "1,4,0", "1,4,6", "1,4,6,6,6", "1,40", "1,5", "1,3,6", "2"]
    # Python's str comparison is code point order, which is collation "C"'s here.
    inside = [p for p in paths if lower <= p < upper]
    assert inside == ["1,4,0", "1,4,6", "1,4,6,6,6"]


def test_descendant_bounds_of_the_root_hold_every_other_tile():
    lower, upper = MapCoordinates.root(1).descendant_bounds()
    assert (lower, upper) == ("0", "7")
    paths = ["", "0", "0,6", "3", "6", "6,6,6", DEEPEST]
    assert [p for p in paths if lower <= p < upper] == paths[1:]


@pytest.mark.parametrize(
    ("path", "generations", "limit"),
    [
        ("", 0, 0),
        ("", 1, 1),
        ("", 2, 3),
        ("1,4", 1, 5),
        ("1,4", 3, 9),
        ("1,4", None, MAX_PATH_LENGTH),
        ("1,4", 10**9, MAX_PATH_LENGTH),
    ],
)
def test_descendant_length_limit_counts_generations(path, generations, limit):
    assert MapCoordinates(1, 0, path).descendant_length_limit(generations) == limit


@pytest.mark.parametrize("generations", [-1, True, 1.5])
def test_bad_generations_are_refused(generations):
    with pytest.raises(ValueError, match="generations must be"):
        MapCoordinates(1).descendant_length_limit(generations)


async def test_python_and_the_database_accept_the_same_paths(vde_conn):
    """Each path goes through the table's own CHECKs and varchar(255).

    A temporary copy (``LIKE ... INCLUDING CONSTRAINTS``) keeps the column types,
    collation and CHECK constraints by name, but no triggers or foreign keys, so
    a path is judged by the format rule alone, not by the tree it would sit in.
    """
    await vde_conn.execute(
        "CREATE TEMPORARY TABLE probe (LIKE vde_map_items INCLUDING CONSTRAINTS)"
    )
    database_accepts = {}
    for number, path in enumerate(GOOD_PATHS + BAD_PATHS, start=1):
        try:
            await vde_conn.execute(
                "INSERT INTO probe (id, coord_user_id, coord_group_id, path,"
                " item_type, parent_id, ref_item_id, created_at, updated_at)"
                " VALUES ($1, 1, 0, $2, 'base', 1, 1, now(), now())",
                number,
                path,
            )
            database_accepts[path] = True
        except asyncpg.CheckViolationError as exc:
            assert exc.constraint_name == "vde_map_items_path_format"
            database_accepts[path] = False
        except asyncpg.StringDataRightTruncationError:
            database_accepts[path] = False
    python_accepts = {path: _python_accepts(path) for path in database_accepts}
    assert python_accepts == database_accepts
    assert [p for p, ok in database_accepts.items() if ok] == GOOD_PATHS
    assert await vde_conn.fetchval("SELECT count(*) FROM probe") == len(GOOD_PATHS)


def _python_accepts(path: str) -> bool:
    try:
        MapCoordinates(1, 0, path)
    except ValueError:
        return False
    return True


def test_a_long_path_is_refused_for_its_length_before_its_pattern():
    """A 10,000-character path of junk: "too long", and the message stays short."""
    junk = "x" * 10_000
    with pytest.raises(InvalidCoordinatesError, match="10000 characters long") as error:
        MapCoordinates(1, 0, junk)
    assert "x" * 100 not in str(error.value)
    assert isinstance(error.value, VdeError) and isinstance(error.value, ValueError)


def test_bad_input_echoed_in_a_message_is_cut_to_about_80_characters():
    bad = "1," + "9" * 200  # short enough to reach the pattern check
    with pytest.raises(InvalidCoordinatesError) as error:
        MapCoordinates(1, 0, bad)
    message = str(error.value)
    assert "…" in message and "(202 characters)" in message
    assert len(message) < 2 * 80 + 100
    with pytest.raises(InvalidCoordinatesError) as error:
        MapCoordinates("9" * 500, 0, "")  # type: ignore[arg-type]
    assert len(str(error.value)) < 150
