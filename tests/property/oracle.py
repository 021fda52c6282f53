"""docs/schema.md as Python: which inserts PostgreSQL must take, how it refuses others.

Written from that contract, not read from the tables or the catalog, so that the
property tests compare two independent statements of the same rules. Besides the
rules, the oracle knows the order in which PostgreSQL applies them, because that
order decides which error a row with several faults gets:

1. asyncpg encodes every argument before sending (a wrong Python type, an int
   outside int4, a string that is not UTF-8): its client-side ``DataError``;
2. the server decodes the arguments in order (a NUL in text, invalid JSON);
3. the row is built column by column (``varchar(n)`` overflow);
4. NOT NULL, then CHECK constraints in name order (the catalog sorts them);
5. immediate unique indexes, as each index takes the row;
6. at the end of the statement, row-level triggers in name order: foreign keys
   (``RI_ConstraintTrigger_*``), then deferrable unique rechecks
   (``Unique_ConstraintTrigger_*``); then statement-level triggers (the tree check).

Within steps 5 and 6 several broken rules may be reported in an order the contract
does not fix (index or trigger OIDs): any of them is accepted.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg.exceptions as pg

#: asyncpg's error for an argument it cannot encode, raised before anything is
#: sent. It is the base class of the server's data errors (SQLSTATE class 22);
#: the server raises only its subclasses, so the exact class tells them apart.
ClientDataError = pg.DataError

Row = dict[str, Any]
State = dict[str, list[Row]]
Kind = Literal["text", "varchar", "int", "bigint", "bool", "ts", "jsonb"]

#: The map tree rules of the tree-consistency migration (issue 5, item 1): a base
#: tile's parent is in the same map and one direction above it, a root sits at
#: '', a tile is not its own origin. False models the schema without them.
TREE_RULES = True


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A column left out of the INSERT (its default applies).
OMIT: Any = _Marker("OMIT")
#: The column has no default: leaving it out stores NULL.
NO_DEFAULT: Any = _Marker("NO_DEFAULT")
#: The default is now() / an identity value: known only after the insert.
GENERATED: Any = _Marker("GENERATED")

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1
PATH_RE = re.compile(r"([0-6](,[0-6])*)?")  # fullmatch: PostgreSQL's $ is strict
JOB_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    null: bool = False
    default: Any = NO_DEFAULT
    length: int | None = None


@dataclass(frozen=True)
class Check:
    """A CHECK constraint; ``holds`` returns None where SQL gives NULL (passes)."""

    name: str
    holds: Callable[[Row], bool | None]


@dataclass(frozen=True)
class Unique:
    name: str
    columns: tuple[str, ...]
    deferrable: bool = False


@dataclass(frozen=True)
class Reference:
    name: str
    column: str
    table: str
    #: (owner column here, owner column there): the key is (owner, column) ->
    #: (owner, id), as the map tables' keys are.
    owner: tuple[str, str] | None = None

    def found(self, row: Row, target: Row) -> bool:
        if target["id"] != row[self.column]:
            return False
        return self.owner is None or target[self.owner[1]] == row[self.owner[0]]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    uniques: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    references: tuple[Reference, ...] = ()
    #: extra end-of-statement rules: (row, state) -> violations
    statement_rules: tuple[Callable[[Row, State], list[Violation]], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Violation:
    """An expected error: its class and the constraint (or NOT NULL column) named."""

    error: type[Exception]
    constraint: str | None = None
    column: str | None = None


@dataclass
class Prediction:
    """What an insert must do: ``stored`` on success, else one of ``allowed``."""

    allowed: list[Violation] = field(default_factory=list)
    stored: Row = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return not self.allowed


# -- column rules -------------------------------------------------------------


def _encodes(kind: Kind, value: Any) -> bool:
    """What asyncpg's codecs take for the parameter type PostgreSQL infers."""
    if value is None:
        return True
    if kind in ("text", "varchar", "jsonb"):
        if not isinstance(value, str):
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if kind == "int":
        return type(value) is int and INT4_MIN <= value <= INT4_MAX
    if kind == "bigint":
        return type(value) is int and INT8_MIN <= value <= INT8_MAX
    if kind == "bool":
        return type(value) is bool
    if kind == "ts":
        return isinstance(value, datetime.date)
    raise AssertionError(kind)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"PostgreSQL's JSON has no {name}")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _decode_error(kind: Kind, value: Any) -> type[Exception] | None:
    """The server's error while reading an argument (before any row exists)."""
    if not isinstance(value, str):
        return None
    if kind in ("text", "varchar") and "\x00" in value:
        return pg.CharacterNotInRepertoireError
    if kind == "jsonb":
        if "\x00" in value:
            return pg.CharacterNotInRepertoireError
        try:
            parsed = json.loads(value, parse_constant=_reject_constant)
        except ValueError:
            return pg.InvalidTextRepresentationError
        if _has_nul(parsed):  # "\u0000" cannot become text in a jsonb
            return pg.UntranslatableCharacterError
    return None


def stored_value(column: Column, value: Any) -> Any:
    """The value as PostgreSQL keeps it (as asyncpg returns it)."""
    if value is None:
        return None
    if column.kind == "varchar" and column.length and len(value) > column.length:
        return value[: column.length]  # only reached when the excess is spaces
    if column.kind == "ts":
        if not isinstance(value, datetime.datetime):
            value = datetime.datetime(value.year, value.month, value.day)
        if value.tzinfo is None:  # asyncpg sends a naive datetime as UTC
            value = value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)
    if column.kind == "jsonb":
        return json.loads(value)
    return value


def _overflows(column: Column, value: Any) -> bool:
    """varchar(n) refuses a longer value, unless the excess is only spaces (SQL)."""
    if column.kind != "varchar" or column.length is None or value is None:
        return False
    return len(value) > column.length and value[column.length :].strip(" ") != ""


# -- the prediction ----------------------------------------------------------


def predict(spec: TableSpec, values: Mapping[str, Any], state: State) -> Prediction:
    """What inserting ``values`` (OMIT-free, in spec column order) into ``state`` does.

    ``state`` holds every table's rows as stored; identity ids of earlier inserts
    are the ones the database returned.
    """
    given = [(spec.column(name), value) for name, value in values.items()]
    for column, value in given:
        if not _encodes(column.kind, value):
            return Prediction([Violation(ClientDataError)])
    for column, value in given:
        error = _decode_error(column.kind, value)
        if error is not None:
            return Prediction([Violation(error)])
    for column, value in given:
        if _overflows(column, value):
            return Prediction([Violation(pg.StringDataRightTruncationError)])

    row: Row = {}
    for column in spec.columns:
        if column.name in values:
            row[column.name] = stored_value(column, values[column.name])
        elif column.default is NO_DEFAULT:
            row[column.name] = None
        else:
            row[column.name] = column.default

    for column in spec.columns:
        if row[column.name] is None and not column.null:
            return Prediction([Violation(pg.NotNullViolationError, column=column.name)])

    failing = sorted(c.name for c in spec.checks if c.holds(row) is False)
    if failing:
        return Prediction([Violation(pg.CheckViolationError, failing[0])])

    mine = state[spec.name]
    duplicates = [
        u for u in spec.uniques if not u.deferrable and _clashes(u, row, mine)
    ]
    if duplicates:
        return Prediction(
            [Violation(pg.UniqueViolationError, u.name) for u in duplicates]
        )

    # End of statement: the new row is visible to its own foreign keys (a tile may
    # name itself as parent), then deferred rechecks and statement triggers run.
    after = {**state, spec.name: [*mine, row]}
    dangling = [
        Violation(pg.ForeignKeyViolationError, ref.name)
        for ref in spec.references
        if row[ref.column] is not None
        and not any(ref.found(row, r) for r in after[ref.table])
    ]
    if dangling:
        return Prediction(dangling)
    duplicates = [u for u in spec.uniques if u.deferrable and _clashes(u, row, mine)]
    if duplicates:
        return Prediction(
            [Violation(pg.UniqueViolationError, u.name) for u in duplicates]
        )
    for rule in spec.statement_rules:
        broken = rule(row, after)
        if broken:
            return Prediction(broken)
    return Prediction(stored=row)


def _clashes(unique: Unique, row: Row, rows: list[Row]) -> bool:
    key = tuple(row[c] for c in unique.columns)
    if any(v is None for v in key) or any(v is GENERATED for v in key):
        return False  # NULLs are distinct; identity values are fresh
    return any(tuple(r[c] for c in unique.columns) == key for r in rows)


# -- the ten tables ----------------------------------------------------------


def _text(name: str, null: bool = False) -> Column:
    return Column(name, "text", null=null)


def _ts(name: str, null: bool = False) -> Column:
    return Column(name, "ts", null=null)


STAMPS = (
    Column("created_at", "ts", default=GENERATED),
    Column("updated_at", "ts", default=GENERATED),
)
INT_ID = Column("id", "int", default=GENERATED)


def _in(column: str, allowed: tuple[str, ...]) -> Callable[[Row], bool | None]:
    return lambda row: None if row[column] is None else row[column] in allowed


USERS = TableSpec(
    "vde_users",
    (
        _text("id"),
        _text("name", null=True),
        _text("email"),
        Column("email_verified", "bool", default=False),
        _text("image", null=True),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_users_pkey", ("id",)),
        Unique("vde_users_email_key", ("email",)),
    ),
)

ACCOUNTS = TableSpec(
    "vde_accounts",
    (
        _text("id"),
        _text("user_id"),
        _text("account_id"),
        _text("provider_id"),
        _text("access_token", null=True),
        _text("refresh_token", null=True),
        _ts("access_token_expires_at", null=True),
        _ts("refresh_token_expires_at", null=True),
        _text("scope", null=True),
        _text("id_token", null=True),
        _text("password", null=True),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_accounts_pkey", ("id",)),
        Unique("vde_accounts_provider_account_unique", ("provider_id", "account_id")),
    ),
    references=(Reference("vde_accounts_user_id_fkey", "user_id", "vde_users"),),
)

SESSIONS = TableSpec(
    "vde_sessions",
    (
        _text("id"),
        _text("user_id"),
        _text("token"),
        _ts("expires_at"),
        _text("ip_address", null=True),
        _text("user_agent", null=True),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_sessions_pkey", ("id",)),
        Unique("vde_sessions_token_key", ("token",)),
    ),
    references=(Reference("vde_sessions_user_id_fkey", "user_id", "vde_users"),),
)

VERIFICATION_TOKENS = TableSpec(
    "vde_verification_tokens",
    (_text("id"), _text("identifier"), _text("value"), _ts("expires_at"), *STAMPS),
    uniques=(
        # value repeats: better-auth keeps a user id there (issue 9).
        Unique("vde_verification_tokens_pkey", ("id",)),
    ),
)

API_KEYS = TableSpec(
    "vde_api_keys",
    (
        _text("id"),
        _text("name", null=True),
        _text("start", null=True),
        _text("prefix", null=True),
        _text("key"),
        _text("user_id"),
        Column("refill_interval", "bigint", null=True),
        Column("refill_amount", "int", null=True),
        _ts("last_refill_at", null=True),
        Column("enabled", "bool", default=True),
        Column("rate_limit_enabled", "bool", default=True),
        Column("rate_limit_time_window", "bigint", default=86_400_000),
        Column("rate_limit_max", "int", default=10),
        Column("request_count", "int", default=0),
        Column("remaining", "int", null=True),
        _ts("last_request", null=True),
        _ts("expires_at", null=True),
        *STAMPS,
        _text("permissions", null=True),
        _text("metadata", null=True),
        Column("config_id", "text", default="default"),
    ),
    uniques=(
        Unique("vde_api_keys_pkey", ("id",)),
        Unique("vde_api_keys_key_key", ("key",)),
    ),
    references=(Reference("vde_api_keys_user_id_fkey", "user_id", "vde_users"),),
)

BASE_ITEMS = TableSpec(
    "vde_base_items",
    (
        INT_ID,
        _text("title"),
        _text("content"),
        _text("preview", null=True),
        _text("link", null=True),
        *STAMPS,
        Column("owner_id", "int"),
    ),
    uniques=(Unique("vde_base_items_pkey", ("owner_id", "id")),),
)

BASE_ITEM_VERSIONS = TableSpec(
    "vde_base_item_versions",
    (
        INT_ID,
        Column("base_item_id", "int"),
        _text("title"),
        _text("content"),
        _text("preview", null=True),
        _text("link", null=True),
        Column("version_number", "int"),
        STAMPS[0],
        _text("updated_by", null=True),
        Column("owner_id", "int"),
    ),
    uniques=(
        Unique("vde_base_item_versions_pkey", ("owner_id", "id")),
        Unique(
            "vde_base_item_versions_number_unique",
            ("owner_id", "base_item_id", "version_number"),
        ),
    ),
    checks=(
        Check(
            "vde_base_item_versions_number_positive",
            lambda r: None if r["version_number"] is None else r["version_number"] >= 1,
        ),
    ),
    references=(
        Reference(
            "vde_base_item_versions_base_item_id_fkey",
            "base_item_id",
            "vde_base_items",
            ("owner_id", "owner_id"),
        ),
    ),
)


def _parent_path(path: str) -> str:
    return "" if len(path) == 1 else path[:-2]


def _tree_rule(row: Row, state: State) -> list[Violation]:
    """The tree trigger: a child lies in its parent's map, one direction below it."""
    if row["parent_id"] is None:
        return []
    parent = next(r for r in state["vde_map_items"] if r["id"] == row["parent_id"])
    if (row["coord_user_id"], row["coord_group_id"]) != (
        parent["coord_user_id"],
        parent["coord_group_id"],
    ):
        return [Violation(pg.CheckViolationError, "vde_map_items_tree_parent")]
    if row["path"] == "" or _parent_path(row["path"]) != parent["path"]:
        return [Violation(pg.CheckViolationError, "vde_map_items_tree_path")]
    return []


def _not_equal(a: Any, b: Any) -> bool | None:
    if a is None or b is None or a is GENERATED or b is GENERATED:
        return None  # an identity id is fresh: never an earlier tile's id
    return a != b


_TYPES = ("user", "base")
_MAP_CHECKS = (
    Check("vde_map_items_path_format", lambda r: bool(PATH_RE.fullmatch(r["path"]))),
    Check("vde_map_items_item_type_check", _in("item_type", _TYPES)),
    Check(
        "user_item_parent_constraint",
        lambda r: r["item_type"] != "user" or r["parent_id"] is None,
    ),
    Check(
        "null_parent_is_user_constraint",
        lambda r: r["parent_id"] is not None or r["item_type"] == "user",
    ),
)
_TREE_CHECKS = (
    Check(
        "vde_map_items_root_path", lambda r: r["item_type"] != "user" or r["path"] == ""
    ),
    Check(
        "vde_map_items_origin_not_self", lambda r: _not_equal(r["origin_id"], r["id"])
    ),
)

MAP_ITEMS = TableSpec(
    "vde_map_items",
    (
        INT_ID,
        Column("coord_user_id", "int"),
        Column("coord_group_id", "int", default=0),
        Column("path", "varchar", default="", length=255),
        Column("item_type", "varchar", length=50),
        Column("origin_id", "int", null=True),
        Column("parent_id", "int", null=True),
        Column("ref_item_id", "int"),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_map_items_pkey", ("coord_user_id", "id")),
        Unique("vde_map_items_id_unique", ("id",)),
        Unique(
            "vde_map_items_coordinates_unique",
            ("coord_user_id", "coord_group_id", "path"),
            deferrable=TREE_RULES,
        ),
    ),
    checks=_MAP_CHECKS + (_TREE_CHECKS if TREE_RULES else ()),
    references=(
        Reference("vde_map_items_origin_id_fkey", "origin_id", "vde_map_items"),
        Reference(
            "vde_map_items_parent_id_fkey",
            "parent_id",
            "vde_map_items",
            ("coord_user_id", "coord_user_id"),
        ),
        Reference(
            "vde_map_items_ref_item_id_fkey",
            "ref_item_id",
            "vde_base_items",
            ("coord_user_id", "owner_id"),
        ),
    ),
    statement_rules=(_tree_rule,) if TREE_RULES else (),
)

USER_MAPPING = TableSpec(
    "vde_user_mapping",
    (
        INT_ID,
        _text("auth_user_id"),
        Column("mapping_user_id", "int"),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_user_mapping_pkey", ("id",)),
        Unique("vde_user_mapping_auth_user_id_key", ("auth_user_id",)),
        Unique("vde_user_mapping_mapping_user_id_key", ("mapping_user_id",)),
    ),
    references=(
        Reference("vde_user_mapping_auth_user_id_fkey", "auth_user_id", "vde_users"),
    ),
)

LLM_JOB_RESULTS = TableSpec(
    "vde_llm_job_results",
    (
        _text("id"),
        _text("job_id"),
        _text("user_id"),
        _text("status"),
        Column("request", "jsonb", null=True),
        Column("response", "jsonb", null=True),
        _text("error", null=True),
        *STAMPS,
    ),
    uniques=(
        Unique("vde_llm_job_results_pkey", ("id",)),
        Unique("vde_llm_job_results_job_id_key", ("job_id",)),
    ),
    checks=(Check("vde_llm_job_results_status_check", _in("status", JOB_STATUSES)),),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        USERS,
        ACCOUNTS,
        SESSIONS,
        VERIFICATION_TOKENS,
        API_KEYS,
        BASE_ITEMS,
        BASE_ITEM_VERSIONS,
        MAP_ITEMS,
        USER_MAPPING,
        LLM_JOB_RESULTS,
    )
}
