"""A tile with its neighbourhood: the tile and its descendants a few generations
down, read by one statement, so from one snapshot (a move between two reads
cannot show a tile both here and gone, or children under the wrong parent).

The statement names the map owner (``coord_user_id = $1``), so on a sharded
server it runs on the owner's shard alone. Both of its parts stay on an index,
in any plan, however large the map (tests/mapping/test_neighbourhood.py):

* the tile, by its coordinates: ``vde_map_items_coordinates_unique``;
* its descendants, one index range per generation: depth from
  ``length(path)`` (``= ANY`` of the wanted lengths) and the path range of the
  subtree (``~>=~``/``~<~``), on ``vde_map_items_depth_order``. One range of
  paths over the whole subtree, filtered by length, would read every tile
  below: 56,000 index entries for the two generations under the root of a
  56,000-tile map (12 ms) instead of 42 (0.5 ms).

The tiles are picked first, then joined with their content (docs/schema.md,
"Query shapes").
"""

from __future__ import annotations

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

#: $3: the tile's path; $4/$5: its descendants' path range; $6: their lengths.
NEIGHBOURHOOD_SQL = f"""\
WITH picked AS MATERIALIZED (
    SELECT {select_list(MapItem, "m")}
    FROM {MAP_ITEMS} m
    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND m.path = $3
    UNION ALL
    SELECT {select_list(MapItem, "m")}
    FROM {MAP_ITEMS} m
    WHERE m.coord_user_id = $1 AND m.coord_group_id = $2
      AND length(m.path) > 0 AND length(m.path) = ANY($6::int[])
      AND m.path ~>=~ $4 AND m.path ~<~ $5
)
SELECT picked.*, {_CONTENT}
FROM picked JOIN {BASE_ITEMS} b ON b.id = picked.ref_item_id
ORDER BY length(picked.path), picked.path"""

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
    lower, upper = coords.descendant_bounds()
    lengths = [
        path_length_at_depth(coords.depth + step)
        for step in range(1, min(generations, MAX_DEPTH - coords.depth) + 1)
    ]
    async with connection_of(executor) as conn:
        rows = await conn.fetch(
            NEIGHBOURHOOD_SQL,
            coords.user_id,
            coords.group_id,
            coords.path,
            lower,
            upper,
            lengths,
        )
    if not rows or rows[0]["path"] != coords.path:
        return None
    tile, *below = _TILES.all(rows)
    return Neighbourhood.model_construct(tile=tile, descendants=below)
