"""Whose content is whose: the map owner each base item gets, counted for the report.

In vde every base item and version belongs to one map owner, the owner of the
tiles that show it (docs/schema.md "Map owners"); the original app let tiles of
several owners show one item. adopt copies the rows into the schema as it was
before ``owner_id`` (every original value kept and verified), then applies the
rest of vde's migrations, whose fill gives each item its owner: an item shown
by one owner's tiles is kept, one shown by several is split (one copy, with
its versions, per other owner), one shown by no tile gets owner 0. This module
counts each case, from the originals (the report) or from vde's tables before
the fill (``--apply``).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from vde.database.forwards import MigrationKey

#: The first migration of ``owner_id``: the rows are copied before it.
OWNER_MIGRATION: MigrationKey = ("mapping", "2026-12-03T13:16:12:811542")

_COUNT = """
SELECT count(*) FILTER (WHERE owners = 1)::int AS kept,
       count(*) FILTER (WHERE owners > 1)::int AS split,
       coalesce(sum(owners - 1) FILTER (WHERE owners > 1), 0)::int AS copies,
       count(*) FILTER (WHERE owners = 0)::int AS unshown
FROM (SELECT b.id, count(DISTINCT m.coord_user_id) AS owners
      FROM {items} b LEFT JOIN {tiles} m ON m.ref_item_id = b.id
      GROUP BY b.id) per_item
"""


@dataclass(frozen=True)
class OwnerCounts:
    """Base items by how many owners' tiles show them."""

    kept: int
    split: int
    copies: int
    unshown: int

    def line(self, mood: str = "were") -> str:
        return (
            f"Map owners: {self.kept} base item(s) {mood} kept with the one owner "
            f"whose tiles show them, {self.split} {mood} split between owners "
            f"({self.copies} {'copy' if self.copies == 1 else 'copies'} made, "
            "each with its versions), "
            f"{self.unshown} shown by no tile {mood} given owner 0."
        )


async def count_owners(
    connection: asyncpg.Connection, items: str, tiles: str
) -> OwnerCounts:
    """The cases in base items ``items`` shown by tiles ``tiles`` (quoted names)."""
    row = await connection.fetchrow(_COUNT.format(items=items, tiles=tiles))
    assert row is not None
    return OwnerCounts(row["kept"], row["split"], row["copies"], row["unshown"])
