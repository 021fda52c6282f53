"""The bench's data set, generated once in Python and copied into both schemas.

Everything is drawn from one ``random.Random`` (``RANDOM_SEED``), so two runs
load the same rows and draw the same query parameters. Ids are given explicitly
(identity columns accept them) so both databases hold identical rows, and parents come
before their children so any tree check sees a consistent map.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vde.llm.job_status import JobStatus

RANDOM_SEED = 6
#: A fixed clock: rows must not depend on the day the bench runs.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

USERS = 20_000
SESSIONS_PER_USER = 3
JOBS_PER_USER = 5
BASE_ITEMS = 100_000
VERSIONS_PER_ITEM = 3
BIG_MAP_DEPTH = 6
SMALL_MAPS = 2_000
SMALL_MAP_DEPTH = 3
#: Share of small-map tiles that are copies of a big-map tile (``origin_id``).
COPY_SHARE = 0.10
#: The big map's owner; small maps belong to users 2..1001 (groups 0 and 1).
BIG_MAP_OWNER = 1
MAPS_PER_SMALL_OWNER = 2

JOB_STATUSES = tuple(str(status) for status in JobStatus)

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "name", "email", "email_verified", "image", "created_at", "updated_at",
    ),
    "user_mapping": (
        "id", "auth_user_id", "mapping_user_id", "created_at", "updated_at",
    ),
    "sessions": (
        "id", "user_id", "token", "expires_at", "ip_address", "user_agent",
        "created_at", "updated_at",
    ),
    "api_keys": (
        "id", "name", "start", "prefix", "key", "user_id", "enabled",
        "rate_limit_enabled", "rate_limit_time_window", "rate_limit_max",
        "request_count", "created_at", "updated_at",
    ),
    "llm_job_results": (
        "id", "job_id", "user_id", "status", "request", "response", "error",
        "created_at", "updated_at",
    ),
    "base_items": (
        "id", "title", "content", "preview", "link", "created_at", "updated_at",
    ),
    "base_item_versions": (
        "id", "base_item_id", "title", "content", "preview", "link",
        "version_number", "created_at", "updated_by",
    ),
    "map_items": (
        "id", "coord_user_id", "coord_group_id", "path", "item_type", "origin_id",
        "parent_id", "ref_item_id", "created_at", "updated_at",
    ),
}
#: Load order: every table after the tables it points at.
LOAD_ORDER = tuple(COLUMNS)


def hex_tree(limit: int, depth: int | None = None) -> list[tuple[str, int]]:
    """Paths of a map in breadth-first order, each with its parent's index (-1).

    Every tile has six neighbours (directions 1-6), down to ``depth`` or until
    ``limit`` tiles; the centre slot 0 stays free (moves and copies land there).
    """
    tiles: list[tuple[str, int]] = [("", -1)]
    level = [0]
    generation = 0
    while len(tiles) < limit and (depth is None or generation < depth):
        next_level = []
        for parent in level:
            prefix = tiles[parent][0]
            for direction in range(1, 7):
                if len(tiles) == limit:
                    return tiles
                path = f"{prefix},{direction}" if prefix else str(direction)
                next_level.append(len(tiles))
                tiles.append((path, parent))
        level = next_level
        generation += 1
    return tiles


@dataclass
class Facts:
    """What the workload needs to know about the data to pick its parameters."""

    big_map: dict[str, int] = field(default_factory=dict)  # path -> tile id
    small_maps: list[tuple[int, int, int]] = field(default_factory=list)
    small_map_ids: dict[tuple[int, int, str], int] = field(default_factory=dict)
    #: (owner of the copy, id of the big-map tile it copies), one per copy
    copied_origins: list[tuple[int, int]] = field(default_factory=list)
    session_tokens: list[str] = field(default_factory=list)
    api_keys: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    next_tile_id: int = 0
    _by_depth: dict[int, list[str]] = field(default_factory=dict)

    def big_map_paths(self, depth: int) -> list[str]:
        """Paths of the big map's tiles at ``depth``, in breadth-first order."""
        if depth not in self._by_depth:
            self._by_depth[depth] = [
                p for p in self.big_map if p and p.count(",") == depth - 1
            ]
        return self._by_depth[depth]


@dataclass
class Dataset:
    rows: dict[str, list[Row]]
    facts: Facts

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def _stamp(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def _auth(rng: random.Random, facts: Facts) -> Iterator[tuple[str, Row]]:
    for k in range(1, USERS + 1):
        user_id = f"usr_{k:05d}"
        created = _stamp(k * 60)
        facts.user_ids.append(user_id)
        yield "users", (
            user_id, f"User {k}", f"user{k:05d}@example.org", k % 3 == 0, None,
            created, created,
        )
        yield "user_mapping", (k, user_id, k, created, created)
        for j in range(SESSIONS_PER_USER):
            token = f"{rng.getrandbits(128):032x}"
            facts.session_tokens.append(token)
            yield "sessions", (
                f"ses_{k:05d}_{j}", user_id, token, created + timedelta(days=30),
                f"10.{k % 250}.{j}.{k % 200}", "Mozilla/5.0 (bench)", created, created,
            )
        key = f"{rng.getrandbits(256):064x}"
        facts.api_keys.append(key)
        yield "api_keys", (
            f"key_{k:05d}", "default", key[:6], "vde_", key, user_id, True, True,
            86_400_000, 10, rng.randrange(100), created, created,
        )
        for j in range(JOBS_PER_USER):
            n = (k - 1) * JOBS_PER_USER + j
            status = JOB_STATUSES[rng.randrange(len(JOB_STATUSES))]
            at = created + timedelta(seconds=rng.randrange(90 * 86_400))
            yield "llm_job_results", (
                f"llm_{n:06d}", f"job_{n:06d}", user_id, status,
                f'{{"prompt": "Describe tile {n}", "model": "bench"}}',
                '{"text": "done"}' if status == "completed" else None,
                "timeout" if status == "failed" else None, at, at,
            )


def _content(rng: random.Random) -> Iterator[tuple[str, Row]]:
    words = ("hex", "map", "tile", "idea", "plan", "note", "link", "task", "goal")
    for i in range(1, BASE_ITEMS + 1):
        body = " ".join(words[rng.randrange(len(words))] for _ in range(20))
        link = f"https://example.org/items/{i}" if i % 5 == 0 else None
        created = _stamp(i)
        yield "base_items", (
            i, f"Tile {i}", body, body[:40], link, created, created,
        )
        for v in range(1, VERSIONS_PER_ITEM + 1):
            yield "base_item_versions", (
                (i - 1) * VERSIONS_PER_ITEM + v, i, f"Tile {i} (v{v})",
                f"{body} v{v}", body[:40], link, v, created + timedelta(hours=v),
                f"usr_{(i % USERS) + 1:05d}",
            )


def _ref_item(tile_id: int) -> int:
    return (tile_id - 1) % BASE_ITEMS + 1


def _tiles(rng: random.Random, facts: Facts) -> Iterator[tuple[str, Row]]:
    next_id = 1

    def one_map(
        owner: int, group: int, template: list[tuple[str, int]], copies: bool
    ) -> Iterator[tuple[str, Row]]:
        nonlocal next_id
        first = next_id
        for index, (path, parent) in enumerate(template):
            tile_id = first + index
            origin = None
            ref_item = _ref_item(tile_id)
            if copies and path and rng.random() < COPY_SHARE:
                # A copy shows its origin's content.
                origin = rng.randrange(2, len(facts.big_map) + 1)
                ref_item = _ref_item(origin)
                facts.copied_origins.append((owner, origin))
            created = _stamp(tile_id)
            yield "map_items", (
                tile_id, owner, group, path, "base" if path else "user", origin,
                first + parent if parent >= 0 else None, ref_item, created, created,
            )
        next_id += len(template)

    big = hex_tree(limit=10**9, depth=BIG_MAP_DEPTH)
    facts.big_map = {path: index + 1 for index, (path, _) in enumerate(big)}
    yield from one_map(BIG_MAP_OWNER, 0, big, copies=False)
    small = hex_tree(limit=10**9, depth=SMALL_MAP_DEPTH)
    for m in range(SMALL_MAPS):
        owner = BIG_MAP_OWNER + 1 + m // MAPS_PER_SMALL_OWNER
        group = m % MAPS_PER_SMALL_OWNER
        facts.small_maps.append((owner, group, next_id))
        for index, (path, _) in enumerate(small):
            facts.small_map_ids[(owner, group, path)] = next_id + index
        yield from one_map(owner, group, small, copies=True)
    facts.next_tile_id = next_id


def generate() -> Dataset:
    """The whole data set (about 1.3 million rows, 574k of them tiles)."""
    rng = random.Random(RANDOM_SEED)
    facts = Facts()
    rows: dict[str, list[Row]] = {name: [] for name in COLUMNS}
    for part in (_auth(rng, facts), _content(rng), _tiles(rng, facts)):
        for table, row in part:
            rows[table].append(row)
    return Dataset(rows=rows, facts=facts)
