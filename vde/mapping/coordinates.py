"""Where a tile sits: (map owner, group, path), checked as the database checks it.

A path lists the directions taken from the map's root, e.g. ``'1,4,6'``; ``''`` is
the root. The format rule is ``PATH_PATTERN`` from ``vde.mapping.tables`` (the
same string the ``vde_map_items_path_format`` CHECK is built from) and the length
limit is the ``path`` column's, so Python refuses exactly what PostgreSQL refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from vde.errors import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidCoordinatesError,
    echo,
)
from vde.mapping.tables import PATH_PATTERN, MapItem

#: ``fullmatch``, not ``match``: Python's ``$`` also matches before a final
#: newline, PostgreSQL's does not ('3\n' must be refused by both).
_PATH_RE = re.compile(PATH_PATTERN)
#: The ``path`` column is varchar(255); each direction is one character.
MAX_PATH_LENGTH: int = MapItem.path.length or 0
assert MAX_PATH_LENGTH, "MapItem.path must be a varchar with a length"
MAX_DEPTH = (MAX_PATH_LENGTH + 1) // 2
#: PostgreSQL's integer range: coordinates and the map tables' row ids.
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1


class Direction(IntEnum):
    """A step from a tile: 0 is its centre (composition) slot, 1-6 its neighbours."""

    CENTER = 0
    NW = 1
    NE = 2
    E = 3
    SE = 4
    SW = 5
    W = 6


def parse_path(path: str) -> tuple[Direction, ...]:
    """``'1,4,6'`` -> ``(NW, SE, W)``; ``''`` -> ``()``."""
    _check_path(path)
    return tuple(Direction(int(step)) for step in path.split(",")) if path else ()


def format_path(directions: Iterable[int]) -> str:
    """``(NW, SE, W)`` (or plain ints) -> ``'1,4,6'``; ``()`` -> ``''``."""
    steps = []
    for step in directions:
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= 6:
            raise InvalidCoordinatesError(
                f"direction must be an integer 0-6, got {echo(step)}"
            )
        steps.append(str(int(step)))
    path = ",".join(steps)
    _check_length(path)
    return path


def path_length_at_depth(depth: int) -> int:
    """Length of any path ``depth`` steps below the root: 0, 1, 3, 5, ..."""
    return max(0, 2 * depth - 1)


def _check_path(path: str) -> None:
    # Length first: a 10,000-character path is "too long", whatever it holds,
    # and the pattern need not scan it.
    if not isinstance(path, str):
        raise InvalidCoordinatesError(f"path must be a string, got {echo(path)}")
    _check_length(path)
    if not _PATH_RE.fullmatch(path):
        raise InvalidCoordinatesError(
            f"invalid path {echo(path)}: {_path_problem(path)}"
        )


def _check_length(path: str) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidCoordinatesError(
            f"path is {len(path)} characters long, the limit is {MAX_PATH_LENGTH} "
            f"(a tile at most {MAX_DEPTH} steps below the root)"
        )


def _path_problem(path: str) -> str:
    """Say what is wrong with a path the pattern refused."""
    for position, step in enumerate(path.split(","), start=1):
        if step == "":
            return f"step {position} is empty (no leading, trailing or double commas)"
        if step not in {"0", "1", "2", "3", "4", "5", "6"}:
            return f"step {position} is {echo(step)}, not a direction 0-6"
    return "expected directions 0-6 separated by commas, e.g. '', '3', '1,4,6'"


def check_count(name: str, value: object, low: int, high: int | None) -> None:
    """An ``int`` (not a bool) from ``low`` to ``high`` (None: no upper bound).

    Here rather than in ``vde.mapping.arguments`` (which uses it too), because
    :meth:`MapCoordinates.descendant_length_limit` checks its generations.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"{name} must be an integer, got {echo(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise InvalidArgumentError(f"{name} must be {bounds}, got {echo(value)}")


def check_int4(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCoordinatesError(f"{name} must be an integer, got {echo(value)}")
    if not INT4_MIN <= value <= INT4_MAX:
        raise InvalidCoordinatesError(
            f"{name} {echo(value)} does not fit PostgreSQL's integer column"
        )


@dataclass(frozen=True, slots=True)
class MapCoordinates:
    """A tile's place: ``coord_user_id``, ``coord_group_id`` and ``path``.

    Values are checked on creation, so a ``MapCoordinates`` always names a
    coordinate the database would accept.
    """

    user_id: int
    group_id: int = 0
    path: str = ""

    def __post_init__(self) -> None:
        check_int4("user_id", self.user_id)
        check_int4("group_id", self.group_id)
        _check_path(self.path)

    @classmethod
    def root(cls, user_id: int, group_id: int = 0) -> MapCoordinates:
        return cls(user_id, group_id, "")

    @classmethod
    def from_directions(
        cls, user_id: int, group_id: int, directions: Iterable[int]
    ) -> MapCoordinates:
        return cls(user_id, group_id, format_path(directions))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MapCoordinates:
        """The coordinates of a ``vde_map_items`` row (a dict or asyncpg Record)."""
        return cls(row["coord_user_id"], row["coord_group_id"], row["path"])

    @property
    def directions(self) -> tuple[Direction, ...]:
        return parse_path(self.path)

    @property
    def depth(self) -> int:
        """Steps below the root (0 for the root), read from the length as SQL does."""
        return (len(self.path) + 1) // 2

    @property
    def is_root(self) -> bool:
        return self.path == ""

    @property
    def parent(self) -> MapCoordinates | None:
        """The tile one step up; None for the root."""
        if self.is_root:
            return None
        return MapCoordinates(self.user_id, self.group_id, self.path[:-2])

    def is_within(self, top: MapCoordinates) -> bool:
        """This is ``top``'s place or the place of one of its descendants."""
        return (
            self.user_id == top.user_id
            and self.group_id == top.group_id
            and (
                top.is_root
                or self.path == top.path
                or self.path.startswith(top.path + ",")
            )
        )

    def child(self, direction: int) -> MapCoordinates:
        """The tile one step further in ``direction`` (0-6)."""
        step = format_path([direction])
        path = f"{self.path},{step}" if self.path else step
        _check_length(path)
        return MapCoordinates(self.user_id, self.group_id, path)

    def descendant_bounds(self) -> tuple[str, str]:
        """``(lower, upper)``: descendants are ``path >= lower AND path < upper``.

        For ``P`` that is ``['P,', 'P-')``: ``'-'`` is the byte after ``','``, and
        under the path's ``COLLATE "C"`` the range is an index range on the
        coordinates index with any plan (``LIKE $n`` is not, in a generic plan).
        For the root it is ``['0', '7')``: every other path of a map starts with a
        direction digit (the CHECK guarantees it), and ``''`` sorts before ``'0'``,
        so the same two-parameter range means "all but the root".
        """
        if self.is_root:
            return ("0", "7")
        return (f"{self.path},", f"{self.path}-")

    def subtree_bounds(self) -> tuple[str, str]:
        """``(lower, upper)``: this tile and its descendants, as one path range.

        :meth:`descendant_bounds` with this tile's own path as the lower bound:
        ``[P, P-)``, and a root's whole map ``['', '7')``.
        """
        return (self.path, self.descendant_bounds()[1])

    def descendant_length_limit(self, generations: int | None) -> int:
        """Longest path at most ``generations`` steps below this tile.

        ``length(path) <= limit`` bounds the depth without splitting paths per
        row; ``None`` means no bound (the column's limit).
        """
        if generations is None:
            return MAX_PATH_LENGTH
        check_count("generations", generations, 0, None)
        return min(path_length_at_depth(self.depth + generations), MAX_PATH_LENGTH)
