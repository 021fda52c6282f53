"""Whether the map tables are distributed (Citus) or on one server.

On a server sharded by owner a write commits in one phase on the owner's node
only when each INSERT carries its new ids, so there the map's writes draw
their ids from the sequences first, in statements of their own. One server
needs none of that: there the ids come from the columns' defaults inside the
write itself, one round trip fewer per write. Both ways write the same rows
and take the same locks.

The answer is asked once per connection and kept while the connection lives:
a connection opened before ``piccolo vde distribute --apply`` keeps answering
"one server" and keeps sending the one-server forms, which a sharded server
may refuse or commit in two phases; so reconnect, or restart the program,
after distributing (docs/scale-out.md).
"""

from __future__ import annotations

import weakref

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from vde.mapping.table_names import MAP_ITEMS

#: Whether the database has the Citus extension at all.
HAS_CITUS_SQL = (
    "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')"
)
#: Whether Citus distributes the tiles' table (and with it the content's,
#: co-located with it).
DISTRIBUTED_SQL = f"""
SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition
               WHERE logicalrelid = to_regclass('{MAP_ITEMS}'))
"""

_known: weakref.WeakKeyDictionary[asyncpg.Connection, bool] = (
    weakref.WeakKeyDictionary()
)


async def distributed(conn: asyncpg.Connection | PoolConnectionProxy) -> bool:
    """Whether ``conn``'s database distributes the map tables (Citus).

    Asked on a connection's first call, then kept for the connection (a
    pool's lent connection is the one it wraps).
    """
    underlying = conn._con if isinstance(conn, PoolConnectionProxy) else conn
    known = None if underlying is None else _known.get(underlying)
    if known is None:
        # A proxy given back to its pool has none: asyncpg's error says so.
        known = bool(await conn.fetchval(HAS_CITUS_SQL)) and bool(
            await conn.fetchval(DISTRIBUTED_SQL)
        )
        if underlying is not None:
            _known[underlying] = known
    return known
