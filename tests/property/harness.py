"""Run a random example against PostgreSQL and against the oracle, and compare.

Every example runs inside one transaction that is rolled back at its end, on one
connection and one database shared by all examples of a module: no per-example
setup, and each example starts from the same committed seed rows. Each insert is
its own statement; an *atomic* example runs all of its rows in one savepoint, so
a refused row must take the earlier rows of the example with it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg

from tests.property.oracle import (
    GENERATED,
    OMIT,
    TABLES,
    ClientDataError,
    Prediction,
    Row,
    State,
    TableSpec,
    predict,
)
from tests.property.strategies import Example, FromParent, Ref

#: An id no row has (and the identity sequences never reach in a test run).
DANGLING = 2_000_000_000
#: Explicit ids from here on are free (identity values stay far below).
FRESH = 1_000_000_000

#: Per table: examples, statements, accepted rows, refusals by error class.
STATS: defaultdict[str, Counter[str]] = defaultdict(Counter)

# Seed rows, committed once per database: what the random rows collide with.
# (table, symbolic name or None, values); ``Ref`` values name earlier seed rows.
SEED: list[tuple[str, str | None, Row]] = [
    ("vde_users", None, {"id": "u1", "email": "ada@x"}),
    ("vde_users", None, {"id": "u2", "email": "bob@x"}),
    ("vde_users", None, {"id": "u3", "email": "cy@x"}),
    (
        "vde_accounts",
        None,
        {"id": "acc1", "user_id": "u1", "account_id": "gh1", "provider_id": "github"},
    ),
    (
        "vde_sessions",
        None,
        {"id": "s1", "user_id": "u1", "token": "t1", "expires_at": None},
    ),
    (
        "vde_verification_tokens",
        None,
        {"id": "v1", "identifier": "ada@x", "value": "val1", "expires_at": None},
    ),
    ("vde_api_keys", None, {"id": "k1", "key": "key1", "user_id": "u1"}),
    (
        "vde_llm_job_results",
        None,
        {"id": "r1", "job_id": "j1", "user_id": "u1", "status": "pending"},
    ),
    ("vde_base_items", "item1", {"owner_id": 100, "title": "one", "content": "1"}),
    ("vde_base_items", "item2", {"owner_id": 100, "title": "two", "content": "2"}),
    ("vde_base_items", "item3", {"owner_id": 101, "title": "three", "content": "3"}),
    (
        "vde_base_item_versions",
        None,
        {
            "owner_id": 100,
            "base_item_id": Ref("seed:item1"),
            "title": "one",
            "content": "1",
            "version_number": 1,
        },
    ),
    ("vde_user_mapping", None, {"auth_user_id": "u1", "mapping_user_id": 100}),
    (
        "vde_map_items",
        "root100",
        {"coord_user_id": 100, "item_type": "user", "ref_item_id": Ref("seed:item1")},
    ),
    (
        "vde_map_items",
        "tile1",
        {
            "coord_user_id": 100,
            "path": "1",
            "item_type": "base",
            "parent_id": Ref("seed:root100"),
            "ref_item_id": Ref("seed:item1"),
        },
    ),
    (
        "vde_map_items",
        "tile12",
        {
            "coord_user_id": 100,
            "path": "1,2",
            "item_type": "base",
            "parent_id": Ref("seed:tile1"),
            "ref_item_id": Ref("seed:item2"),
        },
    ),
    (
        "vde_map_items",
        "root101",
        {"coord_user_id": 101, "item_type": "user", "ref_item_id": Ref("seed:item3")},
    ),
]


@dataclass(frozen=True)
class Seed:
    """The committed seed rows as stored, and the ids of the named ones."""

    state: State
    ids: dict[str, int]


def _insert_sql(table: str, values: Row) -> str:
    if not values:
        return f"INSERT INTO {table} DEFAULT VALUES RETURNING *"
    marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks}) RETURNING *"


def _as_stored(spec: TableSpec, record: asyncpg.Record) -> Row:
    row = dict(record)
    for column in spec.columns:
        if column.kind == "jsonb" and row[column.name] is not None:
            row[column.name] = json.loads(row[column.name])
    return row


async def plant_seed(conn: asyncpg.Connection) -> Seed:
    """Insert and commit :data:`SEED`; return it as the oracle's starting state."""
    ids: dict[str, int] = {}
    expires = await conn.fetchval("SELECT now() + interval '1 day'")
    for table, name, values in SEED:
        values = {
            k: ids[v.name.removeprefix("seed:")] if isinstance(v, Ref) else v
            for k, v in values.items()
        }
        if "expires_at" in values:
            values["expires_at"] = expires
        record = await conn.fetchrow(_insert_sql(table, values), *values.values())
        if name is not None:
            ids[name] = record["id"]
    state: State = {}
    for table, spec in TABLES.items():
        records = await conn.fetch(f"SELECT * FROM {table} ORDER BY id")
        state[table] = [_as_stored(spec, r) for r in records]
    return Seed(state, {f"seed:{k}": v for k, v in ids.items()})


def _resolve(
    spec: TableSpec, row: Row, index: int, ids: dict[str, int], state: State
) -> Row:
    """Concrete values in the table's column order, left-out columns dropped."""
    own = row.get("id")
    own_id = own if type(own) is int else None
    if isinstance(own, Ref):
        own_id = FRESH + index if own.name == "fresh" else ids.get(own.name, DANGLING)

    def concrete(value: Any) -> Any:
        if not isinstance(value, Ref):
            return value
        if value.name == "fresh":
            return FRESH + index
        if value.name == "self":
            return DANGLING if own_id is None else own_id
        if value.name.startswith("back:"):
            return ids.get(f"new:{index - int(value.name[5:])}", DANGLING)
        return ids.get(value.name, DANGLING)

    values = {
        c.name: concrete(row[c.name])
        for c in spec.columns
        if c.name in row and row[c.name] is not OMIT
    }
    parent = next(
        (r for r in state.get(spec.name, ()) if r["id"] == values.get("parent_id")),
        state["vde_map_items"][0],
    )
    for name, value in values.items():
        if isinstance(value, FromParent):
            if name == "path":
                step = str(value.step)
                values[name] = f"{parent['path']},{step}" if parent["path"] else step
            else:
                values[name] = parent[value.column]
    return values


async def _count(conn: asyncpg.Connection, table: str) -> int:
    count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return count


def _check_refusal(prediction: Prediction, error: Exception, values: Row) -> None:
    context = f"values={values!r} expected={prediction.allowed!r} got={error!r}"
    assert not prediction.accepted, f"refused a row the spec accepts: {context}"
    matches = [
        v
        for v in prediction.allowed
        if type(error) is v.error
        and (
            v.constraint is None
            or getattr(error, "constraint_name", None) == v.constraint
        )
        and (v.column is None or getattr(error, "column_name", None) == v.column)
    ]
    assert matches, f"wrong refusal: {context}"


def _check_stored(
    spec: TableSpec, prediction: Prediction, stored: Row, values: Row
) -> None:
    assert prediction.accepted, (
        f"accepted a row the spec refuses: values={values!r} "
        f"expected={prediction.allowed!r} stored={stored!r}"
    )
    for column in spec.columns:
        expected = prediction.stored[column.name]
        if expected is not GENERATED:
            assert stored[column.name] == expected, (column.name, values, stored)


async def _insert(
    conn: asyncpg.Connection, spec: TableSpec, values: Row, savepoint: bool
) -> asyncpg.Record | Exception:
    """The stored row, or the error.

    With ``savepoint``, a refused row is rolled back to a savepoint taken just
    before it, so the example's transaction goes on. Savepoints are not released:
    the example's rollback ends them all, one round trip less per row.
    """
    if savepoint:
        await conn.execute("SAVEPOINT row")
    try:
        record: asyncpg.Record = await conn.fetchrow(
            _insert_sql(spec.name, values), *values.values()
        )
    except (asyncpg.PostgresError, ClientDataError) as error:
        if savepoint:
            await conn.execute("ROLLBACK TO SAVEPOINT row")
        return error
    return record


class _Refused(Exception):
    """Ends an atomic example's savepoint after the expected refusal."""


async def run_example(
    conn: asyncpg.Connection, seed: Seed, table: str, example: Example
) -> None:
    """Run ``example`` and the oracle side by side; assert they agree at every step."""
    spec = TABLES[table]
    stats = STATS[table]
    stats["examples"] += 1
    state: State = {name: list(rows) for name, rows in seed.state.items()}
    ids = dict(seed.ids)
    outer = conn.transaction()
    await outer.start()
    try:
        if example.atomic:
            stats["atomic examples"] += 1
            working: State = {**state, table: list(state[table])}
            try:
                async with conn.transaction():
                    for index, row in enumerate(example.rows):
                        values = _resolve(spec, row, index, ids, working)
                        prediction = predict(spec, values, working)
                        outcome = await _insert(conn, spec, values, savepoint=False)
                        stats["statements"] += 1
                        if isinstance(outcome, Exception):
                            stats[type(outcome).__name__] += 1
                            _check_refusal(prediction, outcome, values)
                            raise _Refused
                        stored = _as_stored(spec, outcome)
                        _check_stored(spec, prediction, stored, values)
                        stats["accepted"] += 1
                        working[table].append(stored)
                        ids[f"new:{index}"] = stored["id"]
            except _Refused:
                stats["atomic examples rolled back"] += 1
            else:
                state = working
            assert await _count(conn, table) == len(state[table]), "half-written"
        else:
            for index, row in enumerate(example.rows):
                values = _resolve(spec, row, index, ids, state)
                prediction = predict(spec, values, state)
                outcome = await _insert(conn, spec, values, savepoint=True)
                stats["statements"] += 1
                if isinstance(outcome, Exception):
                    stats[type(outcome).__name__] += 1
                    _check_refusal(prediction, outcome, values)
                    assert await _count(conn, table) == len(state[table]), (
                        "half-written"
                    )
                else:
                    stored = _as_stored(spec, outcome)
                    _check_stored(spec, prediction, stored, values)
                    stats["accepted"] += 1
                    state[table].append(stored)
                    ids[f"new:{index}"] = stored["id"]
            assert await _count(conn, table) == len(state[table])
    finally:
        await outer.rollback()
