"""Assert on query plans: what a query reads, as a custom and as a generic plan.

asyncpg prepares and caches every statement; after five runs PostgreSQL may
switch a prepared statement to a *generic plan*, made without the parameter
values (``LIKE $1`` then loses its index). ``explain`` shows both plans the same
way a repository's statement gets them: ``PREPARE``, then ``EXPLAIN EXECUTE``
under ``plan_cache_mode`` forced to one or the other. Assert on plans, not on
timings: a plan is the same on every machine.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from vde.database.pool_mode import connect_options
from vde.sql import literal, quoted
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)
from vde.testing.guard import SecretUrl


@dataclass(frozen=True)
class Scan:
    """One node of a plan that reads a relation (``Seq Scan``, ``Index Scan``, ...)."""

    node: str
    relation: str | None
    index: str | None


async def explain(
    conn: asyncpg.Connection, sql: str, *args: Any, generic: bool
) -> dict[str, Any]:
    """The JSON plan (the top ``Plan`` node) of ``sql`` run with ``args``."""
    name = f"vde_explain_{secrets.token_hex(4)}"
    mode = "force_generic_plan" if generic else "force_custom_plan"
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        await conn.execute(f"PREPARE {quoted(name)} AS {sql}")
        try:
            values = f"({', '.join(map(literal_of, args))})" if args else ""
            text = await conn.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE {quoted(name)}{values}"
            )
        finally:
            await conn.execute(f"DEALLOCATE {quoted(name)}")
    plan: dict[str, Any] = json.loads(text)[0]["Plan"]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of ``plan``, depth first (CTEs and subplans included)."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans(plan: dict[str, Any]) -> list[Scan]:
    """The nodes that read a table or an index."""
    return [
        Scan(node["Node Type"], node.get("Relation Name"), node.get("Index Name"))
        for node in nodes(plan)
        if "Relation Name" in node or "Index Name" in node
    ]


def seq_scanned(plan: dict[str, Any]) -> set[str]:
    """The tables ``plan`` reads whole."""
    return {
        scan.relation
        for scan in scans(plan)
        if scan.node == "Seq Scan" and scan.relation is not None
    }


def indexes_used(plan: dict[str, Any]) -> set[str]:
    return {scan.index for scan in scans(plan) if scan.index is not None}


@asynccontextmanager
async def loaded_database(
    template: str, *load: str
) -> AsyncIterator[asyncpg.Connection]:
    """A scratch copy of ``template`` with ``load`` (SQL) run in it, then ANALYZEd.

    For plan tests: build the big table once per module, not once per test.
    """
    server = server_url()
    name = scratch_name("plans")
    url = SecretUrl(await create_database(server, name, template=template))
    try:
        conn = await asyncpg.connect(**connect_options({"dsn": url}))
        try:
            for sql in load:
                await conn.execute(sql)
            await conn.execute("ANALYZE")
            yield conn
        finally:
            await conn.close()
    finally:
        await drop_database(server, name)


def literal_of(value: Any) -> str:
    """``value`` as an SQL literal for ``EXECUTE`` (test values only); a list
    becomes a ``varchar[]``."""
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(map(literal_of, value)) + "]::varchar[]"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return literal(value)
    raise TypeError(f"no SQL literal for {value!r}")
