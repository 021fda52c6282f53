"""Utility statements (GRANT, ALTER ROLE, ...) with names and literals in them.

They take no bind parameters, so the names are quoted by PostgreSQL's own
``format()`` (``%I`` a name, ``%L`` a literal, ``%s`` text already quoted)
rather than by string building here.
"""

from __future__ import annotations

import asyncpg


async def run_formatted(
    connection: asyncpg.Connection, template: str, *args: str
) -> None:
    """Run a utility statement built by ``format()`` (it quotes names, literals)."""
    sql = await connection.fetchval(
        "SELECT format($1, VARIADIC $2::text[])", template, list(args)
    )
    await connection.execute(sql)
