"""``neighbourhood``: a tile and its descendants a few generations down, in one read.

Its rows are exactly ``tile_at``'s and ``descendants``' (so one snapshot gives
what two reads would, when nothing moves between them); it sends one
statement, which names the map owner in each part; no tile there gives None,
as ``tile_at``. On a 19,691-tile database the plan reads the tile on the
coordinates index and each generation as one range of the depth index, and
nothing it then drops, as a custom and as a generic plan.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from tests.mapping.test_descendants_plan import TREE_SQL
from vde.mapping import (
    MapCoordinates,
    Neighbourhood,
    descendants,
    neighbourhood,
    tile_at,
)
from vde.mapping.neighbourhoods import neighbourhood_sql
from vde.testing.plans import explain, literal_of, nodes, seq_scanned

PLACES = ["", "1", "1,4", "1,4,6", "1,4,6,5", "3"]


@pytest.fixture
async def small_map(insert: Any, home: Any, add_tile: Any) -> None:
    """Map (1, 0): '1' (with '1,0' and '1,4', '1,4,6', '1,4,6,5'), '2', '3' ('3,2');
    map (1, 1) and owner 2's map hold tiles on the same paths."""
    one = await add_tile(home.root, 1)
    await add_tile(one, 0)
    four = await add_tile(one, 4)
    six = await add_tile(four, 6)
    await add_tile(six, 5)
    await add_tile(home.root, 2)
    three = await add_tile(home.root, 3)
    await add_tile(three, 2)
    grace = await insert("vde_base_items", owner_id=2, title="Grace", content="")
    for owner, group in ((1, 1), (2, 0)):
        root = await insert(
            "vde_map_items", coord_user_id=owner, coord_group_id=group,
            item_type="user",
            ref_item_id=home.item["id"] if owner == 1 else grace["id"],
        )
        other = await add_tile(root, 1)
        await add_tile(await add_tile(other, 4), 6)


@pytest.mark.parametrize("generations", [0, 1, 2, 3, 10**9])
@pytest.mark.parametrize("path", PLACES)
async def test_it_is_the_tile_and_its_descendants_as_the_two_reads_give_them(
    small_map: None, vde_conn: asyncpg.Connection, path: str, generations: int
) -> None:
    coords = MapCoordinates(1, 0, path)
    found = await neighbourhood(vde_conn, coords, generations=generations)
    assert isinstance(found, Neighbourhood)
    assert found.tile == await tile_at(vde_conn, coords)
    assert found.descendants == await descendants(
        vde_conn, coords, generations=generations
    )


async def test_two_generations_by_default_and_json_by_field_names(
    small_map: None, vde_conn: asyncpg.Connection
) -> None:
    found = await neighbourhood(vde_conn, MapCoordinates(1, 0, "1"))
    assert found is not None
    assert [t.path for t in found.descendants] == ["1,0", "1,4", "1,4,6"]
    shown = json.loads(found.model_dump_json(by_alias=True))
    assert shown["tile"]["path"] == "1"
    assert [t["parent"] for t in shown["descendants"]][:2] == [found.tile.id] * 2


@pytest.mark.parametrize(
    "coords",
    [MapCoordinates(1, 0, "4"), MapCoordinates(1, 0, "1,4,1"), MapCoordinates(3, 0)],
    ids=["free-child-of-root", "free-below-a-tile", "no-map"],
)
async def test_no_tile_there_gives_none_as_tile_at(
    small_map: None, vde_conn: asyncpg.Connection, coords: MapCoordinates
) -> None:
    assert await tile_at(vde_conn, coords) is None
    assert await neighbourhood(vde_conn, coords, generations=3) is None


async def test_it_sends_one_statement_that_names_the_owner(
    small_map: None, vde_conn: asyncpg.Connection
) -> None:
    sent: list[str] = []

    def record(query: Any) -> None:
        if "vde_" in query.query:
            sent.append(query.query)

    vde_conn.add_query_logger(record)
    try:
        found = await neighbourhood(vde_conn, MapCoordinates.root(1), generations=4)
        await asyncio.sleep(0)  # loggers are called soon, not at once
    finally:
        vde_conn.remove_query_logger(record)
    assert found is not None and len(found.descendants) == 8
    assert sent == [neighbourhood_sql(4)]
    parts = neighbourhood_sql(4).split("UNION ALL")
    assert len(parts) == 5
    for part in parts:
        assert re.search(r"\bcoord_user_id = \$1\b", part), part


# -- Plans on a big map -------------------------------------------------------

COORDINATES = "vde_map_items_coordinates_unique"
DEPTH = "vde_map_items_depth_order"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tree(vde_template: str) -> AsyncIterator[asyncpg.Connection]:
    from vde.testing.plans import loaded_database

    async with loaded_database(vde_template, TREE_SQL) as conn:
        assert await conn.fetchval("SELECT count(*) FROM vde_map_items") == 19_691
        yield conn


def _statement(coords: MapCoordinates, generations: int) -> tuple[str, list[Any]]:
    """What ``neighbourhood`` sends: the statement and its arguments."""
    lengths = [2 * (coords.depth + g) - 1 for g in range(1, generations + 1)]
    below = [*coords.descendant_bounds(), *lengths] if lengths else []
    arguments = [coords.user_id, coords.group_id, coords.path, *below]
    return neighbourhood_sql(generations), arguments


#: name -> (tile, generations, its descendants); map (1, 0) is 9,331 tiles deep
#: to depth 5, map (7, 0) 259 tiles.
CASES: dict[str, tuple[MapCoordinates, int, int]] = {
    "root, 2 generations": (MapCoordinates(1, 0), 2, 42),
    "root alone": (MapCoordinates(1, 0), 0, 0),
    "depth-2 tile, 2 generations": (MapCoordinates(1, 0, "3,4"), 2, 42),
    "leaf": (MapCoordinates(1, 0, "2,5,1,3,6"), 3, 0),
    "small map's root, 3 generations": (MapCoordinates(7, 0), 3, 258),
}


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", list(CASES))
async def test_the_plan_reads_the_tile_and_each_generation_on_an_index(
    tree: asyncpg.Connection, case: str, generic: bool
) -> None:
    coords, generations, _ = CASES[case]
    sql, arguments = _statement(coords, generations)
    plan = await explain(tree, sql, *arguments, generic=generic)
    assert seq_scanned(plan) == set(), plan
    tiles = [n for n in nodes(plan) if n.get("Relation Name") == "vde_map_items"]
    assert [n.get("Index Name") for n in tiles] == [COORDINATES] + [DEPTH] * (
        generations
    ), plan
    # Each bound is an index condition: no entry is read to be dropped.
    assert not [n for n in tiles if "Filter" in n], plan
    assert "path)::text = " in tiles[0]["Index Cond"]
    for scan in tiles[1:]:
        for bound in ("(length((path)::text) = ", "~>=~", "~<~"):
            assert bound in scan["Index Cond"], scan


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("case", list(CASES))
async def test_the_scans_return_only_the_rows_it_answers_with(
    tree: asyncpg.Connection, case: str, generic: bool
) -> None:
    """Under the root of the 9,331-tile map, 42 index entries, not the whole map."""
    coords, generations, below = CASES[case]
    sql, arguments = _statement(coords, generations)
    name = f"neighbourhood_{secrets.token_hex(4)}"
    mode = "force_generic_plan" if generic else "force_custom_plan"
    async with tree.transaction():
        await tree.execute(f"SET LOCAL plan_cache_mode = {mode}")
        await tree.execute(f"PREPARE {name} AS {sql}")
        try:
            text = await tree.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}"
                f"({', '.join(map(literal_of, arguments))})"
            )
        finally:
            await tree.execute(f"DEALLOCATE {name}")
    plan = json.loads(text)[0]["Plan"]
    tiles = [n for n in nodes(plan) if n.get("Relation Name") == "vde_map_items"]
    assert [n["Actual Rows"] for n in tiles[:1]] == [1]
    assert sum(n["Actual Rows"] for n in tiles[1:]) == below
    for scan in tiles:  # what a scan reads and drops shows here
        assert scan.get("Rows Removed by Filter", 0) == 0, scan
        assert scan.get("Rows Removed by Index Recheck", 0) == 0, scan
    assert plan["Actual Rows"] == 1 + below
    found = await neighbourhood(tree, coords, generations=generations)
    assert found is not None and len(found.descendants) == below
