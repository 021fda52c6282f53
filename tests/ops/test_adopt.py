"""``piccolo vde adopt`` on databases the original app left, run as a user runs it.

Each test builds a seed database (``adopt_seed``), runs the command in a
subprocess with ``DATABASE_URL`` pointing at it and checks the exit status, what
it printed and the rows: compared one by one with the originals, after the
documented conversions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.ops import adopt_seed
from tests.test_contract import contract_differences
from vde.database.migration_lock import MIGRATION_LOCK_KEY, lock_key_parts
from vde.mapping import copy_subtree, move_subtree
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.versions import append_version
from vde.ops.adopt.layout import ORIGINALS_SCHEMA, TABLES
from vde.ops.catalog import read_catalog
from vde.testing import ScratchDatabase
from vde.testing.databases import (
    create_database,
    drop_database,
    scratch_name,
    server_url,
)

REPO = Path(__file__).resolve().parents[2]


def piccolo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``piccolo ARGS`` in the repository with ``DATABASE_URL=url``."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "piccolo.main", *args],
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
    )


def start(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(
        [sys.executable, "-m", "piccolo.main", *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def at(conn: asyncpg.Connection, tile_id: int) -> MapCoordinates:
    """The coordinates of a tile the adopted database holds, to name it by."""
    row = await conn.fetchrow(
        "SELECT coord_user_id, coord_group_id, path FROM vde_map_items WHERE id = $1",
        tile_id,
    )
    return MapCoordinates(row["coord_user_id"], row["coord_group_id"], row["path"])


async def seed_database(variant: str, dirty: bool) -> AsyncIterator[str]:
    server = server_url()
    name = scratch_name("adopt")
    url = await create_database(server, name)
    try:
        await adopt_seed.build(url, variant=variant, dirty=dirty)
        yield url
    finally:
        await drop_database(server, name)


@pytest.fixture(params=["content", "descr"])
async def dirty_seed(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    async for url in seed_database(request.param, dirty=True):
        yield url


@pytest.fixture(params=["content", "descr"])
async def clean_seed(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    async for url in seed_database(request.param, dirty=False):
        yield url


# --- the expected vde rows, from the original ones --------------------------


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


#: Tiles of owners 1 (tile 2) and 2 (tile 11) show base item 2, which has
#: versions 1 and 2: it stays owner 1's (tile 2 is the lower id), owner 2 gets
#: a copy after the original items and the two containers.
SHARED_ITEM, SHARED_TILE = 2, 11


def shared_copy(dirty: bool) -> int:
    return 20 if dirty else 13


def expected_row(table: str, row: dict[str, Any], dirty: bool) -> dict[str, Any]:
    """An original row as vde must hold it (the README's documented conversions)."""
    out = {("content" if k == "descr" else k): _utc(v) for k, v in row.items()}
    if table == "apikey":
        limited = row["rate_limit_time_window"] is not None and (
            row["rate_limit_max"] is not None
        )
        out["enabled"] = True if row["enabled"] is None else row["enabled"]
        out["rate_limit_enabled"] = (
            True if row["rate_limit_enabled"] is None else row["rate_limit_enabled"]
        ) and limited
        out["rate_limit_time_window"] = row["rate_limit_time_window"] or 86_400_000
        out["rate_limit_max"] = row["rate_limit_max"] or 10
        out["request_count"] = row["request_count"] or 0
    if table == "vde_map_items":
        out["item_type"] = row["item_type"].lower()
        # New containers take the ids after the highest: '0' first, then '1,0'.
        first = 27 if dirty else 12
        composition = {5: first + 1, 6: first + 1, 7: first}
        if row["id"] in composition:
            out["parent_id"] = composition[row["id"]]
        if dirty and row["id"] in adopt_seed.DIRTY_TILE_RESULTS:
            out["path"], out["parent_id"] = adopt_seed.DIRTY_TILE_RESULTS[row["id"]]
        if row["id"] == SHARED_TILE:  # owner 2's tile shows owner 2's copy
            out["ref_item_id"] = shared_copy(dirty)
    if dirty and table == "vde_base_item_versions":
        out["version_number"] = adopt_seed.DIRTY_VERSION_RESULTS.get(
            row["id"], row["version_number"]
        )
    if dirty and table == "accounts" and row["id"] == "acc4":
        out["account_id"] = "gh-42#duplicate-of-acc2"
    return out


async def assert_every_row_arrived(
    url: str, before: dict[str, Any], dirty: bool
) -> None:
    """Every original row is in its vde table with its id and converted values,
    and the originals are kept, untouched, in their own schema."""
    conn = await asyncpg.connect(url)
    try:
        for table, target in TABLES.items():
            original = before["rows"][f"public.{table}"]
            kept = await conn.fetch(
                f'SELECT * FROM {ORIGINALS_SCHEMA}."{table}" ORDER BY 1'
            )
            assert [dict(r) for r in kept] == original, table
            found = {
                r["id"]: dict(r)
                for r in await conn.fetch(f"SELECT * FROM {target} ORDER BY id")
            }
            for row in original:
                want = expected_row(table, row, dirty)
                got = found.pop(row["id"])
                assert {k: got[k] for k in want} == want, (table, row["id"])
            if table == "vde_map_items":
                first = 27 if dirty else 12
                assert {i: r["path"] for i, r in found.items()} == {
                    first: "0",
                    first + 1: "1,0",
                }
            elif table == "vde_base_items":
                copy = found.pop(shared_copy(dirty))
                assert (copy["owner_id"], copy["title"]) == (2, "Item 2")
                assert {(r["title"], r["content"]) for r in found.values()} == {
                    ("Composition Container", "")
                }
            elif table == "vde_base_item_versions":
                assert sorted(
                    (r["owner_id"], r["base_item_id"], r["version_number"])
                    for r in found.values()
                ) == [(2, shared_copy(dirty), 1), (2, shared_copy(dirty), 2)]
            else:
                assert found == {}, table
    finally:
        await conn.close()


# --- the tests ------------------------------------------------------------

CASES = [
    "[timestamp without time zone -> UTC instant] apikey key1, key2, key3, key4",
    "[api key NULL meaning] apikey key2",
    "[api key NULL meaning] apikey key3, key4",
    "[item type in upper case] vde_map_items 3",
    "[item type in upper case] vde_map_items 10",
    "[composition container] vde_map_items 5, 6",
    "[composition container] vde_map_items 7",
    "[version numbers 0 or duplicated] vde_base_item_versions 4, 5, 6",
    "[version numbers 0 or duplicated] vde_base_item_versions 7, 8",
    "[duplicate (provider_id, account_id)] accounts acc2, acc4",
    "[parent in another map] vde_map_items 26",
    "[direction outside 0-6] vde_map_items 20, 21, 22",
    "[direction outside 0-6] vde_map_items 22",
    "[direction outside 0-6] vde_map_items 23",
    "[direction outside 0-6] vde_map_items 24",
    "[trailing comma in path] vde_map_items 25",
]


async def test_done_when_sequence_on_a_seed_holding_every_case(
    dirty_seed: str,
) -> None:
    before = await adopt_seed.snapshot(dirty_seed)

    # 1. The report names each case with its ids, and changes nothing.
    report = piccolo(dirty_seed, "vde", "adopt")
    assert report.returncode == 1, report
    for case in CASES:
        assert case in report.stdout, case
    assert (
        "path '7' -> '2' (lowest free direction under tile 1), with its "
        "subtree: tiles [21, 22]" in report.stdout
    )
    assert "9 case(s) need a decision" in report.stdout
    assert await adopt_seed.snapshot(dirty_seed) == before
    # The report judges the flags it is given: with --repair it would succeed.
    with_repair = piccolo(dirty_seed, "vde", "adopt", "--repair")
    assert with_repair.returncode == 0, with_repair
    assert "--apply --repair would succeed" in with_repair.stdout
    assert await adopt_seed.snapshot(dirty_seed) == before

    # 2. --apply without --repair is refused and leaves the database unchanged.
    refused = piccolo(dirty_seed, "vde", "adopt", "--apply")
    assert refused.returncode == 1, refused
    assert "--apply is refused: 9 case(s) need a decision" in refused.stdout
    assert await adopt_seed.snapshot(dirty_seed) == before

    # 3. --apply --repair succeeds.
    applied = piccolo(dirty_seed, "vde", "adopt", "--apply", "--repair")
    assert applied.returncode == 0, applied
    assert "Verified: row counts and checksums of all 10 tables" in applied.stdout
    assert "DROP SCHEMA vde_adopt_original CASCADE" in applied.stdout

    # 4. piccolo vde drift is clean; Piccolo's own commands find nothing to do.
    drift = piccolo(dirty_seed, "vde", "drift")
    assert drift.returncode == 0, drift
    assert "No drift" in drift.stdout
    forwards = piccolo(dirty_seed, "migrations", "forwards", "all")
    assert forwards.returncode == 0, forwards
    assert "Running" not in forwards.stdout
    assert forwards.stdout.count(
        "No migrations need to be run"
    ) == forwards.stdout.count("already complete")
    migrate = piccolo(dirty_seed, "vde", "migrate")
    assert migrate.returncode == 0, migrate
    assert "Running" not in migrate.stdout
    conn = await asyncpg.connect(dirty_seed)
    try:
        assert contract_differences(await read_catalog(conn)) == []
    finally:
        await conn.close()

    # 5. Every original row is there with its id and values.
    await assert_every_row_arrived(dirty_seed, before, dirty=True)

    # 6. A rerun changes nothing.
    adopted = await adopt_seed.snapshot(dirty_seed)
    for args in (["vde", "adopt"], ["vde", "adopt", "--apply", "--repair"]):
        rerun = piccolo(dirty_seed, *args)
        assert rerun.returncode == 0, rerun
        assert "Already adopted" in rerun.stdout
    assert await adopt_seed.snapshot(dirty_seed) == adopted


async def test_clean_seed_is_adopted_without_repair_and_vde_works_on_it(
    clean_seed: str,
) -> None:
    before = await adopt_seed.snapshot(clean_seed)
    assert ("public", "migration", "r") not in before["relations"]
    report = piccolo(clean_seed, "vde", "adopt")
    assert report.returncode == 0, report
    assert "--apply would succeed" in report.stdout
    assert await adopt_seed.snapshot(clean_seed) == before

    assert (
        "Map owners: 8 base item(s) would be kept with the one owner whose tiles "
        "show them, 1 would be split between owners (1 copy made, each with its "
        "versions), 1 shown by no tile would be given owner 0." in report.stdout
    )

    applied = piccolo(clean_seed, "vde", "adopt", "--apply")
    assert applied.returncode == 0, applied
    # The two containers are items of owner 1 too.
    assert (
        "Map owners: 10 base item(s) were kept with the one owner whose tiles "
        "show them, 1 were split between owners (1 copy made, each with its "
        "versions), 1 shown by no tile were given owner 0." in applied.stdout
    )
    await assert_every_row_arrived(clean_seed, before, dirty=False)

    conn = await asyncpg.connect(clean_seed)
    try:
        assert contract_differences(await read_catalog(conn)) == []
        # Identities continue after the highest id, containers included.
        owners = await conn.fetch(
            "SELECT id, owner_id FROM vde_base_items WHERE id = ANY($1) ORDER BY id",
            [SHARED_ITEM, 9, 10],
        )
        assert [tuple(r) for r in owners] == [(SHARED_ITEM, 1), (9, 0), (10, 2)]
        item = await conn.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content) "
            "VALUES (1, 'new', '') RETURNING id"
        )
        assert item == 14  # 10 original, 2 containers, 1 copy
        tile = await conn.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, path, item_type, parent_id, "
            "ref_item_id) VALUES (1, '4', 'base', 1, $1) RETURNING id",
            item,
        )
        assert tile == 14  # ids to 11, 2 containers
        # New writes through vde's helpers: moves, copies, versions.
        # tiles 2, 3, 5, 6, 8 and the container at 1,0
        assert (
            await move_subtree(conn, await at(conn, 2), MapCoordinates(1, 0, "5")) == 6
        )
        assert (
            await conn.fetchval("SELECT path FROM vde_map_items WHERE id = 8")
            == "5,0,4,2"
        )
        copy = await copy_subtree(conn, await at(conn, 4), MapCoordinates(2, 0, "3"))
        assert (
            await conn.fetchval(
                "SELECT origin_id FROM vde_map_items WHERE id = $1", copy.id
            )
            == 4
        )
        assert await append_version(conn, 1, 2, "Item 2", "v3") == 3
        version = await conn.fetchval("SELECT max(id) FROM vde_base_item_versions")
        assert version == 6  # 3 original, 2 copied
        mapping = await conn.fetchval(
            "INSERT INTO vde_user_mapping (auth_user_id, mapping_user_id) "
            "VALUES ('u3', 3) RETURNING id"
        )
        assert mapping == 3
    finally:
        await conn.close()


async def test_a_case_with_no_safe_repair_stays_refused(dirty_seed: str) -> None:
    conn = await asyncpg.connect(dirty_seed)
    try:
        # Every direction under tile 3 ('1,2') taken, and one more out of range.
        for n, step in enumerate(["0", "1", "2", "3", "4", "5", "6", "9"]):
            await conn.execute(
                "INSERT INTO vde_map_items (id, coord_user_id, path, item_type, "
                "parent_id, ref_item_id) VALUES ($1, 1, $2, 'base', 3, 9)",
                100 + n,
                f"1,2,{step}",
            )
    finally:
        await conn.close()
    before = await adopt_seed.snapshot(dirty_seed)
    done = piccolo(dirty_seed, "vde", "adopt", "--apply", "--repair")
    assert done.returncode == 1, done
    assert "[no free direction] vde_map_items 107" in done.stdout
    assert "1 case(s) have no safe repair" in done.stdout
    assert await adopt_seed.snapshot(dirty_seed) == before


async def test_a_database_vde_built_is_left_to_piccolo_vde_migrate(
    vde_db: ScratchDatabase,
) -> None:
    before = await adopt_seed.snapshot(vde_db.url)
    for args in (["vde", "adopt"], ["vde", "adopt", "--apply"]):
        done = piccolo(vde_db.url, *args)
        assert done.returncode == 0, done
        assert "already has vde's schema" in done.stdout
        assert "piccolo vde migrate" in done.stdout
    assert await adopt_seed.snapshot(vde_db.url) == before


async def test_an_empty_database_is_left_empty(vde_empty_url: str) -> None:
    for args in (["vde", "adopt"], ["vde", "adopt", "--apply"]):
        done = piccolo(vde_empty_url, *args)
        assert done.returncode == 1, done
        assert "This database is empty" in done.stdout
        assert "piccolo vde migrate" in done.stdout
        # Not even Piccolo's `migration` table: `piccolo vde` commands skip
        # the CLI's start-up check that would create it.
        assert (await adopt_seed.snapshot(vde_empty_url))["relations"] == []


async def test_after_a_failed_forwards_all_adopt_takes_over(clean_seed: str) -> None:
    """What users tried first: ``forwards all`` creates the auth and llm tables,
    then stops at ``vde_base_items``. Adopt drops those empty tables and their
    records, then adopts as usual."""
    failed = piccolo(clean_seed, "migrations", "forwards", "all")
    assert failed.returncode == 1
    assert 'relation "vde_base_items" already exists' in failed.stdout + failed.stderr
    before = await adopt_seed.snapshot(clean_seed)
    report = piccolo(clean_seed, "vde", "adopt")
    assert report.returncode == 0, report
    assert "[vde tables of an earlier `forwards all`] public vde_users" in report.stdout
    assert await adopt_seed.snapshot(clean_seed) == before

    applied = piccolo(clean_seed, "vde", "adopt", "--apply")
    assert applied.returncode == 0, applied
    drift = piccolo(clean_seed, "vde", "drift")
    assert drift.returncode == 0, drift


LOCK_WAITERS = """
SELECT l.pid FROM pg_locks l
WHERE l.locktype = 'relation' AND NOT l.granted
  AND l.relation = 'public.migration'::regclass AND l.pid <> pg_backend_pid()
"""


async def test_sigkill_in_the_middle_of_apply_leaves_the_seed_as_it_was(
    dirty_seed: str,
) -> None:
    """Deterministic: another session holds Piccolo's ``migration`` table in
    SHARE mode, so adopt stops at its first migration record, after moving the
    originals and building the first migration's tables; then it is killed."""
    holder = await asyncpg.connect(dirty_seed)
    try:
        # Piccolo's table, as an earlier `piccolo migrations` command leaves it.
        await holder.execute(
            "CREATE TABLE migration (id serial PRIMARY KEY, name varchar(200) NOT "
            "NULL DEFAULT '', app_name varchar(200) NOT NULL DEFAULT '', "
            "ran_on timestamp DEFAULT current_timestamp)"
        )
        before = await adopt_seed.snapshot(dirty_seed)
        await holder.execute("BEGIN; LOCK TABLE migration IN SHARE MODE")
        process = start(dirty_seed, "vde", "adopt", "--apply", "--repair")
        backend = None
        for _ in range(2400):  # two minutes on a slow, shared machine
            backend = await holder.fetchval(LOCK_WAITERS)
            if backend is not None or process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert backend is not None, process.communicate()
        # In the middle: it holds the originals (moved, in its transaction).
        held = await holder.fetchval(
            "SELECT count(*) FROM pg_locks WHERE pid = $1 AND granted "
            "AND mode = 'AccessExclusiveLock' AND locktype = 'relation'",
            backend,
        )
        assert held >= len(TABLES)
        process.kill()
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        await holder.execute("ROLLBACK")
        for _ in range(2400):
            if not await holder.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend
            ):
                break
            await asyncio.sleep(0.05)
        after = await adopt_seed.snapshot(dirty_seed)
    finally:
        await holder.close()
    assert after == before


ADVISORY_WAITERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2
  AND objsubid = 1
"""


async def test_apply_waits_while_piccolo_vde_migrate_holds_its_lock(
    clean_seed: str,
) -> None:
    holder = await asyncpg.connect(clean_seed)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        process = start(clean_seed, "vde", "adopt", "--apply")
        for _ in range(2400):
            if await holder.fetchval(ADVISORY_WAITERS, *lock_key_parts()):
                break
            assert process.poll() is None, process.communicate()
            await asyncio.sleep(0.05)
        else:
            pytest.fail("adopt --apply never queued on the migration lock")
        assert await holder.fetchval("SELECT to_regclass('public.vde_users')") is None
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, (stdout, stderr)
        assert await holder.fetchval("SELECT count(*) FROM vde_users") == 3
    finally:
        await holder.close()
