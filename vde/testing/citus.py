"""Which shards each statement reached on a Citus coordinator, for tests.

On Citus a statement that names the owner runs on one shard group (one
shard of each co-located table, on one node); one that does not runs on
every shard. A test states which it expects: inside ``async with
shard_log(connection) as log`` the coordinator reports each command it sends
to a worker (``citus.log_remote_commands``, delivered by asyncpg as NOTICEs
that carry the statement that caused them), and ``log.statements`` lists, per
statement, the shards, shard groups and nodes it reached.
:func:`assert_one_shard_group` checks that each statement reached one shard
group, apart from those the caller names. A statement that reached no shard
(the coordinator's own tables, ``BEGIN``) is not listed; a statement run twice
in a row is listed once, with both runs' shards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

_SHARDS = """
SELECT s.shardid, s.logicalrelid::regclass::text AS table,
       p.colocationid, s.shardminvalue
FROM pg_dist_shard s JOIN pg_dist_partition p USING (logicalrelid)
"""
#: A shard's name: its table's name and its id (``vde_map_items_102008``).
_SHARD_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_$]*_(\d+)\b")
_NODE = re.compile(r"on server \S+@(\S+?) connectionId")


@dataclass
class Touched:
    """What one statement reached."""

    statement: str
    shards: set[int] = field(default_factory=set)
    #: Co-located shards of one hash range form a group (one node's work).
    groups: set[tuple[int, str]] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    #: It took part in a two-phase commit (a write on several nodes).
    two_phase: bool = False

    def __str__(self) -> str:
        return (
            f"{len(self.groups)} shard group(s) on {len(self.nodes)} node(s): "
            f"{self.statement.strip()[:200]}"
        )


@dataclass
class ShardLog:
    """The statements of a block and the shards each reached, in order."""

    statements: list[Touched] = field(default_factory=list)
    shard_groups: dict[int, tuple[int, str]] = field(default_factory=dict)

    def add(self, message: Any) -> None:
        statement = message.query or ""
        if not self.statements or self.statements[-1].statement != statement:
            self.statements.append(Touched(statement))
        touched = self.statements[-1]
        text = message.message or ""
        for match in _SHARD_NAME.finditer(text):
            shard = int(match.group(1))
            if shard in self.shard_groups:
                touched.shards.add(shard)
                touched.groups.add(self.shard_groups[shard])
        node = _NODE.search(message.detail or "")
        if node and touched.shards:
            touched.nodes.add(node.group(1))
        if "PREPARE TRANSACTION" in text or "COMMIT PREPARED" in text:
            touched.two_phase = True

    def reaching_shards(self) -> list[Touched]:
        """The statements that reached at least one shard."""
        return [t for t in self.statements if t.shards]

    def two_phase_commits(self) -> int:
        """How many commits were two-phase (a write that reached several nodes)."""
        return sum(t.two_phase for t in self.statements)


@asynccontextmanager
async def shard_log(connection: asyncpg.Connection) -> AsyncIterator[ShardLog]:
    """Log the shards each statement run on ``connection`` in the block reaches.

    ``connection`` is a coordinator's; the setting is the session's, reset
    afterwards.
    """
    log = ShardLog()
    for row in await connection.fetch(_SHARDS):
        # Co-located shards share their hash range: (co-location, range start).
        log.shard_groups[row["shardid"]] = (row["colocationid"], row["shardminvalue"])

    def listen(_: asyncpg.Connection, message: Any) -> None:
        log.add(message)

    await connection.execute("SET citus.log_remote_commands = on")
    connection.add_log_listener(listen)
    try:
        yield log
    finally:
        await asyncio.sleep(0)  # the listeners run from the event loop
        connection.remove_log_listener(listen)
        await connection.execute("RESET citus.log_remote_commands")


def assert_one_shard_group(log: ShardLog, allowed: Collection[str] = ()) -> None:
    """Every statement that reached a shard reached one shard group, except
    those containing one of the ``allowed`` texts (statements documented to
    reach every shard); AssertionError lists the others."""
    wide = [
        touched
        for touched in log.reaching_shards()
        if len(touched.groups) != 1
        and not any(text in touched.statement for text in allowed)
    ]
    assert not wide, "statements beyond one shard group:\n" + "\n".join(
        str(touched) for touched in wide
    )
