"""``distribute``: the plan changes nothing, --apply does all of it in one
transaction or nothing, a second run says it is done, and what it refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from tests.citus.cluster import SHARD_COUNT, Cluster
from tests.ops.test_info import piccolo
from vde.database.forwards import migrate_database
from vde.ops.distribute import DistributeRefused, distribute
from vde.ops.drift import Schema
from vde.ops.schemas import read_schema

MAP_TABLES = {
    "vde_base_items": "owner_id",
    "vde_base_item_versions": "owner_id",
    "vde_map_items": "coord_user_id",
}


@pytest_asyncio.fixture
async def migrated(citus_empty: str) -> AsyncIterator[str]:
    """A database with Citus, migrated, not distributed; two owners' maps."""
    await migrate_database(citus_empty)
    connection = await asyncpg.connect(citus_empty)
    try:
        for owner in (1, 2):
            item = await connection.fetchval(
                "INSERT INTO vde_base_items (owner_id, title, content) "
                "VALUES ($1, 'home', '') RETURNING id",
                owner,
            )
            await connection.execute(
                "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
                "VALUES ($1, 'user', $2)",
                owner,
                item,
            )
    finally:
        await connection.close()
    yield citus_empty


async def schema_of(url: str) -> tuple[Schema, list[asyncpg.Record]]:
    connection = await asyncpg.connect(url)
    try:
        placed = await connection.fetch(
            "SELECT logicalrelid::regclass::text FROM pg_dist_partition"
        )
        return await read_schema(connection), placed
    finally:
        await connection.close()


async def distribution(url: str) -> dict[str, tuple[str, int, int]]:
    """Distributed table -> (column, co-location id, shards)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT table_name::text AS t, distribution_column AS c, colocation_id,"
            " shard_count FROM citus_tables"
        )
    finally:
        await connection.close()
    return {r["t"]: (r["c"], r["colocation_id"], r["shard_count"]) for r in rows}


async def test_the_plan_names_every_place_and_change_and_changes_nothing(
    migrated: str,
) -> None:
    before = await schema_of(migrated)
    lines = await distribute(migrated, shard_count=SHARD_COUNT)
    text = "\n".join(lines)
    assert lines[0] == f"Distribute over 2 worker(s), {SHARD_COUNT} shards a table:"
    places = {line.split()[0]: " ".join(line.split()[1:]) for line in lines[1:12]}
    assert places["vde_base_items"].startswith(
        "distributed by owner_id, first of its co-location group"
    )
    for table in ("vde_base_item_versions", "vde_map_items"):
        assert places[table].startswith(
            f"distributed by {MAP_TABLES[table]}, co-located with vde_base_items"
        )
    for local in (
        "vde_users",
        "vde_sessions",
        "vde_api_keys",
        "vde_user_mapping",
        "vde_llm_job_results",
        "migration",
    ):
        assert places[local].startswith("local to the coordinator"), local
    assert "drop foreign key vde_map_items_origin_id_fkey" in text
    assert "drop unique constraint" in text and "of vde_map_items (id)" in text
    for table in MAP_TABLES:
        assert f"make {table}.id a column with a sequence default" in text
    assert "keep triggers vde_map_items_tree_insert, vde_map_items_tree_update" in text
    assert lines[-1] == "Nothing was changed: run with --apply to do it."
    assert await schema_of(migrated) == before


async def test_apply_distributes_the_map_tables_by_owner_co_located(
    migrated: str,
) -> None:
    lines = await distribute(migrated, apply=True, shard_count=SHARD_COUNT)
    assert lines[-1] == "Done: the map tables are distributed."
    placed = await distribution(migrated)
    assert {t: (c, n) for t, (c, _, n) in placed.items()} == {
        t: (c, SHARD_COUNT) for t, c in MAP_TABLES.items()
    }
    assert len({colocation for _, colocation, _ in placed.values()}) == 1
    connection = await asyncpg.connect(migrated)
    try:
        # The rows moved into the shards; ids continue where they stopped.
        assert await connection.fetchval("SELECT count(*) FROM vde_map_items") == 2
        assert (
            await connection.fetchval(
                "INSERT INTO vde_base_items (owner_id, title, content) "
                "VALUES (3, 't', '') RETURNING id"
            )
            == 3
        )
        constraints = {
            row["conname"]
            for row in await connection.fetch(
                "SELECT conname FROM pg_constraint "
                "WHERE conrelid = 'vde_map_items'::regclass"
            )
        }
        assert "vde_map_items_origin_id_fkey" not in constraints
    finally:
        await connection.close()
    again = await distribute(migrated, apply=True)
    assert again == [
        "Already distributed; nothing to do:",
        f"  vde_base_items by owner_id ({SHARD_COUNT} shards)",
        f"  vde_base_item_versions by owner_id ({SHARD_COUNT} shards)",
        f"  vde_map_items by coord_user_id ({SHARD_COUNT} shards)",
    ]


async def test_a_refused_step_rolls_everything_back(migrated: str) -> None:
    connection = await asyncpg.connect(migrated)
    try:
        # A unique index without the owner: Citus refuses the table, late.
        await connection.execute(
            "CREATE UNIQUE INDEX vde_map_items_path_id ON vde_map_items (path, id)"
        )
    finally:
        await connection.close()
    before = await schema_of(migrated)
    with pytest.raises(DistributeRefused) as refused:
        await distribute(migrated, apply=True, shard_count=SHARD_COUNT)
    assert type(refused.value) is DistributeRefused
    assert "create_distributed_table('\"vde_map_items\"'" in str(refused.value)
    assert "rolled back" in str(refused.value)
    assert await schema_of(migrated) == before


async def test_a_table_with_a_key_into_a_map_table_is_named_and_refused(
    migrated: str,
) -> None:
    connection = await asyncpg.connect(migrated)
    try:
        await connection.execute(
            "CREATE TABLE hexmap_tile_tags (id serial PRIMARY KEY, tile integer "
            "NOT NULL REFERENCES vde_map_items (id) ON DELETE CASCADE, tag text)"
        )
        await connection.execute("CREATE TABLE hexmap_notes (id serial PRIMARY KEY)")
    finally:
        await connection.close()
    before = await schema_of(migrated)
    with pytest.raises(DistributeRefused) as refused:
        await distribute(migrated, apply=True)
    message = str(refused.value)
    assert "table hexmap_tile_tags is no vde table" in message
    assert "hexmap_tile_tags_tile_fkey points into vde_map_items" in message
    assert "hexmap_notes" not in message
    assert await schema_of(migrated) == before


async def test_a_table_of_the_project_without_such_a_key_stays_local(
    migrated: str,
) -> None:
    connection = await asyncpg.connect(migrated)
    try:
        await connection.execute("CREATE TABLE hexmap_notes (id serial PRIMARY KEY)")
        lines = await distribute(migrated, apply=True, shard_count=SHARD_COUNT)
        assert any(
            line.split()[0] == "hexmap_notes"
            and "local to the coordinator: no vde "
            "table, no key into a distributed table"
            in line
            for line in lines
        )
        await connection.execute("INSERT INTO hexmap_notes DEFAULT VALUES")
        assert (
            await connection.fetchval(
                "SELECT citus_table_type FROM citus_tables "
                "WHERE table_name = 'hexmap_notes'::regclass"
            )
            is None
        )
    finally:
        await connection.close()


async def test_a_database_without_the_extension_is_refused(
    citus_cluster: Cluster,
) -> None:
    admin = await asyncpg.connect(citus_cluster.url())
    name = citus_cluster.database_name("plain")
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        with pytest.raises(DistributeRefused) as refused:
            await distribute(citus_cluster.url(name), apply=True)
        assert type(refused.value) is DistributeRefused
        assert "this database has no Citus extension; its server has it" in str(
            refused.value
        )
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


async def test_a_coordinator_without_workers_is_refused(
    citus_cluster: Cluster,
) -> None:
    admin = await asyncpg.connect(citus_cluster.url())
    name = citus_cluster.database_name("alone")
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        url = citus_cluster.url(name)
        connection = await asyncpg.connect(url)
        await connection.execute("CREATE EXTENSION citus")
        await connection.close()
        await migrate_database(url)
        before = await schema_of(url)
        with pytest.raises(DistributeRefused) as refused:
            await distribute(url, apply=True)
        assert "this Citus coordinator has no active worker" in str(refused.value)
        assert await schema_of(url) == before
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


@pytest.mark.parametrize("count", [-1, 64001])
async def test_a_shard_count_out_of_range_is_refused(migrated: str, count: int) -> None:
    with pytest.raises(DistributeRefused, match="--shard_count must be 1 to 64000"):
        await distribute(migrated, apply=True, shard_count=count)
    assert await distribution(migrated) == {}


async def test_the_command_prints_the_plan_then_applies_it_then_says_done(
    migrated: str,
) -> None:
    plan = piccolo(migrated, "distribute", f"--shard_count={SHARD_COUNT}")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines()[-1] == (
        "Nothing was changed: run with --apply to do it."
    )
    assert await distribution(migrated) == {}
    applied = piccolo(migrated, "distribute", "--apply", f"--shard_count={SHARD_COUNT}")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[-1] == "Done: the map tables are distributed."
    again = piccolo(migrated, "distribute", "--apply")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "Already distributed; nothing to do:"
