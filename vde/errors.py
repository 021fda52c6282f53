"""The errors vde's own helpers raise, so callers can catch them by meaning.

Constraint violations of plain Piccolo writes stay asyncpg's
(``asyncpg.exceptions.IntegrityConstraintViolationError`` and its subclasses):
they already name the rule that was broken. What vde's helpers refuse before or
instead of such a violation is one of these.

Each class names the HTTP status that fits it (``http_status``), so a web layer
maps them all with one exception handler: 404 for what is missing, 409 for a
conflict with the map as it is, 422 for input that can never work, 500 for
what is wrong on the server's side (docs/usage.md has the table).
"""

from __future__ import annotations

from typing import ClassVar

#: How much of a caller's input an error message repeats.
ECHO_LIMIT = 80


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for error messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


class VdeError(Exception):
    """Base of every error vde's helpers raise."""

    #: The HTTP status a web layer answers with; a subclass without its own
    #: is a fault on the server's side.
    http_status: ClassVar[int] = 500


class InvalidArgumentError(VdeError, ValueError):
    """An argument a helper cannot use (a negative limit, a wrong type); nothing ran.

    Also a ``ValueError``, so code that catches bad values the Python way works.
    """

    http_status: ClassVar[int] = 422


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of a type a helper does not take; also a ``TypeError``."""


class InvalidCoordinatesError(InvalidArgumentError):
    """Coordinates the database would refuse: a path too long or malformed, an
    owner or group id outside PostgreSQL's integer range."""


class UserNotFoundError(VdeError):
    """No auth user (``vde_users`` row) has the id an operation was given; nothing
    was written."""

    http_status: ClassVar[int] = 404


class EngineMismatchError(VdeError):
    """A unit of work (or a pool) was asked for on an engine vde cannot use:
    not the one the tables run on, or not a PostgreSQL engine."""

    http_status: ClassVar[int] = 500


class TreeError(VdeError):
    """A map operation that would break the tree; nothing was written."""

    http_status: ClassVar[int] = 409


class TileNotFoundError(TreeError):
    """The tile an operation starts from, or the parent of its target, is missing."""

    http_status: ClassVar[int] = 404


class TargetOccupiedError(TreeError):
    """The target coordinates already hold a tile (the message names them)."""

    http_status: ClassVar[int] = 409


class TargetTooDeepError(TreeError):
    """A tile of the moved or copied subtree would get a path over 255 characters.

    Found from the locked subtree before the statement that would write it.
    """

    http_status: ClassVar[int] = 409


class InvalidMoveError(TreeError):
    """A move, swap or copy whose shape can never keep a tree (into itself, a root)."""

    http_status: ClassVar[int] = 422
