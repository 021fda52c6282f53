"""broken_rule reads vde's rule from real PostgreSQL errors, shard-suffixed or not.

A Citus worker names a shard's copy of a constraint (the rule's name plus
``_<shard id>``), or on some paths (SQLSTATE XX000) names none and only quotes
it in the message. The suffixed errors are made here by a scratch table whose
constraints carry such names; the XX000 one is the error PostgreSQL raises
with its constraint name left out, as a worker's relayed message arrives.
"""

from __future__ import annotations

import asyncpg
import pytest

from vde.errors import TargetOccupiedError
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.places import refusing_taken
from vde.mapping.violations import broken_rule, rule_name

SHARD = "vde_map_items_102017"


async def _error(conn: asyncpg.Connection, sql: str) -> asyncpg.PostgresError:
    with pytest.raises(asyncpg.PostgresError) as caught:
        await conn.execute(sql)
    return caught.value


async def test_a_rule_broken_on_one_server_is_named_as_the_database_names_it(
    home: object, add_tile: object, vde_conn: asyncpg.Connection
) -> None:
    error = await _error(
        vde_conn,
        "INSERT INTO vde_map_items (coord_user_id, item_type, ref_item_id) "
        "SELECT 1, 'user', ref_item_id FROM vde_map_items",
    )
    assert isinstance(error, asyncpg.UniqueViolationError)
    assert broken_rule(error) == "vde_map_items_coordinates_unique"


async def test_a_shard_suffixed_constraint_name_maps_to_the_rule(
    vde_conn: asyncpg.Connection,
) -> None:
    await vde_conn.execute(
        f"CREATE TABLE {SHARD} (path text, n int, "
        f"CONSTRAINT vde_map_items_coordinates_unique_102017 UNIQUE (path), "
        f"CONSTRAINT vde_map_items_path_format_102017 CHECK (path <> 'x'))"
    )
    await vde_conn.execute(f"INSERT INTO {SHARD} VALUES ('1', 1)")
    unique = await _error(vde_conn, f"INSERT INTO {SHARD} VALUES ('1', 2)")
    check = await _error(vde_conn, f"INSERT INTO {SHARD} VALUES ('x', 3)")

    assert unique.constraint_name == "vde_map_items_coordinates_unique_102017"
    assert broken_rule(unique) == "vde_map_items_coordinates_unique"
    assert broken_rule(check) == "vde_map_items_path_format"


async def test_an_error_without_a_constraint_name_is_read_from_its_message(
    vde_conn: asyncpg.Connection,
) -> None:
    """Citus's XX000 path: the worker's message, no constraint field."""
    relayed = await _error(
        vde_conn,
        "DO $$ BEGIN RAISE EXCEPTION 'duplicate key value violates unique "
        'constraint "vde_map_items_coordinates_unique_102017"\' '
        "USING ERRCODE = 'XX000'; END $$",
    )
    tree = await _error(
        vde_conn,
        "DO $$ BEGIN RAISE EXCEPTION 'vde_map_items_tree_children: tile 4 "
        "moved to (1, 0, ''3'') without its child 5' USING ERRCODE = 'XX000'; "
        "END $$",
    )
    assert isinstance(relayed, asyncpg.InternalServerError)
    assert relayed.constraint_name is None
    assert broken_rule(relayed) == "vde_map_items_coordinates_unique"
    assert broken_rule(tree) == "vde_map_items_tree_children"


async def test_an_error_naming_no_rule_gives_none(
    vde_conn: asyncpg.Connection,
) -> None:
    error = await _error(vde_conn, "SELECT 1 / 0")
    assert broken_rule(error) is None


async def test_no_name_in_vde_schema_ends_in_a_shard_suffix(
    vde_conn: asyncpg.Connection,
) -> None:
    """So stripping ``_<digits>`` never changes a name given on one server."""
    names = await vde_conn.fetch(
        "SELECT conname::text AS name FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace "
        "UNION SELECT relname::text FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'i'"
    )
    assert names
    assert [r["name"] for r in names if rule_name(r["name"]) != r["name"]] == []


async def test_a_taken_coordinate_reported_by_a_shard_is_target_occupied(
    vde_conn: asyncpg.Connection,
) -> None:
    """Both forms a worker sends reach the caller as TargetOccupiedError."""
    await vde_conn.execute(
        f"CREATE TABLE {SHARD} (path text "
        "CONSTRAINT vde_map_items_coordinates_unique_102017 UNIQUE)"
    )
    await vde_conn.execute(f"INSERT INTO {SHARD} VALUES ('1')")
    place = MapCoordinates(1, 0, "1")
    with pytest.raises(TargetOccupiedError):
        with refusing_taken(place):
            await vde_conn.execute(f"INSERT INTO {SHARD} VALUES ('1')")
    with pytest.raises(TargetOccupiedError):
        with refusing_taken(place):
            await vde_conn.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'duplicate key value violates unique "
                'constraint "vde_map_items_coordinates_unique_102017"\' '
                "USING ERRCODE = 'XX000'; END $$"
            )
