"""Random rows for each table: mostly well-typed, often colliding, sometimes broken.

Values come from small pools shared with the seed rows (``harness.SEED``) so that
duplicates and dangling references are frequent, not one-in-a-million. On top of
a well-typed row, up to three columns are broken: NULL, left out, a Python type
asyncpg refuses, or a value the server refuses (NUL byte, invalid JSON, too long).
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.property.oracle import (
    INT4_MAX,
    INT4_MIN,
    INT8_MAX,
    INT8_MIN,
    JOB_STATUSES,
    OMIT,
    Column,
    TableSpec,
)

#: Rows per example (each its own statement).
MAX_ROWS = 4


@dataclass(frozen=True)
class FromParent:
    """A map item column copied from the row's parent when run (a tile in place).

    ``path`` becomes the parent's path plus ``step``; a missing parent gives the
    values of the seed map's root.
    """

    column: str
    step: int = 0


@dataclass(frozen=True)
class Ref:
    """A tile or base item named symbolically, resolved to an id when run.

    ``seed:<name>`` is a seed row, ``back:<k>`` the row inserted k rows earlier
    in this example (dangling when that insert was refused or there is none),
    ``self`` the row's own explicit id, ``fresh`` an explicit id no row has yet,
    ``dangling`` an id no row has.
    """

    name: str


# Text without surrogates (asyncpg cannot encode them; they are their own case).
TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
SOME_TEXT = st.one_of(TEXT, st.sampled_from(["x", "Ada", "ü ✓", " "]))
TIMES = st.one_of(
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [datetime.UTC, datetime.timezone(datetime.timedelta(hours=-7, minutes=-30))]
        ),
    ),
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 1, 1)
    ),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 1, 1)),
)
INTS = st.integers(INT4_MIN, INT4_MAX)
#: Milliseconds: a 30-day refill (2,592,000,000) is past int4.
BIGINTS = st.one_of(INTS, st.sampled_from([2_592_000_000, INT8_MAX, INT8_MIN]))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3)
    ),
    max_leaves=6,
)
JSON_TEXT = JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False))
BAD_JSON = st.sampled_from(
    ["{bad", "", '{"a":}', "[1,]", "NaN", "'x'", '"\\u0000"', '{"\\u0000": 1}']
)


def nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy)


def broken(column: Column) -> st.SearchStrategy[Any]:
    """A value this column must refuse, or NULL / nothing where that may be fine."""
    wrong_type: dict[str, st.SearchStrategy[Any]] = {
        "text": st.integers(0, 9),
        "varchar": st.integers(0, 9),
        "int": st.one_of(
            st.sampled_from(["1", "x"]),
            st.integers(INT4_MAX + 1, 2**40),
            st.integers(-(2**40), INT4_MIN - 1),
        ),
        "bigint": st.one_of(
            st.sampled_from(["1", "x"]),
            st.integers(INT8_MAX + 1, 2**70),
            st.integers(-(2**70), INT8_MIN - 1),
        ),
        "bool": st.sampled_from([0, 1, "true"]),
        "ts": st.sampled_from(["2020-01-01", 1_600_000_000]),
        "jsonb": st.sampled_from([{"a": 1}, [1], 1]),
    }
    server: dict[str, st.SearchStrategy[Any]] = {
        "text": TEXT.map(lambda s: s + "\x00"),
        "varchar": st.one_of(
            TEXT.map(lambda s: "\x00" + s),
            st.integers(1, 4).map(lambda n: "1," * 128 + "1" * n),
            st.just("base" + " " * 60),  # only spaces past 50: truncated, no error
            st.just("\ud800"),  # a lone surrogate: asyncpg cannot encode it
        ),
        "jsonb": BAD_JSON,
    }
    options = [st.none(), st.just(OMIT), wrong_type[column.kind]]
    if column.kind in server:
        options.append(server[column.kind])
    return st.one_of(options)


@st.composite
def rows(draw: st.DrawFn, spec: TableSpec) -> dict[str, Any]:
    """One row for ``spec``: a well-typed draw, then 0-3 columns broken."""
    choices = VALID[spec.name]
    shape = draw(st.sampled_from(choices)) if isinstance(choices, list) else choices
    values = {name: draw(strategy) for name, strategy in shape.items()}
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 1, 1, 2, 3]))):
        column = draw(st.sampled_from(spec.columns))
        values[column.name] = draw(broken(column))
    return values


def _pool(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


USER_IDS = _pool("u1", "u2", "u3", "ghost")
TEXT_IDS = st.one_of(_pool("a", "b", "c"), TEXT)
SEED_TILES = _pool(
    *(Ref(f"seed:{n}") for n in ("root100", "tile1", "tile12", "root101"))
)
TILES = st.one_of(
    SEED_TILES,
    SEED_TILES,
    SEED_TILES,
    _pool(Ref("back:1"), Ref("back:1"), Ref("back:2")),
    st.just(Ref("dangling")),
)
ITEMS = _pool(
    *[Ref("seed:item1"), Ref("seed:item2")] * 3, Ref("seed:item3"), Ref("dangling")
)
OWNERS = st.one_of(_pool(100, 100, 100, 101), INTS)
MAPPING_IDS = st.one_of(_pool(100, 101, 102), INTS)
# Mostly well-formed paths near the seed tiles; malformed ones from the spec's list.
PATHS = st.one_of(
    _pool("", "1", "2", "1,2", "1,3", "1,2,3", "0", "1,0", "2,0", "3,4,5,6"),
    _pool("", "1", "1,2", "1,3", "1,2,3"),
    _pool("1,,2", "7", "a", "1,", ",1", "1\n", "01", "1,2,", "-1", " 1", "1, 2"),
)
ITEM_TYPES = st.one_of(
    _pool("user", "base", "base"), _pool("USER", "Base", "", "base ", "root")
)
STATUSES = st.one_of(_pool(*JOB_STATUSES), _pool("PENDING", "done", "", "cancelled "))
VERSION_NUMBERS = st.one_of(
    _pool(1, 2, 3), _pool(1, 2, 3), _pool(0, -1, INT4_MAX, INT4_MIN), INTS
)

Shape = dict[str, st.SearchStrategy[Any]]

#: A tile placed where the tree rules want it: under a parent, in its map.
PLACED_TILE: Shape = {
    "coord_user_id": st.just(FromParent("coord_user_id")),
    "coord_group_id": st.just(FromParent("coord_group_id")),
    "path": st.integers(0, 6).map(lambda step: FromParent("path", step)),
    "item_type": st.just("base"),
    "origin_id": st.one_of(st.none(), st.none(), TILES),
    "parent_id": TILES,
    "ref_item_id": ITEMS,
}
#: A tile under a seed tile, at a well-formed coordinate that may not match it.
NEARBY_TILE: Shape = {
    "coord_user_id": _pool(100, 100, 101),
    "coord_group_id": st.one_of(st.just(OMIT), _pool(0, 0, 1)),
    "path": _pool("", "1", "2", "1,2", "1,3", "1,2,3", "2,0", "0"),
    "item_type": st.just("base"),
    "parent_id": SEED_TILES,
    "ref_item_id": ITEMS,
}
#: The root of a new or existing map.
ROOT_TILE: Shape = {
    "coord_user_id": MAPPING_IDS,
    "coord_group_id": st.one_of(st.just(OMIT), _pool(0, 1)),
    "path": _pool(OMIT, ""),
    "item_type": st.just("user"),
    "origin_id": st.one_of(st.none(), TILES),
    "ref_item_id": ITEMS,
}

VALID: dict[str, Shape | list[Shape]] = {
    "vde_users": {
        "id": st.one_of(USER_IDS, TEXT_IDS),
        "name": nullable(SOME_TEXT),
        "email": st.one_of(_pool("ada@x", "bob@x", "new@x", "neu@x"), TEXT),
        "email_verified": st.one_of(st.just(OMIT), st.booleans()),
        "image": nullable(SOME_TEXT),
    },
    "vde_accounts": {
        "id": st.one_of(_pool("acc1"), TEXT_IDS),
        "user_id": USER_IDS,
        "account_id": _pool("gh1", "gh2", "x"),
        "provider_id": _pool("github", "credential", "google"),
        "access_token": nullable(SOME_TEXT),
        "refresh_token": nullable(SOME_TEXT),
        "access_token_expires_at": nullable(TIMES),
        "refresh_token_expires_at": nullable(TIMES),
        "scope": nullable(SOME_TEXT),
        "id_token": nullable(SOME_TEXT),
        "password": nullable(SOME_TEXT),
    },
    "vde_sessions": {
        "id": st.one_of(_pool("s1"), TEXT_IDS),
        "user_id": USER_IDS,
        "token": st.one_of(_pool("t1", "t2", "t3"), TEXT),
        "expires_at": TIMES,
        "ip_address": nullable(SOME_TEXT),
        "user_agent": nullable(SOME_TEXT),
    },
    "vde_verification_tokens": {
        "id": st.one_of(_pool("v1"), TEXT_IDS),
        "identifier": _pool("ada@x", "bob@x"),
        "value": st.one_of(_pool("val1", "val2", "val3"), TEXT),
        "expires_at": TIMES,
    },
    "vde_api_keys": {
        "id": st.one_of(_pool("k1"), TEXT_IDS),
        "name": nullable(SOME_TEXT),
        "start": nullable(SOME_TEXT),
        "prefix": nullable(SOME_TEXT),
        "key": st.one_of(_pool("key1", "key2", "key3"), TEXT),
        "user_id": USER_IDS,
        "refill_interval": nullable(BIGINTS),
        "refill_amount": nullable(INTS),
        "last_refill_at": nullable(TIMES),
        "enabled": st.one_of(st.just(OMIT), st.booleans()),
        "rate_limit_enabled": st.one_of(st.just(OMIT), st.booleans()),
        "rate_limit_time_window": st.one_of(st.just(OMIT), BIGINTS),
        "rate_limit_max": st.one_of(st.just(OMIT), INTS),
        "request_count": st.one_of(st.just(OMIT), INTS),
        "remaining": nullable(INTS),
        "last_request": nullable(TIMES),
        "expires_at": nullable(TIMES),
        "permissions": nullable(SOME_TEXT),
        "metadata": nullable(JSON_TEXT),
        "config_id": st.one_of(st.just(OMIT), _pool("default", "mobile")),
    },
    "vde_base_items": {
        "id": st.one_of(
            st.just(OMIT), st.just(OMIT), _pool(Ref("seed:item1"), Ref("fresh"))
        ),
        "owner_id": OWNERS,
        "title": SOME_TEXT,
        "content": SOME_TEXT,
        "preview": nullable(SOME_TEXT),
        "link": nullable(SOME_TEXT),
    },
    "vde_base_item_versions": {
        "owner_id": OWNERS,
        "base_item_id": ITEMS,
        "title": SOME_TEXT,
        "content": SOME_TEXT,
        "preview": nullable(SOME_TEXT),
        "link": nullable(SOME_TEXT),
        "version_number": VERSION_NUMBERS,
        "updated_by": nullable(USER_IDS),
    },
    "vde_map_items": [
        PLACED_TILE,
        PLACED_TILE,
        NEARBY_TILE,
        ROOT_TILE,
        {
            "id": st.one_of(
                st.just(OMIT),
                st.just(OMIT),
                st.just(OMIT),
                _pool(Ref("seed:tile1"), Ref("fresh")),
            ),
            "coord_user_id": st.one_of(_pool(100, 100, 101, 102), INTS),
            "coord_group_id": st.one_of(st.just(OMIT), _pool(0, 0, 1)),
            "path": st.one_of(st.just(OMIT), PATHS, PATHS),
            "item_type": ITEM_TYPES,
            "origin_id": st.one_of(st.none(), st.none(), TILES, st.just(Ref("self"))),
            "parent_id": st.one_of(
                st.none(), TILES, TILES, TILES, st.just(Ref("self"))
            ),
            "ref_item_id": ITEMS,
        },
    ],
    "vde_user_mapping": {
        "auth_user_id": USER_IDS,
        "mapping_user_id": MAPPING_IDS,
    },
    "vde_llm_job_results": {
        "id": st.one_of(_pool("r1"), TEXT_IDS),
        "job_id": st.one_of(_pool("j1", "j2", "j3"), TEXT),
        "user_id": st.one_of(USER_IDS, TEXT),
        "status": STATUSES,
        "request": nullable(st.one_of(JSON_TEXT, BAD_JSON)),
        "response": nullable(JSON_TEXT),
        "error": nullable(SOME_TEXT),
    },
}


@dataclass(frozen=True)
class Example:
    """Rows for one table, run one statement each, alone or all in one transaction."""

    rows: list[dict[str, Any]]
    atomic: bool


@functools.cache
def examples(spec: TableSpec) -> st.SearchStrategy[Example]:
    """Built once per table: hypothesis pays for building a strategy on every use."""
    return st.builds(
        Example,
        rows=st.lists(rows(spec), min_size=1, max_size=MAX_ROWS),
        atomic=st.booleans(),
    )
