"""A page of descendants is read in (depth, path) order and stops after its rows.

``descendants(..., limit=N)`` runs ``DESCENDANTS_PAGE_SQL`` on the index
``vde_map_items_depth_order`` (issue 14): a Limit directly over that index scan,
no Sort below it and no Seq Scan, as a custom and as a generic plan, and the
scan returns only the page's rows. Its rows are exactly the slice that the
whole-subtree query (``DESCENDANTS_SQL``, unchanged) gives.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from vde.mapping import queries
from vde.mapping.coordinates import MapCoordinates
from vde.testing.plans import explain, indexes_used, loaded_database, nodes, seq_scanned

INDEX = "vde_map_items_depth_order"

#: Map (1, 0) down to depth 5 (9,331 tiles, six directions per tile) and 40 maps
#: of 259 tiles (users 2-41): 19,691 tiles, a proper tree in one statement.
TREE_SQL = """
CREATE TEMPORARY TABLE coords AS
WITH RECURSIVE paths(path) AS (
    SELECT ''::text
    UNION ALL
    SELECT CASE WHEN p.path = '' THEN d::text ELSE p.path || ',' || d END
    FROM paths p, generate_series(1, 6) d
    WHERE length(p.path) < 9
),
maps(u, deepest) AS (
    SELECT 1, 9 UNION ALL SELECT u, 5 FROM generate_series(2, 41) u
)
SELECT (row_number() OVER (ORDER BY u, length(path), path))::int AS id, u, path
FROM maps JOIN paths ON length(path) <= deepest;

INSERT INTO vde_base_items (id, owner_id, title, content)
SELECT id, u, 'title ' || id, 'content ' || id FROM coords;

INSERT INTO vde_map_items (id, coord_user_id, coord_group_id, path, item_type,
                           parent_id, ref_item_id)
SELECT c.id, c.u, 0, c.path, CASE WHEN c.path = '' THEN 'user' ELSE 'base' END,
       p.id, c.id
FROM coords c
LEFT JOIN coords p
  ON c.path <> '' AND p.u = c.u
 AND p.path = CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END
ORDER BY c.id;

DROP TABLE coords;
"""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tree(vde_template: str) -> AsyncIterator[asyncpg.Connection]:
    async with loaded_database(vde_template, TREE_SQL) as conn:
        assert await conn.fetchval("SELECT count(*) FROM vde_map_items") == 19_691
        yield conn


def _page_args(
    coords: MapCoordinates, limit: int, generations: int | None = None, offset: int = 0
) -> tuple[Any, ...]:
    lower, upper = coords.descendant_bounds()
    longest = coords.descendant_length_limit(generations)
    return (coords.user_id, coords.group_id, lower, upper, longest, limit, offset)


async def _analyze(
    conn: asyncpg.Connection, sql: str, args: tuple[Any, ...], *, generic: bool
) -> dict[str, Any]:
    """EXPLAIN (ANALYZE) of the prepared statement under the plan mode asked for."""
    name = f"page_{secrets.token_hex(4)}"
    mode = "force_generic_plan" if generic else "force_custom_plan"
    values = ", ".join(
        "NULL" if a is None else str(a) if isinstance(a, int) else f"'{a}'"
        for a in args
    )
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        await conn.execute(f"PREPARE {name} AS {sql}")
        try:
            text = await conn.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}({values})"
            )
        finally:
            await conn.execute(f"DEALLOCATE {name}")
    plan: dict[str, Any] = json.loads(text)[0]["Plan"]
    return plan


def _page_node(plan: dict[str, Any]) -> dict[str, Any]:
    """The Limit of the page (the CTE's top node)."""
    [page] = [n for n in nodes(plan) if n.get("Subplan Name") == "CTE page"]
    return page


#: name -> (tile, generations, limit, offset, rows of the page)
PAGES: dict[str, tuple[MapCoordinates, int | None, int, int, int]] = {
    "root page of 1,000": (MapCoordinates(1, 0), None, 1000, 0, 1000),
    "root page of 100 after 5,000": (MapCoordinates(1, 0), None, 100, 5000, 100),
    "depth-2 tile, 2 generations, page of 20": (
        MapCoordinates(1, 0, "3,4"),
        2,
        20,
        0,
        20,
    ),
    "depth-3 tile, whole subtree in one page": (
        MapCoordinates(1, 0, "2,5,1"),
        None,
        500,
        0,
        42,
    ),
    "small map, page of 50": (MapCoordinates(7, 0), None, 50, 0, 50),
}


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("page", list(PAGES))
async def test_a_page_is_a_limit_over_the_depth_index_without_sort(
    tree: asyncpg.Connection, page: str, generic: bool
) -> None:
    coords, generations, limit, offset, rows = PAGES[page]
    args = _page_args(coords, limit, generations, offset)
    plan = await explain(tree, queries.DESCENDANTS_PAGE_SQL, *args, generic=generic)
    assert seq_scanned(plan) == set(), plan
    assert INDEX in indexes_used(plan), plan
    limit_node = _page_node(plan)
    assert limit_node["Node Type"] == "Limit", limit_node
    [scan] = limit_node["Plans"]
    assert scan["Node Type"] == "Index Scan" and scan["Index Name"] == INDEX, scan
    assert not [n for n in nodes(limit_node) if "Sort" in n["Node Type"]], limit_node
    # A generic plan keeps the parameters; a custom plan has their values.
    assert ("$1" in scan["Index Cond"]) is generic, scan["Index Cond"]


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
@pytest.mark.parametrize("page", list(PAGES))
async def test_a_page_scan_stops_after_its_rows(
    tree: asyncpg.Connection, page: str, generic: bool
) -> None:
    """The scan returns the page (and the offset's rows) and nothing it then drops.

    Bounds are index conditions, so entries outside the subtree are never
    returned; PostgreSQL 18 also skips them (a skip scan over the depths).
    """
    coords, generations, limit, offset, rows = PAGES[page]
    args = _page_args(coords, limit, generations, offset)
    plan = await _analyze(tree, queries.DESCENDANTS_PAGE_SQL, args, generic=generic)
    [scan] = _page_node(plan)["Plans"]
    assert scan["Actual Rows"] == min(rows + offset, offset + limit), scan
    assert scan.get("Rows Removed by Filter", 0) == 0, scan
    assert scan.get("Rows Removed by Index Recheck", 0) == 0, scan
    assert plan["Actual Rows"] == rows


@pytest.mark.parametrize("page", list(PAGES))
async def test_a_page_is_the_slice_of_the_whole_subtree_order(
    tree: asyncpg.Connection, page: str
) -> None:
    coords, generations, limit, offset, rows = PAGES[page]
    whole = await queries.descendants(tree, coords, generations=generations)
    paged = await queries.descendants(
        tree, coords, generations=generations, limit=limit, offset=offset
    )
    assert len(paged) == rows
    assert paged == whole[offset : offset + limit]
    keys = [(len(t.path), t.path) for t in paged]
    assert keys == sorted(keys)


async def test_the_whole_subtree_query_keeps_the_coordinates_index(
    tree: asyncpg.Connection,
) -> None:
    """Without a page the subtree is read whole anyway: the plan stays as it was."""
    coords = MapCoordinates(1, 0, "2,5")
    lower, upper = coords.descendant_bounds()
    longest = coords.descendant_length_limit(None)
    for generic in (False, True):
        plan = await explain(
            tree,
            queries.DESCENDANTS_SQL,
            1,
            0,
            lower,
            upper,
            longest,
            None,
            0,
            generic=generic,
        )
        assert indexes_used(plan) >= {"vde_map_items_coordinates_unique"}, plan
        assert INDEX not in indexes_used(plan), plan
