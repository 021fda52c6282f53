"""``--apply``: originals aside, vde's schema by its own migrations, every row across.

Everything runs on the connection of ONE Piccolo transaction: Piccolo's
``PostgresTransaction`` joins an open one (``allow_nested=True``), so the
migrations that ``run_forwards`` applies and the ``migration`` rows it writes
commit or roll back together with the copy. Nothing is visible to others until
the commit; a kill at any point leaves the database as it was. Every relation
is named with its schema: the search_path is pinned (:mod:`.trust`).
"""

from __future__ import annotations

import contextlib
import io

import asyncpg
from piccolo.apps.migrations.tables import Migration

from vde.database.forwards import MigrationKey, apply_all_in_current_transaction
from vde.ops.adopt import trust
from vde.ops.adopt.conversions import FIXES, expressions, source_from
from vde.ops.adopt.findings import CONTAINER_TITLE, Plan
from vde.ops.adopt.layout import ORIGINALS_SCHEMA, TABLES, Layout
from vde.registry import APP_NAMES
from vde.sql import quoted

#: The temporary table of new composition containers.
CONTAINERS = "adopt_containers"


class AdoptError(RuntimeError):
    """``--apply`` could not finish; the transaction is rolled back."""


async def lock_originals(
    connection: asyncpg.Connection, layout: Layout, write: bool = True
) -> None:
    """No writer may change the originals between the plan and the copy, and
    nobody may give them (or ``migration``) a trigger, rule, policy, owner or
    column type between :func:`.trust.untrusted` and the commit.

    :param write: for ``--apply``; the report only keeps them as they are.
    """
    names = [*layout.tables, *layout.leftovers, *layout.partial]
    tables = ", ".join(quoted(layout.schema, t) for t in names)
    mode = "ACCESS EXCLUSIVE" if write else "ACCESS SHARE"
    await connection.execute(f"LOCK TABLE {tables} IN {mode} MODE")
    if layout.migration_rows is not None:
        # SHARE: readers of Piccolo's records may go on until adopt writes them.
        await connection.execute(
            f"LOCK TABLE {quoted(layout.schema, 'migration')} IN "
            f"{'SHARE' if write else 'ACCESS SHARE'} MODE"
        )


async def move_originals(connection: asyncpg.Connection, layout: Layout) -> None:
    """Into a schema of their own; their sequences, indexes and constraints go
    along (``SET SCHEMA`` moves what a table owns), freeing every vde name."""
    await connection.execute(f"CREATE SCHEMA {quoted(ORIGINALS_SCHEMA)}")
    await connection.execute(
        f"COMMENT ON SCHEMA {quoted(ORIGINALS_SCHEMA)} IS 'The original app''s "
        "tables, kept by piccolo vde adopt; remove with DROP SCHEMA "
        f"{ORIGINALS_SCHEMA} CASCADE'"
    )
    for table in [*layout.tables, *layout.leftovers]:
        await connection.execute(
            f"ALTER TABLE {quoted(layout.schema, table)} "
            f"SET SCHEMA {quoted(ORIGINALS_SCHEMA)}"
        )


async def drop_partial(connection: asyncpg.Connection, layout: Layout) -> None:
    """Empty vde tables of an earlier, failed ``forwards all``, and their records."""
    if not layout.partial:
        return
    tables = ", ".join(quoted(layout.schema, t) for t in layout.partial)
    await connection.execute(f"DROP TABLE {tables} CASCADE")
    if layout.migration_rows:
        await connection.execute(
            f"DELETE FROM {quoted(layout.schema, 'migration')} "
            "WHERE app_name = ANY($1::text[])",
            list(APP_NAMES),
        )


async def build_schema(
    connection: asyncpg.Connection, layout: Layout, stop: MigrationKey | None = None
) -> int:
    """vde's migrations, recorded in ``migration``, inside the open transaction.

    Only they see the schema's own functions and operators (:mod:`.trust`).
    ``stop``: the migrations from this one on are left for a second call.
    """
    output = io.StringIO()
    await trust.migrations_path(connection, layout.schema)
    with contextlib.redirect_stdout(output):
        try:
            if layout.migration_rows is None and stop is not None:
                # Not IF NOT EXISTS: a relation that took the name meanwhile
                # fails the build instead of receiving the records.
                await Migration.create_table()
            applied = await apply_all_in_current_transaction(stop)
        except Exception as error:
            raise AdoptError(
                f"migrations failed: {error!r}\n{output.getvalue()}"
            ) from error
    await trust.repin(connection)
    return len(applied)


async def target_types(
    connection: asyncpg.Connection, schema: str, table: str
) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        quoted(schema, table),
    )
    return {row[0]: row[1] for row in rows}


async def stage_fixes(connection: asyncpg.Connection, plan: Plan) -> None:
    """The plan's per-row changes, as temporary tables the copy joins."""
    rows: dict[str, list[tuple[object, ...]]] = {
        "vde_map_items": [
            (tile_id, fix.path, fix.parent_id)
            for tile_id, fix in sorted(plan.tile_fixes.items())
        ],
        "vde_base_item_versions": sorted(plan.version_fixes.items()),
        "accounts": sorted(plan.account_fixes.items()),
    }
    for table, (name, id_type, columns) in FIXES.items():
        body = ", ".join(f"{c} {t}" for c, t in columns.items())
        await connection.execute(
            f"CREATE TEMP TABLE {name} (id {id_type} PRIMARY KEY, {body}) "
            "ON COMMIT DROP"
        )
        await connection.copy_records_to_table(
            name, records=rows[table], schema_name="pg_temp"
        )
    await connection.execute(
        f"CREATE TEMP TABLE {CONTAINERS} (id integer, base_item_id integer, "
        "coord_user_id integer, coord_group_id integer, path text, "
        "parent_id integer) ON COMMIT DROP"
    )
    await connection.copy_records_to_table(
        CONTAINERS,
        schema_name="pg_temp",
        records=[
            (
                c.id,
                c.base_item_id,
                c.coord_user_id,
                c.coord_group_id,
                c.path,
                c.parent_id,
            )
            for c in plan.containers
        ],
    )


async def copy_rows(connection: asyncpg.Connection, layout: Layout, plan: Plan) -> None:
    """Every original row into its vde table, ids kept, conversions applied."""
    await stage_fixes(connection, plan)
    for table, target in TABLES.items():
        types = await target_types(connection, layout.schema, target)
        exprs = expressions(layout, table, types)
        columns = ", ".join(quoted(c) for c in exprs)
        select = (
            f"SELECT {', '.join(exprs.values())} "
            f"FROM {source_from(layout, ORIGINALS_SCHEMA, table)}"
        )
        if table == "vde_base_items":
            await connection.execute(
                f"INSERT INTO {quoted(layout.schema, target)} (id, title, content) "
                f"SELECT base_item_id, $1, '' FROM pg_temp.{CONTAINERS}",
                CONTAINER_TITLE,
            )
        if table == "vde_map_items":
            # One statement: the tree check (statement level) sees containers
            # and the children that hang below them together.
            select += " UNION ALL " + _container_tiles(list(exprs), types)
        await connection.execute(
            f"INSERT INTO {quoted(layout.schema, target)} ({columns}) {select}"
        )


def _container_tiles(columns: list[str], types: dict[str, str]) -> str:
    given = {
        "id": "c.id",
        "coord_user_id": "c.coord_user_id",
        "coord_group_id": "c.coord_group_id",
        "path": "c.path",
        "item_type": "'base'",
        "parent_id": "c.parent_id",
        "ref_item_id": "c.base_item_id",
        "created_at": "now()",
        "updated_at": "now()",
    }
    values = [f"({given.get(c, 'NULL')})::{types[c]}" for c in columns]
    return f"SELECT {', '.join(values)} FROM pg_temp.{CONTAINERS} c"


async def restart_identities(connection: asyncpg.Connection, layout: Layout) -> None:
    """Each identity (or owned sequence) continues after the highest value copied.

    Every such column, not only ``id``: a later migration may give another
    column a generated default, and a sequence left at 1 would collide.
    """
    for target in TABLES.values():
        table = quoted(layout.schema, target)
        columns = await connection.fetch(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1)"
            " AND attnum > 0 AND NOT attisdropped"
            " AND pg_get_serial_sequence($1, attname) IS NOT NULL",
            table,
        )
        for (column,) in columns:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), "
                f"coalesce(max({quoted(column)}), 0) + 1, false) FROM {table}",
                table,
                column,
            )
