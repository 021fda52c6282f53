"""What ``adopt`` finds, as plain data: cases by kind and the per-row changes.

Three kinds of finding:

- *repairs*: lossless, always applied (timestamps read as UTC, better-auth 1.3's
  NULL meanings in ``apikey``, upper-case item types, composition containers);
- *decided*: rows the original app could leave but vde refuses, each with the
  documented decision that ``--repair`` makes (docs/adopt.md, "Decisions"):
  tiles with a step outside 0-6 or a trailing comma move to the lowest
  free direction under the same parent; a tile whose parent is in another map
  or at another path gets the tile at its coordinates' parent; versions 0 or
  duplicated are renumbered 1..n in their order; a duplicate sign-in identity
  stays with its oldest account, the others' account_id is marked;
- *refused*: no safe repair; ``--apply`` refuses while any is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vde.llm.job_status import JobStatus
from vde.mapping.coordinates import Direction

#: Directions tried, in order, for a tile placed by ``--repair``.
FREE_ORDER = ("1", "2", "3", "4", "5", "6", "0")
VALID_STEPS = frozenset(str(direction.value) for direction in Direction)
CONTAINER_TITLE = "Composition Container"
JOB_STATUSES = tuple(status.value for status in JobStatus)
NAIVE = "timestamp without time zone"


@dataclass(frozen=True)
class Finding:
    """One case: which rule, which rows (ids), what changes or why it is refused."""

    case: str
    table: str
    ids: tuple[Any, ...]
    detail: str


@dataclass(frozen=True)
class TileFix:
    path: str
    parent_id: int | None
    item_type: str


@dataclass(frozen=True)
class Container:
    """A new tile at ``P,0`` (and its base item) for tiles the app put at ``P,0,d``."""

    id: int
    base_item_id: int
    coord_user_id: int
    coord_group_id: int
    path: str
    parent_id: int


@dataclass
class Plan:
    repairs: list[Finding] = field(default_factory=list)
    decided: list[Finding] = field(default_factory=list)
    refused: list[Finding] = field(default_factory=list)
    #: Tiles whose path, parent or item type change (id -> new values).
    tile_fixes: dict[int, TileFix] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)
    #: Versions renumbered (id -> new number).
    version_fixes: dict[int, int] = field(default_factory=dict)
    #: Accounts whose account_id is marked as a duplicate (id -> new value).
    account_fixes: dict[str, str] = field(default_factory=dict)

    def blocked(self, repair: bool) -> bool:
        return bool(self.refused) or (bool(self.decided) and not repair)


@dataclass
class Tile:
    """A tile as the original app left it."""

    id: int
    user: int
    group: int
    path: str
    item_type: str
    parent_id: int | None
    origin_id: int | None

    def where(self) -> str:
        return f"tile {self.id} (map {self.user}/{self.group}, path {self.path!r})"
