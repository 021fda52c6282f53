"""A map's whole life and 16 concurrent writers, as an application runs them.

``python -m tests.database.pooler_app`` uses only what an application has:
``piccolo_conf.DB`` (``make_engine()``, so ``DATABASE_URL`` and
``VDE_POOL_MODE``) on a pool, the tables and ``vde.mapping`` through
``run_atomic``. It prints what it found as one JSON line.
``tests/database/test_pooler*.py`` run it in a process of its own and call
:func:`map_life` and :func:`writers` in theirs.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from vde.auth.tables import User
from vde.database import connection_pool
from vde.mapping import (
    MapCoordinates,
    Tile,
    add_tile,
    copy_subtree,
    create_map,
    delete_subtree,
    descendants,
    history,
    move_subtree,
    swap_tiles,
    update_content,
)
from vde.mapping.tables import MapItem
from vde.transactions import Tx, run_atomic

WRITERS = 16
TILES_PER_WRITER = 2

#: What :func:`map_life` leaves: (path, title, content, a copy?) by depth, path.
LIFE_TILES = [
    ["1", "Reading", "Books", False],
    ["5", "Ideas", "Better", False],
    ["5,4", "A detail", "Small", False],
]
LIFE_SUMMARY = {
    "tiles": LIFE_TILES,
    "history": ["First thoughts"],
    "deleted": {"tiles": 2, "base_items": 2, "versions": 0},
    "copies_before_delete": 2,
    "piccolo_count": 4,
}


async def map_life(user_id: str) -> dict[str, Any]:
    """Create, add, edit (with history), copy, move, swap, delete: each a unit
    of work of its own, with Piccolo queries between them."""
    await User.insert(User(id=user_id, email=f"{user_id}@example.com"))
    root = await run_atomic(lambda tx: create_map(tx, user_id, "Ada", "Ada's map"))
    home = MapCoordinates.root(root.coord_user_id)

    async def add(tx: Tx, place: MapCoordinates, title: str, content: str) -> Tile:
        return await add_tile(tx, place, title, content)

    first = "First thoughts"
    ideas = await run_atomic(lambda tx: add(tx, home.child(1), "Ideas", first))
    await run_atomic(lambda tx: add(tx, home.child(1).child(4), "A detail", "Small"))
    await run_atomic(lambda tx: add(tx, home.child(3), "Reading", "Books"))
    await run_atomic(lambda tx: update_content(tx, ideas, content="Better"))
    await run_atomic(lambda tx: copy_subtree(tx, ideas, home.child(2)))
    copies = await MapItem.count().where(MapItem.origin.is_not_null())
    await run_atomic(lambda tx: move_subtree(tx, home.child(3), home.child(5)))
    await run_atomic(lambda tx: swap_tiles(tx, home.child(1), home.child(5)))
    deleted = await run_atomic(lambda tx: delete_subtree(tx, home.child(2)))
    tiles = await run_atomic(lambda tx: descendants(tx, home))
    versions = await run_atomic(lambda tx: history(tx, ideas))
    return {
        "tiles": [
            [t.path, t.title, t.content, t.origin is not None] for t in tiles
        ],
        "history": [version.content for version in versions],
        "deleted": {
            "tiles": deleted.tiles,
            "base_items": deleted.base_items,
            "versions": deleted.versions,
        },
        "copies_before_delete": copies,
        "piccolo_count": await MapItem.count(),
    }


async def writers(user_id: str) -> list[str]:
    """16 clients at once, each adding tiles to one map and editing them; the
    paths of the tiles added, sorted."""
    await User.insert(User(id=user_id, email=f"{user_id}@example.com"))
    root = await run_atomic(lambda tx: create_map(tx, user_id, "Race", "Race"))
    home = MapCoordinates.root(root.coord_user_id)
    for step in range(1, 7):
        await run_atomic(
            lambda tx, step=step: add_tile(tx, home.child(step), f"{step}", "")
        )

    async def client(number: int) -> list[str]:
        paths = []
        for round_ in range(TILES_PER_WRITER):
            slot = number * TILES_PER_WRITER + round_  # 0..31: 6 parents x 6 steps
            place = home.child(1 + slot % 6).child(1 + slot // 6)
            tile = await run_atomic(
                lambda tx, place=place: add_tile(tx, place, f"w{number}", "new")
            )
            await run_atomic(
                lambda tx, tile=tile: update_content(tx, tile, content="edited")
            )
            paths.append(tile.path)
        return paths

    added = await asyncio.gather(*(client(number) for number in range(WRITERS)))
    return sorted(path for paths in added for path in paths)


async def main() -> None:
    async with connection_pool(min_size=2, max_size=WRITERS + 2):
        life = await map_life("ada")
        added = await writers("grace")
    print(json.dumps({"life": life, "added": added}))


if __name__ == "__main__":
    asyncio.run(main())
