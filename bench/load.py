"""``python -m bench.load``: 16 clients at once on the repository mix, then invariants.

Not a test: it reports throughput and errors. On a scratch database (embedded
server, or ``DATABASE_URL``'s), migrated and given a few small maps, each
client runs, for ``--seconds``, a weighted mix of what repositories do: reads (a
tile by coordinates, descendants, children), tile inserts, subtree moves (also
across maps) and swaps through ``vde.mapping.moves``, subtree deletes, and
version appends on a few hot base items through ``vde.mapping.versions``.

Clients race on purpose (a slot taken meanwhile, a parent moved or deleted
meanwhile): the database must refuse those writes by a constraint or the tree
rule (``UniqueViolationError``, ``ForeignKeyViolationError``,
``CheckViolationError``) or by vde's move helpers (``TreeError``: the tile
or the new parent went away meanwhile), never with any other error. Writes run
through ``vde.transactions.run_atomic`` as repositories should, so a
deadlock victim (rolled back whole) runs again and is counted as retried, not as
an error. Afterwards
every map must still be a tree and every base item's versions must be 1..N
without gaps. The exit status is 1 when either fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from vde.database import connection_pool, database_url, use_engine
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.errors import TreeError
from vde.mapping import queries
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.invariants import tree_violations, version_gaps
from vde.mapping.moves import move_subtree, swap_tiles
from vde.mapping.versions import append_version
from vde.transactions import Tx, run_atomic

#: Refusals a racing client may get: the rule it broke is named, nothing is
#: written. ``TreeError``: vde's move helpers found the tile or the target's
#: parent gone (deleted or moved meanwhile), or one swap partner inside the other.
EXPECTED = (
    asyncpg.UniqueViolationError,
    asyncpg.ForeignKeyViolationError,
    asyncpg.CheckViolationError,
    TreeError,
)
#: Eight maps of one owner: content is its owner's, and the hot items are
#: shown (and edited) in all of them.
OWNER = 1
MAPS = [(OWNER, group) for group in range(8)]
HOT_ITEMS = 8
#: Inserts and move targets stay shallow, so paths never outgrow varchar(255).
MAX_PARENT_LENGTH = 7

RANDOM_TILE_SQL = """
SELECT id, coord_user_id, coord_group_id, path FROM vde_map_items
WHERE coord_user_id = $1 AND coord_group_id = $2 AND length(path) BETWEEN $3 AND $4
ORDER BY random() LIMIT 1
"""
INSERT_TILE_SQL = """
INSERT INTO vde_map_items (coord_user_id, coord_group_id, path, item_type,
                           parent_id, ref_item_id)
VALUES ($1, $2, $3, 'base', $4, $5)
"""
# The original app's move (``--moves original``): the tile and its subtree in
# one UPDATE, no explicit locks; the tree trigger checks the result at the end
# of the statement.
ORIGINAL_MOVE_SQL = """
UPDATE vde_map_items SET
    coord_user_id = $4, coord_group_id = $5,
    path = $6 || substr(path, length($3) + 1),
    parent_id = CASE WHEN id = $7 THEN $8 ELSE parent_id END,
    updated_at = now()
WHERE coord_user_id = $1 AND coord_group_id = $2
  AND (path = $3 OR (path >= $3 || ',' AND path < $3 || '-'))
"""
DELETE_TILE_SQL = "DELETE FROM vde_map_items WHERE id = $1 AND item_type = 'base'"


@dataclass
class Tally:
    """What the clients did: successes and errors per operation and error class."""

    done: Counter[str] = field(default_factory=Counter)
    #: (operation, "ErrorClass (constraint)") -> count
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (operation, "ErrorClass") -> transactions run again by run_atomic
    retried: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)


async def _make_maps(conn: asyncpg.Connection) -> list[int]:
    """Eight maps of 43 tiles (root, 6 children, 36 grandchildren); the item ids."""
    items = [
        await conn.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content) "
            "VALUES ($1, $2, '') RETURNING id",
            OWNER,
            f"item {n}",
        )
        for n in range(HOT_ITEMS * 4)
    ]
    for user, group in MAPS:
        root = await conn.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, coord_group_id, item_type, "
            "ref_item_id) VALUES ($1, $2, 'user', $3) RETURNING id",
            user,
            group,
            items[0],
        )
        for step in range(1, 7):
            child = await conn.fetchval(
                INSERT_TILE_SQL + " RETURNING id",
                user,
                group,
                str(step),
                root,
                items[1],
            )
            for sub in range(1, 7):
                await conn.execute(
                    INSERT_TILE_SQL, user, group, f"{step},{sub}", child, items[2]
                )
    return [int(i) for i in items]


class Client:
    """One repository user with its own connection."""

    def __init__(
        self, pool: asyncpg.Pool, items: list[int], number: int, moves: str
    ) -> None:
        #: the pool for reads; a write's transaction while it runs
        self.conn: asyncpg.Pool | asyncpg.Connection = pool
        self.pool = pool
        self.moves = moves
        self.items = items
        self.rng = random.Random(number)

    async def _tile(
        self, shortest: int, longest: int, near: asyncpg.Record | None = None
    ) -> asyncpg.Record | None:
        """A random tile; ``near``: in that tile's map (subtrees stay in their
        owner's maps)."""
        user, group = self.rng.choice(MAPS)
        if near is not None:
            user, group = near["coord_user_id"], near["coord_group_id"]
        return await self.conn.fetchrow(RANDOM_TILE_SQL, user, group, shortest, longest)

    async def read_tile(self) -> None:
        user, group = self.rng.choice(MAPS)
        path = ",".join(
            str(self.rng.randint(1, 6)) for _ in range(self.rng.randint(0, 2))
        )
        await queries.tile_at(self.conn, MapCoordinates(user, group, path))

    async def read_descendants(self) -> None:
        user, group = self.rng.choice(MAPS)
        path = str(self.rng.randint(1, 6)) if self.rng.random() < 0.7 else ""
        coords = MapCoordinates(user, group, path)
        await queries.descendants(self.conn, coords, generations=2, limit=50)

    async def read_children(self) -> None:
        tile = await self._tile(0, MAX_PARENT_LENGTH)
        if tile is not None:
            await queries.children(self.conn, tile["coord_user_id"], tile["id"])

    async def insert_tile(self) -> None:
        parent = await self._tile(0, MAX_PARENT_LENGTH)
        if parent is None:
            return
        step = str(self.rng.randint(0, 6))
        path = f"{parent['path']},{step}" if parent["path"] else step
        await self.conn.execute(
            INSERT_TILE_SQL,
            parent["coord_user_id"],
            parent["coord_group_id"],
            path,
            parent["id"],
            self.rng.choice(self.items),
        )

    async def move_subtree(self) -> None:
        tile = await self._tile(1, 255)
        if tile is None:
            return
        # A new parent no deeper than the old one, so depths never grow.
        target = await self._tile(0, len(tile["path"]) - 2, near=tile)
        if target is None:
            return
        step = str(self.rng.randint(0, 6))
        path = f"{target['path']},{step}" if target["path"] else step
        if self.moves == "original":
            await self.conn.execute(
                ORIGINAL_MOVE_SQL,
                *(tile["coord_user_id"], tile["coord_group_id"], tile["path"]),
                *(target["coord_user_id"], target["coord_group_id"], path),
                *(tile["id"], target["id"]),
            )
            return
        place = MapCoordinates(target["coord_user_id"], target["coord_group_id"], path)
        await move_subtree(self.conn, MapCoordinates.from_row(tile), place)

    async def swap_tiles(self) -> None:
        first = await self._tile(1, 255)
        second = None if first is None else await self._tile(1, 255, near=first)
        if first is not None and second is not None:
            await swap_tiles(
                self.conn,
                MapCoordinates.from_row(first),
                MapCoordinates.from_row(second),
            )

    async def delete_subtree(self) -> None:
        tile = await self._tile(3, 255)
        if tile is not None:
            await self.conn.execute(DELETE_TILE_SQL, tile["id"])

    async def append_version(self) -> None:
        item = self.items[self.rng.randrange(HOT_ITEMS)]
        await append_version(
            self.conn, OWNER, item, "title", "content", updated_by="load"
        )


#: Operation name -> weight in the mix.
MIX: dict[str, int] = {
    "read_tile": 25,
    "read_descendants": 15,
    "read_children": 15,
    "insert_tile": 15,
    "move_subtree": 6,
    "swap_tiles": 2,
    "delete_subtree": 7,
    "append_version": 15,
}


#: Writes run as repositories should run them: through ``run_atomic``,
#: which runs a deadlock victim's transaction again (it was rolled back whole).
WRITES = {"insert_tile", "move_subtree", "swap_tiles", "delete_subtree",
          "append_version"}


async def _run_client(client: Client, deadline: float, tally: Tally) -> None:
    mix = {**MIX, "swap_tiles": 0} if client.moves == "original" else MIX
    names = list(mix)
    weights = list(mix.values())
    while time.monotonic() < deadline:
        name = client.rng.choices(names, weights)[0]
        operation: Callable[[], Awaitable[None]] = getattr(client, name)

        def count_retry(error: Exception, name: str = name) -> None:
            tally.retried[(name, type(error).__name__)] += 1

        async def work(
            tx: Tx, operation: Callable[[], Awaitable[None]] = operation
        ) -> None:
            client.conn = tx.connection
            try:
                await operation()
            finally:
                client.conn = client.pool

        try:
            if name in WRITES:
                await run_atomic(work, attempts=5, on_retry=count_retry)
            else:
                await operation()
        except EXPECTED as error:
            constraint = getattr(error, "constraint_name", None)
            rule = type(error).__name__ + (f" ({constraint})" if constraint else "")
            tally.refused[(name, rule)] += 1
            tally.examples.setdefault(rule, str(error).splitlines()[0])
        except Exception as error:  # counted and reported: the load must have none
            tally.failed[(name, type(error).__name__)] += 1
            tally.examples.setdefault(type(error).__name__, str(error).splitlines()[0])
        else:
            tally.done[name] += 1


async def run(
    url: str, clients: int, seconds: float, moves: str
) -> tuple[Tally, dict[str, int]]:
    setup = await asyncpg.connect(url)
    try:
        items = await _make_maps(setup)
        tally = Tally()
        # Writes run in Piccolo's transactions (run_atomic) on the engine the
        # tables use, pointed at the scratch database: one connection a client.
        engine = PostgresEngine(config={"dsn": url})
        with use_engine(engine):
            async with connection_pool(engine, min_size=clients, max_size=clients):
                assert engine.pool is not None
                deadline = time.monotonic() + seconds
                await asyncio.gather(
                    *(
                        _run_client(Client(engine.pool, items, number, moves),
                                    deadline, tally)
                        for number in range(clients)
                    )
                )
        facts = {
            "tiles": await setup.fetchval("SELECT count(*) FROM vde_map_items"),
            "versions": await setup.fetchval(
                "SELECT count(*) FROM vde_base_item_versions"
            ),
            "tree violations": len(await tree_violations(setup)),
            "version violations": len(await version_gaps(setup)),
        }
    finally:
        await setup.close()
    return tally, facts


def report(
    tally: Tally, facts: dict[str, int], clients: int, seconds: float, moves: str
) -> str:
    lines = [
        f"{clients} clients, {seconds:g} s, moves: {moves}",
        "",
        "| operation | ok/s | ok | refused (expected) | retried | other errors |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    for name in MIX:
        refused = ", ".join(
            f"{cls} {n}" for (op, cls), n in sorted(tally.refused.items()) if op == name
        )
        failed = ", ".join(
            f"{cls} {n}" for (op, cls), n in sorted(tally.failed.items()) if op == name
        )
        retried = ", ".join(
            f"{cls} {n}" for (op, cls), n in sorted(tally.retried.items()) if op == name
        )
        ok = tally.done[name]
        rate = ok / seconds
        lines.append(
            f"| {name} | {rate:.0f} | {ok} | {refused or '-'} | {retried or '-'} "
            f"| {failed or '0'} |"
        )
    total = sum(tally.done.values())
    lines.append(
        f"| all | {total / seconds:.0f} | {total} | "
        f"{sum(tally.refused.values())} | {sum(tally.retried.values())} "
        f"| {sum(tally.failed.values())} |"
    )
    lines += ["", *(f"- {key}: {value}" for key, value in facts.items())]
    lines += [f"- e.g. {key}: {text}" for key, text in sorted(tally.examples.items())]
    return "\n".join(lines)


async def main(clients: int, seconds: float, moves: str) -> int:
    server = database_url()
    name = scratch_name("load")
    url = await create_database(server, name)
    try:
        await migrate_database(url)
        tally, facts = await run(url, clients, seconds, moves)
    finally:
        await drop_database(server, name)
    print(report(tally, facts, clients, seconds, moves))
    broken = facts["tree violations"] or facts["version violations"]
    return 1 if tally.failed or broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--moves",
        choices=["vde", "original"],
        default="vde",
        help="vde.mapping.moves (move_subtree, swap_tiles), or the original app's one "
        "UPDATE per move without explicit locks (no swaps)",
    )
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.clients, args.seconds, args.moves)))
