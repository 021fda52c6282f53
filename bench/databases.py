"""Two scratch databases holding the same rows: vde's schema and the original app's.

vde's side is built by vde's own migrations (so the bench measures whatever schema
is current); the original app's side from ``seed-schema.json``. Both are dropped by
:func:`scratch_sides` on the way out, failure or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench import seed_schema
from bench.generate import COLUMNS, LOAD_ORDER, Dataset, Row
from bench.progress import Progress
from vde.database.forwards import migrate_database
from vde.database.scratch import create_database, drop_database, scratch_name
from vde.ops.adopt.owners import OWNER_MIGRATION

#: Rows per COPY: small enough for a lively progress bar, big enough to be cheap.
CHUNK = 25_000


@dataclass(frozen=True)
class Side:
    """One of the two databases: its name in reports, URL and table names."""

    name: str
    url: str
    tables: dict[str, str]

    def table(self, logical: str) -> str:
        return self.tables[logical]


@asynccontextmanager
async def scratch_sides(server: str) -> AsyncIterator[tuple[Side, Side]]:
    """Create both databases (empty schemas), yield them, drop them afterwards."""
    names = {side: scratch_name(f"bench_{side}") for side in ("vde", "original")}
    try:
        vde_url = await create_database(server, names["vde"])
        # The data set is the original app's (tiles of several owners show one
        # base item): loaded before owner_id, which the rest of the migrations
        # fill as they fill any older database (docs/schema.md "Map owners").
        await migrate_database(vde_url, stop=OWNER_MIGRATION)
        original_url = await create_database(server, names["original"])
        schema = seed_schema.load()
        conn = await asyncpg.connect(original_url)
        try:
            for sql in seed_schema.create_tables(schema):
                await conn.execute(sql)
        finally:
            await conn.close()
        yield (
            Side("vde", vde_url, {k: v[0] for k, v in seed_schema.TABLES.items()}),
            Side(
                "original",
                original_url,
                {k: v[1] for k, v in seed_schema.TABLES.items()},
            ),
        )
    finally:
        for name in names.values():
            await drop_database(server, name)


def _converter(column_type: str) -> Callable[[Any], Any] | None:
    """The original app keeps some timestamps without time zone: naive UTC."""
    if column_type == "timestamp without time zone":
        return lambda value: value.replace(tzinfo=None) if value is not None else None
    return None


async def _converters(
    conn: asyncpg.Connection, table: str, columns: Iterable[str]
) -> list[Callable[[Any], Any] | None]:
    types = dict(
        await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = $1",
            table,
        )
    )
    return [_converter(types[column]) for column in columns]


def _convert(
    rows: list[Row], converters: list[Callable[[Any], Any] | None]
) -> list[Row]:
    if not any(converters):
        return rows
    return [
        tuple(f(v) if f else v for f, v in zip(converters, row, strict=True))
        for row in rows
    ]


async def copy_all(side: Side, dataset: Dataset, progress: Progress) -> None:
    conn = await asyncpg.connect(side.url)
    try:
        for logical in LOAD_ORDER:
            table = side.table(logical)
            columns = COLUMNS[logical]
            converters = await _converters(conn, table, columns)
            rows = dataset.rows[logical]
            for start in range(0, len(rows), CHUNK):
                chunk = _convert(rows[start : start + CHUNK], converters)
                await conn.copy_records_to_table(
                    table, records=chunk, columns=list(columns)
                )
                progress.advance(len(chunk))
    finally:
        await conn.close()


async def restart_identities(conn: asyncpg.Connection) -> None:
    """Identity counters past the copied ids (COPY gave every id explicitly)."""
    identities = await conn.fetch(
        "SELECT c.relname, a.attname FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE a.attidentity <> '' AND c.relnamespace = 'public'::regnamespace"
    )
    for table, column in identities:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"coalesce(max({column}), 0) + 1, false) FROM {table}"
        )


async def copy_into_vde(url: str, dataset: Dataset) -> Side:
    """vde's side alone: migrated up to the owner migration (the original app's
    rows have no owner), then the data set COPYed in; the rest is the caller's."""
    await migrate_database(url, stop=OWNER_MIGRATION)
    side = Side("vde", url, {k: v[0] for k, v in seed_schema.TABLES.items()})
    progress = Progress("loading", dataset.row_count())
    try:
        await copy_all(side, dataset, progress)
    finally:
        progress.close()
    return side


async def _finish(side: Side, after_copy: list[str]) -> None:
    """Keys and indexes (original side), identity counters, statistics."""
    conn = await asyncpg.connect(side.url)
    try:
        for sql in after_copy:
            await conn.execute(sql)
        if side.name == "original":
            wrong = await seed_schema.differences(conn, seed_schema.load())
            if wrong:
                raise RuntimeError("original schema rebuilt wrong: " + "; ".join(wrong))
        await restart_identities(conn)
        if side.name == "vde":
            await migrate_database(side.url)
        # Same state on both sides: indexes freshly built (vde's grew row by row
        # during COPY, up to 1.6x larger), visibility map set, fresh statistics.
        await conn.execute("REINDEX SCHEMA public")
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def load(dataset: Dataset, sides: tuple[Side, Side]) -> float:
    """COPY the data set into both databases at once; return the seconds taken."""
    started = datetime.now(UTC)
    progress = Progress("loading", dataset.row_count() * len(sides))
    try:
        await asyncio.gather(*(copy_all(side, dataset, progress) for side in sides))
    finally:
        progress.close()
    schema = seed_schema.load()
    await asyncio.gather(
        *(
            _finish(side, seed_schema.add_keys_and_indexes(schema)
                    if side.name == "original" else [])
            for side in sides
        )
    )
    return (datetime.now(UTC) - started).total_seconds()
