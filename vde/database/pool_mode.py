"""Connections that work behind a transaction pooler, and a clear error without it.

Hosted PostgreSQL usually puts a pooler in front of the server (PgBouncer, or a
service that behaves like it) that lends a server connection for one
transaction at a time: ``pool_mode = transaction``. Everything inside a
transaction stays on one server connection, so vde's units of work, the
migration lock and the tree check hold. What does not survive is a *session*:
asyncpg names each statement it prepares and caches it per client connection,
and the next transaction runs on another server connection that never saw it.

``VDE_POOL_MODE=transaction`` (or ``pool_mode="transaction"``) turns the cache
off: asyncpg then sends every statement unnamed and parses it again each time
(docs/pooler.md measures the price). Every connection vde opens takes its
options from :func:`connect_options`: Piccolo's engine (``make_engine``), vde's
pools (``connection_pool``), the scratch and admin connections, the test
plugin's. Without the switch, the statement errors asyncpg raises behind such a
pooler become :class:`PoolerModeError`, which names it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import asyncpg

from vde.errors import InvalidArgumentError, VdeError, echo

#: Environment variable naming the pool mode of the server vde connects to.
POOL_MODE_VARIABLE = "VDE_POOL_MODE"
#: A direct connection, or a pooler that keeps a server connection per client.
SESSION = "session"
#: A pooler that lends a server connection per transaction.
TRANSACTION = "transaction"
POOL_MODES = (SESSION, TRANSACTION)

#: What asyncpg raises when a statement it cached is missing on the server
#: connection, or another client's statement of the same name is already there.
STATEMENT_ERRORS = (
    asyncpg.exceptions.InvalidSQLStatementNameError,
    asyncpg.exceptions.DuplicatePreparedStatementError,
)

Result = TypeVar("Result")


class PoolerModeError(VdeError):
    """A prepared statement was lost between transactions: a transaction pooler
    stands between vde and PostgreSQL. The message names the setting to use."""


def pool_mode(given: str | None = None) -> str:
    """``given``, else ``VDE_POOL_MODE``, else ``"session"``; refused if unknown."""
    mode = given if given is not None else os.environ.get(POOL_MODE_VARIABLE) or SESSION
    if mode in POOL_MODES:
        return mode
    hint = (
        ": a pooler in statement mode ends every transaction after one statement, "
        "so no unit of work can run through it; give vde a pool in transaction "
        "mode (or a direct URL)"
        if mode == "statement"
        else ""
    )
    raise InvalidArgumentError(
        f"{POOL_MODE_VARIABLE} (or pool_mode=) must be 'session' (a direct "
        "connection, or a pooler in session mode) or 'transaction' (PgBouncer's "
        f"pool_mode = transaction, as most hosted poolers run), not {echo(mode)}"
        f"{hint}"
    )


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _translating(
    method: Callable[..., Awaitable[Result]],
) -> Callable[..., Awaitable[Result]]:
    """``method`` of asyncpg's connection, its lost statements told as such."""

    @functools.wraps(method)
    async def run(self: VdeConnection, *args: Any, **kwargs: Any) -> Result:
        try:
            return await method(self, *args, **kwargs)
        except STATEMENT_ERRORS as error:
            raise self.pooler_error(error) from error

    return run


class VdeConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection for a direct server or a session-mode pooler.

    Its statement cache is on; when a cached statement is missing on the server
    connection (or collides with another client's), a transaction pooler lent
    another server connection: :class:`PoolerModeError` says what to set.
    Pools call these methods through their proxies, so Piccolo's queries on a
    pool are covered too.
    """

    def pooler_error(self, error: BaseException) -> PoolerModeError:
        return PoolerModeError(
            f"{_first_line(error)}: the statement ran on another server "
            "connection than the one that prepared it, so a transaction pooler "
            "(PgBouncer's pool_mode = transaction, a hosted database's pooled "
            f"URL) stands in front of PostgreSQL. Set {POOL_MODE_VARIABLE}="
            f"{TRANSACTION} (or make_engine(pool_mode='{TRANSACTION}')) for the "
            "connections through it; docs/pooler.md says which URL migrations use"
        )

    execute = _translating(asyncpg.Connection.execute)
    executemany = _translating(asyncpg.Connection.executemany)
    fetch = _translating(asyncpg.Connection.fetch)
    fetchval = _translating(asyncpg.Connection.fetchval)
    fetchrow = _translating(asyncpg.Connection.fetchrow)
    fetchmany = _translating(asyncpg.Connection.fetchmany)
    prepare = _translating(asyncpg.Connection.prepare)


class PoolerConnection(VdeConnection):
    """asyncpg's connection behind a transaction pooler: no statement cache
    (:func:`connect_options` sets ``statement_cache_size=0``), no reset query.

    A pool resets a connection it takes back (``RESET ALL``, unlocking session
    advisory locks, ...); behind the pooler that statement would run on
    whichever server connection is free, another client's session state, and
    there is no session state of this client to reset.
    """

    def get_reset_query(self) -> str:
        return ""

    def pooler_error(self, error: BaseException) -> PoolerModeError:
        return PoolerModeError(
            f"{_first_line(error)}: behind a transaction pooler a prepared "
            "statement lives only as long as its transaction; prepare and use it "
            "inside one (vde.transactions.atomic())"
        )


#: The connection class of each pool mode.
CONNECTION_CLASSES: dict[str, type[VdeConnection]] = {
    SESSION: VdeConnection,
    TRANSACTION: PoolerConnection,
}


def mode_of(config: Mapping[str, Any]) -> str | None:
    """The pool mode asyncpg ``connect`` arguments were made for by
    :func:`connect_options`, or None (made without vde)."""
    made = config.get("connection_class")
    if isinstance(made, type) and issubclass(made, PoolerConnection):
        return TRANSACTION
    if isinstance(made, type) and issubclass(made, VdeConnection):
        return SESSION
    return None


def connect_options(
    config: Mapping[str, Any], mode: str | None = None
) -> dict[str, Any]:
    """asyncpg ``connect`` (or ``create_pool``) arguments ``config``, with what
    the pool mode needs: vde's connection class, and no statement cache behind
    a transaction pooler.

    ``mode`` defaults to ``VDE_POOL_MODE``. Arguments this function made
    already keep their mode; asking for the other one is refused, as is a
    statement cache behind a transaction pooler. A connection class of the
    caller's own is kept.
    """
    options = dict(config)
    made_for = mode_of(options)
    if made_for is not None:
        if mode is not None and pool_mode(mode) != made_for:
            raise InvalidArgumentError(
                f"these connections were made for pool_mode={made_for!r}, not "
                f"{mode!r}: make the engine with the pool mode of its URL "
                f"(make_engine(pool_mode=...) or {POOL_MODE_VARIABLE})"
            )
        return options
    mode = pool_mode(mode)
    options.setdefault("connection_class", CONNECTION_CLASSES[mode])
    if mode == TRANSACTION:
        if options.get("statement_cache_size", 0) != 0:
            raise InvalidArgumentError(
                "statement_cache_size must be 0 behind a transaction pooler (a "
                "cached statement is prepared on one server connection and "
                f"reused on another), not {echo(options['statement_cache_size'])}"
            )
        options["statement_cache_size"] = 0
    return options
