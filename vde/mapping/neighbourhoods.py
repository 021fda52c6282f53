"""A tile with its neighbourhood: the tile and its descendants a few generations
down, read by one statement, so from one snapshot (a move between two reads
cannot show a tile both here and gone, or children under the wrong parent).

The statement names the map owner (``coord_user_id = $1``) in every part, so
on a sharded server it runs on the owner's shard alone. Each part stays on an
index, in a custom and in a generic plan, however large the map
(tests/mapping/test_neighbourhood.py):

* the tile, by its coordinates: ``vde_map_items_coordinates_unique``;
* each generation below it, one ``UNION ALL`` part: depth from
  ``length(path) = $n`` (its own parameter) and the subtree's path range
  (``~>=~``/``~<~``), one range of ``vde_map_items_depth_order``.

So two generations below the root of a 56,000-tile map read their 42 index
entries (0.3 ms), where one path range filtered by length (``descendants(...,
generations=2)``) reads the whole map (8 ms). One part per generation rather
than ``length(path) = ANY($6)``: a generic plan on PostgreSQL 15 filters by
the array instead of seeking each length, its estimate of a path range of
unknown bounds being one row. The tiles are picked first, then joined with
their content (docs/schema.md, "Query shapes").
"""

from __future__ import annotations

from functools import cache

import pydantic

from vde.mapping.arguments import check_coordinates, check_generations
from vde.mapping.coordinates import MAX_DEPTH, MapCoordinates, path_length_at_depth
from vde.mapping.models import Tile
from vde.mapping.queries import _CONTENT
from vde.mapping.table_names import BASE_ITEMS, MAP_ITEMS
from vde.mapping.tables import MapItem
from vde.sql import select_list
from vde.transactions import Executor, connection_of
from vde.trusted_rows import TrustedRows

_TILE = (
    f"SELECT {select_list(MapItem, 'm')}\n    FROM {MAP_ITEMS} m\n"
    "    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND m.path = $3"
)
#: One generation: $4/$5 the subtree's path range, ``{length}`` its parameter.
_GENERATION = (
    f"SELECT {select_list(MapItem, 'm')}\n    FROM {MAP_ITEMS} m\n"
    "    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2\n"
    "      AND length(m.path) > 0 AND length(m.path) = {length}\n"
    "      AND m.path ~>=~ $4 AND m.path ~<~ $5"
)


@cache
def neighbourhood_sql(generations: int) -> str:
    """The statement for a tile ($3) and ``generations`` generations below it:
    $6, $7, ... are their path lengths."""
    parts = [_TILE] + [
        _GENERATION.format(length=f"${6 + step}") for step in range(generations)
    ]
    picked = "\n    UNION ALL\n    ".join(parts)
    return (
        f"WITH picked AS MATERIALIZED (\n    {picked}\n)\n"
        f"SELECT picked.*, {_CONTENT}\n"
        f"FROM picked JOIN {BASE_ITEMS} b\n"
        "ON b.owner_id = $1 AND b.id = picked.ref_item_id\n"
        "ORDER BY length(picked.path), picked.path"
    )


_TILES = TrustedRows(Tile)


class Neighbourhood(pydantic.BaseModel):
    """A tile and its descendants, by depth, then path (as ``descendants``)."""

    model_config = pydantic.ConfigDict(frozen=True)

    tile: Tile
    descendants: list[Tile]


async def neighbourhood(
    executor: Executor, coords: MapCoordinates, *, generations: int = 2
) -> Neighbourhood | None:
    """The tile at ``coords`` and its descendants at most ``generations`` steps
    below (0: the tile alone), or None when no tile is there, as ``tile_at``."""
    check_coordinates("coords", coords)
    check_generations(generations)
    lengths = [
        path_length_at_depth(coords.depth + step)
        for step in range(1, min(generations, MAX_DEPTH - coords.depth) + 1)
    ]
    subtree = (*coords.descendant_bounds(), *lengths) if lengths else ()
    async with connection_of(executor) as conn:
        rows = await conn.fetch(
            neighbourhood_sql(len(lengths)),
            coords.user_id,
            coords.group_id,
            coords.path,
            *subtree,
        )
    if not rows or rows[0]["path"] != coords.path:
        return None
    tile, *below = _TILES.all(rows)
    return Neighbourhood.model_construct(tile=tile, descendants=below)
