from __future__ import annotations

import re
from typing import Any

import pytest
import pytest_asyncio

from tests.typed_rows import by_column
from vde.errors import InvalidArgumentError
from vde.mapping import queries as typed_queries
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.deletes import CLEAR_ORIGINS_SQL
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.testing.plans import explain, indexes_used, loaded_database, nodes, seq_scanned

#: The helpers' typed rows, checked, then read as dicts by column name.
queries = by_column(typed_queries, Tile, BaseItemVersionRead)

TILE_COLUMNS = [
    "id",
    "coord_user_id",
    "coord_group_id",
    "path",
    "item_type",
    "origin_id",
    "parent_id",
    "ref_item_id",
    "created_at",
    "updated_at",
    "title",
    "content",
    "preview",
    "link",
]
#: Tables a query of this module must never read whole.
WATCHED = {"vde_map_items"}


class SmallMap:
    """Tiles written with raw SQL, parent first; ``ids[(user, group, path)]``."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.ids: dict[tuple[int, int, str], int] = {}

    async def tile(
        self, user: int, group: int, path: str, origin: int | None = None
    ) -> int:
        coords = MapCoordinates(user, group, path)
        parent = coords.parent
        base = await self.conn.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content, preview) "
            "VALUES ($4, $1, $2, $3) RETURNING id",
            _title(user, group, path),
            f"content of {path or 'root'}",
            "p" if path == "1" else None,
            user,
        )
        tile = await self.conn.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, coord_group_id, path,"
            " item_type, parent_id, origin_id, ref_item_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            user,
            group,
            path,
            "user" if coords.is_root else "base",
            None if parent is None else self.ids[(user, group, parent.path)],
            origin,
            base,
        )
        self.ids[(user, group, path)] = tile
        return tile


def _title(user: int, group: int, path: str) -> str:
    return f"{user}/{group}:{path or 'root'}"


#: User 1's map 0, in insertion order (not path order); '1,5' sits right after
#: the '1,4' subtree in byte order, '3' after the whole '1' subtree.
MAP_PATHS = ["", "3", "1", "1,5", "1,4", "1,0", "1,4,6", "3,2", "1,4,6,5", "1,4,1"]


@pytest.fixture
async def small_map(vde_conn) -> SmallMap:
    built = SmallMap(vde_conn)
    for path in MAP_PATHS:
        await built.tile(1, 0, path)
    await built.tile(1, 2, "")
    await built.tile(1, 2, "1", origin=built.ids[(1, 0, "1")])
    await built.tile(1, 1, "")
    await built.tile(1, 1, "1", origin=built.ids[(1, 0, "1")])
    await built.tile(2, 0, "")
    await built.tile(2, 0, "1")
    return built


def _summary(rows: list[Any]) -> list[tuple[int, int, str, str]]:
    """(user, group, path, title) of each row, in order."""
    return [
        (r["coord_user_id"], r["coord_group_id"], r["path"], r["title"]) for r in rows
    ]


def _tiles(*paths: str, user: int = 1, group: int = 0) -> list[tuple[Any, ...]]:
    return [(user, group, p, _title(user, group, p)) for p in paths]


async def test_map_root_is_the_user_tile_of_the_map_with_its_base_item(
    vde_conn, small_map
):
    row = await queries.map_root(vde_conn, 1, 2)
    assert row is not None
    assert list(row.keys()) == TILE_COLUMNS
    base = await vde_conn.fetchrow(
        "SELECT * FROM vde_base_items WHERE id = $1", row["ref_item_id"]
    )
    assert dict(row) | {"created_at": None, "updated_at": None} == {
        "id": small_map.ids[(1, 2, "")],
        "coord_user_id": 1,
        "coord_group_id": 2,
        "path": "",
        "item_type": "user",
        "origin_id": None,
        "parent_id": None,
        "ref_item_id": base["id"],
        "created_at": None,
        "updated_at": None,
        "title": "1/2:root",
        "content": "content of root",
        "preview": None,
        "link": None,
    }
    assert await queries.map_root(vde_conn, 1, 3) is None
    assert await queries.map_root(vde_conn, 3, 0) is None


async def test_map_root_defaults_to_group_zero(vde_conn, small_map):
    row = await queries.map_root(vde_conn, 2)
    assert row is not None
    assert row["id"] == small_map.ids[(2, 0, "")]


async def test_map_roots_of_a_user_are_ordered_by_group(vde_conn, small_map):
    rows = await queries.map_roots(vde_conn, 1)
    assert [list(r.keys()) for r in rows] == [TILE_COLUMNS] * 3
    assert _summary(rows) == [
        (1, 0, "", "1/0:root"),
        (1, 1, "", "1/1:root"),
        (1, 2, "", "1/2:root"),
    ]
    assert await queries.map_roots(vde_conn, 3) == []


async def test_tile_at_finds_the_tile_on_those_coordinates_only(vde_conn, small_map):
    row = await queries.tile_at(vde_conn, MapCoordinates(1, 0, "1,4"))
    assert row is not None
    assert list(row.keys()) == TILE_COLUMNS
    assert _summary([row]) == _tiles("1,4")
    assert row["parent_id"] == small_map.ids[(1, 0, "1")]
    assert row["item_type"] == "base"
    assert await queries.tile_at(vde_conn, MapCoordinates(1, 0, "1,4,2")) is None
    assert await queries.tile_at(vde_conn, MapCoordinates(2, 0, "1,4")) is None
    assert await queries.tile_at(vde_conn, MapCoordinates(1, 5, "1,4")) is None


async def test_descendants_are_ordered_by_depth_then_path(vde_conn, small_map):
    of_root = await queries.descendants(vde_conn, MapCoordinates(1, 0))
    assert [list(r.keys()) for r in of_root] == [TILE_COLUMNS] * 9
    assert _summary(of_root) == _tiles(
        "1", "3", "1,0", "1,4", "1,5", "3,2", "1,4,1", "1,4,6", "1,4,6,5"
    )
    of_one = await queries.descendants(vde_conn, MapCoordinates(1, 0, "1"))
    assert _summary(of_one) == _tiles("1,0", "1,4", "1,5", "1,4,1", "1,4,6", "1,4,6,5")


async def test_descendants_leave_out_the_tile_and_its_byte_order_neighbours(
    vde_conn, small_map
):
    rows = await queries.descendants(vde_conn, MapCoordinates(1, 0, "1,4"))
    assert _summary(rows) == _tiles("1,4,1", "1,4,6", "1,4,6,5")
    leaf = await queries.descendants(vde_conn, MapCoordinates(1, 0, "1,4,6,5"))
    assert leaf == []
    other_map = await queries.descendants(vde_conn, MapCoordinates(1, 2))
    assert _summary(other_map) == _tiles("1", group=2)


async def test_descendants_with_the_same_path_order_by_id(vde_conn, small_map):
    """Paths are unique per map, so only across maps could ids decide: never here."""
    rows = await queries.descendants(vde_conn, MapCoordinates(1, 0))
    keys = [(len(r["path"]), r["path"], r["id"]) for r in rows]
    assert keys == sorted(keys)


async def test_descendants_limited_to_generations(vde_conn, small_map):
    root = MapCoordinates(1, 0)
    assert await queries.descendants(vde_conn, root, generations=0) == []
    one = await queries.descendants(vde_conn, root, generations=1)
    assert _summary(one) == _tiles("1", "3")
    two = await queries.descendants(vde_conn, root, generations=2)
    assert _summary(two) == _tiles("1", "3", "1,0", "1,4", "1,5", "3,2")
    below = await queries.descendants(
        vde_conn, MapCoordinates(1, 0, "1,4"), generations=1
    )
    assert _summary(below) == _tiles("1,4,1", "1,4,6")


async def test_descendants_page_by_limit_and_offset(vde_conn, small_map):
    root = MapCoordinates(1, 0)
    first = await queries.descendants(vde_conn, root, limit=4)
    assert _summary(first) == _tiles("1", "3", "1,0", "1,4")
    second = await queries.descendants(vde_conn, root, limit=4, offset=4)
    assert _summary(second) == _tiles("1,5", "3,2", "1,4,1", "1,4,6")
    last = await queries.descendants(vde_conn, root, generations=2, offset=5)
    assert _summary(last) == _tiles("3,2")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"limit": -1}, "limit must be from 1 to 10000"),
        ({"offset": -1}, "offset must be from 0 to 2147483647"),
        ({"generations": -1}, "generations must be 0 or more"),
    ],
)
async def test_descendants_refuse_negative_bounds(vde_conn, arguments, message):
    with pytest.raises(InvalidArgumentError, match=message):
        await queries.descendants(vde_conn, MapCoordinates(1, 0), **arguments)


async def test_children_are_the_tiles_one_step_below_by_path(vde_conn, small_map):
    rows = await queries.children(vde_conn, 1, small_map.ids[(1, 0, "1")])
    assert [list(r.keys()) for r in rows] == [TILE_COLUMNS] * 3
    assert _summary(rows) == _tiles("1,0", "1,4", "1,5")
    assert {r["parent_id"] for r in rows} == {small_map.ids[(1, 0, "1")]}
    root = await queries.children(vde_conn, 1, small_map.ids[(1, 0, "")])
    assert _summary(root) == _tiles("1", "3")
    assert await queries.children(vde_conn, 1, small_map.ids[(1, 0, "1,4,1")]) == []


async def test_copies_are_the_tiles_with_that_origin_oldest_first(vde_conn, small_map):
    original = small_map.ids[(1, 0, "1")]
    rows = await queries.copies(vde_conn, 1, original)
    assert [list(r.keys()) for r in rows] == [TILE_COLUMNS] * 2
    assert [r["id"] for r in rows] == [
        small_map.ids[(1, 2, "1")],
        small_map.ids[(1, 1, "1")],
    ]
    assert _summary(rows) == _tiles("1", group=2) + _tiles("1", group=1)
    assert {r["origin_id"] for r in rows} == {original}
    assert await queries.copies(vde_conn, 1, small_map.ids[(1, 0, "3")]) == []


async def test_versions_of_a_base_item_are_newest_first(vde_conn):
    item, other = [
        await vde_conn.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content)"
            " VALUES (1, $1, 'c') RETURNING id",
            title,
        )
        for title in ("item", "other")
    ]
    for number in (2, 1, 3):
        await vde_conn.execute(
            "INSERT INTO vde_base_item_versions"
            " (owner_id, base_item_id, title, content, version_number, updated_by)"
            " VALUES (1, $1, $2, 'c', $3, 'u1')",
            item,
            f"v{number}",
            number,
        )
    await vde_conn.execute(
        "INSERT INTO vde_base_item_versions (owner_id, base_item_id, title,"
        " content, version_number) VALUES (1, $1, 'other v1', 'c', 1)",
        other,
    )
    rows = await queries.versions(vde_conn, 1, item)
    assert [list(r.keys()) for r in rows] == [
        [
            "id",
            "owner_id",
            "base_item_id",
            "title",
            "content",
            "preview",
            "link",
            "version_number",
            "created_at",
            "updated_by",
        ]
    ] * 3
    assert [(r["base_item_id"], r["version_number"], r["title"]) for r in rows] == [
        (item, 3, "v3"),
        (item, 2, "v2"),
        (item, 1, "v1"),
    ]
    assert await queries.versions(vde_conn, 1, other + 1) == []
    assert await queries.versions(vde_conn, 2, item) == []


# -- Plans on a big map -------------------------------------------------------

#: 40 users x 2 maps x 259 tiles (root, 3 generations of 6) = 20,720 tiles, a
#: proper tree in one statement; map 1 of each user copies map 0 (origin_id).
#: 5,000 base items have 4 versions each.
BIG_MAP_SQL = """
CREATE TEMPORARY TABLE big_coords AS
WITH d AS (SELECT s::text AS d FROM generate_series(1, 6) s),
paths AS (
    SELECT '' AS path
    UNION ALL SELECT a.d FROM d a
    UNION ALL SELECT a.d || ',' || b.d FROM d a, d b
    UNION ALL SELECT a.d || ',' || b.d || ',' || c.d FROM d a, d b, d c
)
SELECT (row_number() OVER (ORDER BY u, g, length(path), path))::int AS id,
       u, g, path
FROM generate_series(1, 40) u, generate_series(0, 1) g, paths;

INSERT INTO vde_base_items (id, owner_id, title, content)
SELECT id, u, 'title ' || id, 'content ' || id FROM big_coords;

INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path, item_type,
                           parent_id, origin_id, ref_item_id)
SELECT c.id, c.u, c.g, c.path, CASE WHEN c.path = '' THEN 'user' ELSE 'base' END,
       p.id, o.id, c.id
FROM big_coords c
LEFT JOIN big_coords p
  ON c.path <> '' AND p.u = c.u AND p.g = c.g
 AND p.path = CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END
LEFT JOIN big_coords o
  ON c.g = 1 AND c.path <> '' AND o.u = c.u AND o.g = 0 AND o.path = c.path
ORDER BY c.id;

INSERT INTO vde_base_item_versions
    (owner_id, base_item_id, title, content, version_number)
SELECT b.owner_id, b.id, 'title', 'content', n
FROM vde_base_items b, generate_series(1, 4) n WHERE b.id <= 5000;

DROP TABLE big_coords;
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def big_map(vde_template):
    async with loaded_database(vde_template, BIG_MAP_SQL) as conn:
        assert await conn.fetchval("SELECT count(*) FROM vde_map_items") == 20_720
        yield conn


async def _tile_id(conn: Any, user: int, group: int, path: str) -> int:
    row = await queries.tile_at(conn, MapCoordinates(user, group, path))
    assert row is not None
    return int(row["id"])


def _descendant_args(
    coords: MapCoordinates, generations: int | None, limit: int | None
) -> tuple[Any, ...]:
    lower, upper = coords.descendant_bounds()
    limit_length = coords.descendant_length_limit(generations)
    return (coords.user_id, coords.group_id, lower, upper, limit_length, limit, 0)


#: query -> (SQL, arguments (a tile id is given as its coordinates), the index)
PLAN_CASES: dict[str, tuple[str, tuple[Any, ...], str | tuple[str, ...]]] = {
    "map_root": (queries.MAP_ROOT_SQL, (7, 1), "vde_map_items_roots"),
    "map_roots": (queries.MAP_ROOTS_SQL, (7,), "vde_map_items_roots"),
    "tile_at": (queries.TILE_AT_SQL, (7, 0, "2,3"), "vde_map_items_coordinates_unique"),
    # A whole map: the owner's rows, by its coordinates or by its primary key
    # (coord_user_id, id), whichever PostgreSQL finds cheaper.
    "descendants_of_root": (
        queries.DESCENDANTS_SQL,
        _descendant_args(MapCoordinates(7, 0), None, None),
        ("vde_map_items_coordinates_unique", "vde_map_items_pkey"),
    ),
    "descendants_two_generations_paged": (
        queries.DESCENDANTS_SQL,
        _descendant_args(MapCoordinates(7, 0, "2"), 2, 20),
        "vde_map_items_coordinates_unique",
    ),
    "children": (
        queries.CHILDREN_SQL,
        (7, MapCoordinates(7, 0, "2")),
        "vde_map_items_parent_id",
    ),
    "copies": (
        queries.COPIES_SQL,
        (7, MapCoordinates(7, 0, "2,3")),
        "vde_map_items_origin_id",
    ),
    # A delete's clearing of its tiles' copies, the one statement without the
    # owner: the origin index finds them (the ids as an array literal).
    "clear origins": (
        CLEAR_ORIGINS_SQL,
        ("{2,3,4}",),
        "vde_map_items_origin_id",
    ),
    "versions": (
        queries.VERSIONS_SQL,
        (3, 1234),
        "vde_base_item_versions_number_unique",
    ),
}


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", list(PLAN_CASES))
async def test_query_plan_uses_its_index_and_never_reads_the_map_whole(
    big_map, case, generic
):
    sql, arguments, index = PLAN_CASES[case]
    args = [
        await _tile_id(big_map, a.user_id, a.group_id, a.path)
        if isinstance(a, MapCoordinates)
        else a
        for a in arguments
    ]
    plan = await explain(big_map, sql, *args, generic=generic)
    assert seq_scanned(plan) & WATCHED == set(), plan
    wanted = {index} if isinstance(index, str) else set(index)
    assert wanted & indexes_used(plan), plan
    conditions = " ".join(node.get("Index Cond", "") for node in nodes(plan))
    # A generic plan keeps the parameters; a custom plan has their values.
    assert (re.search(r"\$\d", conditions) is not None) is generic, conditions
