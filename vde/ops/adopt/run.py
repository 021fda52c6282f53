"""The two modes of ``piccolo vde adopt``: the report and ``--apply``.

Both return the exit status and print as they go. The report reads in one
read-only snapshot; ``--apply`` plans again inside its own transaction, under
the originals' locks, so it acts on exactly what it printed. Both pin the
search_path first and read no row before :mod:`.trust` found nothing in the way.
"""

from __future__ import annotations

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from vde.database.migration_lock import lock_migrations
from vde.ops.adopt import copy, trust, verify
from vde.ops.adopt.findings import Finding, Plan
from vde.ops.adopt.layout import ORIGINALS_SCHEMA, Kind, Layout, count_rows, detect
from vde.ops.adopt.owners import OWNER_MIGRATION, count_owners
from vde.ops.adopt.plan import make_plan
from vde.ops.adopt.report import (
    layout_lines,
    plan_lines,
    trust_lines,
    trust_verdict,
    verdict,
)
from vde.sql import quoted

REMOVE_ORIGINALS = f"DROP SCHEMA {ORIGINALS_SCHEMA} CASCADE"


class Refused(Exception):
    """The plan has cases left: roll back (the transaction wrote nothing yet)."""


async def report(engine: PostgresEngine, repair: bool, trusting: list[str]) -> int:
    """:param trusting: the roles named with ``--trust``."""
    connection = await engine.get_new_connection()
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            schema = await trust.pin(connection)
            trusted = await trust.trusted_roles(connection, trusting)
            layout = await detect(connection, schema)
            status = _not_adoptable(layout)
            if status is None:
                await copy.lock_originals(connection, layout, write=False)
                status = await _distrusted(connection, layout, trusted, "would be")
            if status is None:
                await count_rows(connection, layout)
                plan = await full_plan(connection, layout)
                _print([*layout_lines(layout), *plan_lines(plan, repair)])
                owners = await count_owners(
                    connection,
                    quoted(layout.schema, "vde_base_items"),
                    quoted(layout.schema, "vde_map_items"),
                )
                print(owners.line("would be"))
                print(verdict(plan, repair))
                status = 1 if plan.blocked(repair) else 0
    except trust.UnknownRole as error:
        print(f"adopt: {error}")
        return 1
    finally:
        await connection.close()
    return status


async def apply(engine: PostgresEngine, repair: bool, trusting: list[str]) -> int:
    """:param trusting: the roles named with ``--trust``."""
    try:
        async with engine.transaction() as transaction:
            connection: asyncpg.Connection = transaction.connection
            schema = await trust.pin(connection)
            # The lock `piccolo vde migrate` takes: no migrate runs meanwhile.
            await lock_migrations(engine)
            await connection.execute("SET LOCAL TimeZone = 'UTC'")
            trusted = await trust.trusted_roles(connection, trusting)
            layout = await detect(connection, schema)
            status = _not_adoptable(layout)
            if status is None:
                await copy.lock_originals(connection, layout)
                status = await _distrusted(connection, layout, trusted, "is")
            if status is not None:
                raise Refused(status)
            await count_rows(connection, layout)
            plan = await full_plan(connection, layout)
            _print([*layout_lines(layout), *plan_lines(plan, repair)])
            if plan.blocked(repair):
                print(verdict(plan, repair).replace("would be", "is"))
                raise Refused(1)
            await copy.drop_partial(connection, layout)
            await copy.move_originals(connection, layout)
            ran = await copy.build_schema(connection, layout, OWNER_MIGRATION)
            await copy.copy_rows(connection, layout, plan)
            await copy.restart_identities(connection, layout)
            problems = await verify.differences(connection, layout, plan)
            if problems:
                raise copy.AdoptError(
                    "verification failed, rolled back:\n  " + "\n  ".join(problems)
                )
            print(
                f"Verified: row counts and checksums of all {len(layout.tables)} "
                f"tables match the originals (plus {len(plan.containers)} "
                "container tile(s))."
            )
            owners = await count_owners(
                connection,
                quoted(layout.schema, "vde_base_items"),
                quoted(layout.schema, "vde_map_items"),
            )
            ran += await copy.build_schema(connection, layout)
            await copy.restart_identities(connection, layout)
            print(f"Built vde's schema: {ran} migration(s) applied and recorded.")
            print(owners.line())
    except Refused as refused:
        return int(refused.args[0])
    except trust.UnknownRole as error:
        print(f"adopt: {error}")
        return 1
    except (copy.AdoptError, asyncpg.PostgresError) as error:
        print(f"--apply failed and was rolled back, nothing changed: {error}")
        return 1
    print(
        f"Adopted. The original tables are kept in schema {ORIGINALS_SCHEMA}; "
        f"once you have checked vde's, remove them with: {REMOVE_ORIGINALS}"
    )
    return 0


async def full_plan(connection: asyncpg.Connection, layout: Layout) -> Plan:
    plan = await make_plan(connection, layout)
    if await connection.fetchval(
        "SELECT to_regnamespace($1) IS NOT NULL", ORIGINALS_SCHEMA
    ):
        plan.refused.append(
            Finding(
                "originals schema exists",
                ORIGINALS_SCHEMA,
                (),
                f"schema {ORIGINALS_SCHEMA} already exists beside the original "
                "tables: rename or drop it, adopt keeps the originals there",
            )
        )
    if layout.partial:
        finding = Finding(
            "vde tables of an earlier `forwards all`",
            layout.schema,
            tuple(layout.partial),
            ", ".join(f"{t} ({n} rows)" for t, n in layout.partial.items()),
        )
        if any(layout.partial.values()):
            plan.refused.append(finding)
        else:
            plan.repairs.append(
                Finding(
                    finding.case,
                    finding.table,
                    finding.ids,
                    finding.detail + ": empty, dropped with their migration "
                    "records before vde's schema is built",
                )
            )
    return plan


async def _distrusted(
    connection: asyncpg.Connection, layout: Layout, trusted: list[int], mood: str
) -> int | None:
    """Print what a role adopt does not trust owns in its way; the status."""
    distrust = await trust.untrusted(connection, layout, trusted)
    if not distrust.findings:
        return None
    _print([*layout_lines(layout), *trust_lines(distrust.findings)])
    print(trust_verdict(distrust, mood))
    return 1


def _not_adoptable(layout: Layout) -> int | None:
    """Say what the database is when it is not the original app's; the status."""
    if layout.kind is Kind.ORIGINAL:
        return None
    if layout.kind is Kind.ADOPTED:
        print(
            f"Already adopted: vde's schema is here and the originals are kept in "
            f"schema {ORIGINALS_SCHEMA}. Nothing to do. Remove the originals "
            f"when you no longer need them: {REMOVE_ORIGINALS}"
        )
        return 0
    if layout.kind is Kind.VDE:
        print(
            "This database already has vde's schema (vde built it): nothing to "
            "adopt. Keep it current with `piccolo vde migrate`."
        )
        return 0
    if layout.kind is Kind.EMPTY:
        print(
            "This database is empty: nothing to adopt. Build vde's schema with "
            "`piccolo vde migrate`."
        )
        return 1
    print(f"Not a database of the original app that adopt knows: {layout.why}.")
    return 1


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)
