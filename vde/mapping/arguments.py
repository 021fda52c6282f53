"""What every map operation checks of its arguments before it sends any SQL.

A value PostgreSQL or asyncpg would refuse mid-operation (a NUL character, a
lone surrogate, an id past the integer column, a limit past bigint) is refused
here instead, with an ``InvalidArgumentError`` that names the argument and says
what to pass. Only what needs the database is left to it: whether a user or a
tile exists.
"""

from __future__ import annotations

from vde.errors import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidCoordinatesError,
    InvalidMoveError,
    echo,
)
from vde.mapping.coordinates import INT4_MAX, MapCoordinates, check_count, check_int4
from vde.mapping.models import Tile

#: Longest auth user id taken (better-auth makes 32-character ids). Far below
#: what a btree entry holds, so a looked-up id can always be indexed.
MAX_USER_ID_LENGTH = 255
#: Most tiles one page of ``descendants`` returns; ``limit=None`` reads them all.
MAX_PAGE_SIZE = 10_000
#: The row ids of the map tables are PostgreSQL integers, counted from 1.
MAX_ID = INT4_MAX


def check_text(name: str, value: object) -> None:
    """Text a column stores: a ``str`` PostgreSQL can hold (no NUL, valid UTF-8)."""
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(
            f"{name} must be a string, got {type(value).__name__}"
        )
    if "\x00" in value:
        raise InvalidArgumentError(
            f"{name} contains a NUL character (position {value.index(chr(0))}), "
            "which PostgreSQL text cannot hold; remove it"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgumentError(
            f"{name} contains a lone surrogate {echo(value[error.start])} at "
            f"position {error.start}, which UTF-8 cannot encode; pass valid text"
        ) from None


def check_optional_text(name: str, value: object) -> None:
    """``None`` or text as :func:`check_text` takes it."""
    if value is not None:
        if not isinstance(value, str):
            raise InvalidArgumentTypeError(
                f"{name} must be a string or None, got {type(value).__name__}"
            )
        check_text(name, value)


def check_user_id(name: str, value: object) -> None:
    """An auth user's id (``vde_users.id``): non-empty text of bounded length."""
    if isinstance(value, str) and not 1 <= len(value) <= MAX_USER_ID_LENGTH:
        raise InvalidArgumentError(
            f"{name} must be a non-empty string of at most {MAX_USER_ID_LENGTH} "
            f"characters, got {echo(value)}"
        )
    check_text(name, value)


def check_id(name: str, value: object) -> None:
    """A row id of the map tables: an ``int`` (not a bool) from 1 to ``MAX_ID``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"{name} must be an int id, got {echo(value)}")
    if not 1 <= value <= MAX_ID:
        raise InvalidArgumentError(
            f"{name} {echo(value)} is no id: ids run from 1 to {MAX_ID}"
        )


def check_map_number(name: str, value: object) -> None:
    """A map's owner or group id: any integer its coordinates column holds."""
    check_int4(name, value)


def check_coordinates(name: str, value: object) -> None:
    if not isinstance(value, MapCoordinates):
        raise InvalidArgumentTypeError(
            f"{name} must be MapCoordinates, got {type(value).__name__}"
        )


def check_target(name: str, value: object) -> None:
    """Where a moved or copied subtree goes: coordinates, never a map's root."""
    check_coordinates(name, value)
    assert isinstance(value, MapCoordinates)
    if value.is_root:
        raise InvalidMoveError(f"{value} is a map root position; roots stay put")


def check_tile_ref(name: str, value: object) -> None:
    """A tile named by coordinates or by a ``Tile`` (``TileRef``).

    An id alone is refused: it does not name the map owner, and every
    statement on the map tables is routed by the owner.
    """
    if isinstance(value, MapCoordinates):
        return
    if isinstance(value, Tile):
        check_id(f"{name}.id", value.id)
        try:  # where it is looked for first
            MapCoordinates(value.coord_user_id, value.coord_group_id, value.path)
        except InvalidCoordinatesError as error:
            raise InvalidCoordinatesError(f"{name}: {error}") from None
        return
    if isinstance(value, int) and not isinstance(value, bool):
        raise InvalidArgumentError(
            f"{name} is the bare id {echo(value)}, which does not say whose map "
            "it is in; pass the Tile read earlier or its MapCoordinates"
        )
    raise InvalidArgumentTypeError(
        f"{name} must name a tile by MapCoordinates or a Tile, got {echo(value)}"
    )


def check_same_owner(
    operation: str, source: MapCoordinates, target: MapCoordinates
) -> None:
    """A subtree stays in its owner's maps: a tile shows only its owner's
    content, and a sharded server cannot move rows between owners' shards."""
    if source.user_id != target.user_id:
        raise InvalidMoveError(
            f"cannot {operation} {source} (owner {source.user_id}) into the map of "
            f"owner {target.user_id}: tiles stay in their owner's maps; copy it "
            "(copy_subtree), then delete it (delete_subtree)"
        )


def check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentTypeError(
            f"{name} must be True or False, got {echo(value)}"
        )


def check_page(generations: object, limit: object, offset: object) -> None:
    """``descendants``' bounds: ``generations`` >= 0, ``limit`` 1 to
    ``MAX_PAGE_SIZE``, ``offset`` 0 to ``MAX_ID`` (no map holds more tiles)."""
    if generations is not None:
        check_count("generations", generations, 0, None)
    if limit is not None:
        check_count("limit", limit, 1, MAX_PAGE_SIZE)
    check_count("offset", offset, 0, MAX_ID)


def check_generations(value: object) -> None:
    """How far below a tile to read: an ``int`` (not a bool) from 0, the tile alone.

    No upper bound: past the deepest possible path it reads what is there.
    """
    check_count("generations", value, 0, None)
