"""The kinds of tile; the database checks the same two values."""

from __future__ import annotations

from enum import StrEnum


class MapItemType(StrEnum):
    """``user``: the root tile of a map; ``base``: every other tile."""

    USER = "user"
    BASE = "base"
