"""What differs between two schemas: the one the migrations build and a live one.

``piccolo migrations new --auto`` compares table classes with the migrations'
own snapshots, so it never sees a default changed, an index dropped or a check
loosened by hand, nor the objects made by raw SQL steps. The drift check compares
pg_catalog readings instead; this module is the comparison, free of I/O, and says
each difference in words an operator can act on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vde.ops.catalog import Catalog, ColumnInfo, ConstraintInfo, TableInfo
from vde.ops.privileges import is_app_role_grant
from vde.ops.schema_objects import diff_objects

_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique constraint",
    "f": "foreign key",
    "c": "check",
    "x": "exclusion constraint",
    "t": "constraint trigger",
}
_IDENTITY = {"a": "ALWAYS", "d": "BY DEFAULT", None: "none"}

#: A row of Piccolo's ``migration`` table: (app name, migration id).
MigrationRecord = tuple[str, str]


@dataclass(frozen=True)
class Schema:
    """The part of a database the drift check compares."""

    tables: Catalog
    functions: Mapping[str, str] = field(default_factory=dict)
    #: Every row of Piccolo's ``migration`` table, duplicates included.
    migrations: tuple[MigrationRecord, ...] = ()
    #: Trigger states, persistence, row-level security, policies, rules.
    settings: Mapping[str, str] = field(default_factory=dict)
    #: ``'table vde_users'`` -> normalised grants (``vde.ops.privileges``).
    privileges: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Views, sequences, types, ... (``vde.ops.schema_objects``).
    objects: frozenset[str] = frozenset()


def differences(expected: Schema, found: Schema) -> list[str]:
    """Each way ``found`` differs from ``expected``, one readable line each."""
    return [
        *diff_migrations(expected.migrations, found.migrations),
        *diff_catalogs(expected.tables, found.tables),
        *diff_functions(expected.functions, found.functions),
        *diff_objects(expected.objects, found.objects),
        *diff_settings(expected.settings, found.settings),
        *diff_privileges(expected.privileges, found.privileges),
    ]


def diff_settings(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    """Settings keyed by what they are; a policy or rule exists or does not."""
    lines = []
    for key in sorted(expected.keys() | found.keys()):
        want, got = expected.get(key), found.get(key)
        if want == got:
            continue
        if want is None and key.startswith(("policy ", "rule ")):
            lines.append(f"extra {key}: {got}")
        elif got is None and key.startswith(("policy ", "rule ")):
            lines.append(f"missing {key}: {want}")
        elif want is not None and got is not None:
            lines.append(f"{key}: expected {want}, found {got}")
        # A table or trigger missing on one side is reported by diff_catalogs.
    return lines


def diff_privileges(
    expected: Mapping[str, frozenset[str]], found: Mapping[str, frozenset[str]]
) -> list[str]:
    """Grants missing or extra per object, except a named role's plain DML
    (what ``piccolo vde app_role`` grants the application): PUBLIC's rights,
    the owner's, column grants and grant options must equal the migrations'."""
    lines = []
    for obj in sorted(expected.keys() & found.keys()):
        want, got = expected[obj], found[obj]
        extra = sorted(g for g in got - want if not is_app_role_grant(obj, g))
        missing = sorted(want - got)
        if extra:
            lines.append(f"privileges on {obj}: extra grant {', '.join(extra)}")
        if missing:
            lines.append(f"privileges on {obj}: missing grant {', '.join(missing)}")
    return lines


def diff_migrations(
    expected: Iterable[MigrationRecord], found: Iterable[MigrationRecord]
) -> list[str]:
    known = set(expected)
    counts = Counter(found)
    lines = [
        f"migration {app}/{name} not applied"
        for app, name in sorted(known - set(counts))
    ]
    for (app, name), times in sorted(counts.items()):
        if (app, name) not in known:
            lines.append(f"migration {app}/{name} recorded, but no app defines it")
        elif times > 1:
            lines.append(f"migration {app}/{name} recorded {times} times")
    return lines


def diff_catalogs(expected: Catalog, found: Catalog) -> list[str]:
    lines = [f"missing table {name}" for name in sorted(expected.keys() - found)]
    lines += [
        f"table {name} exists but no migration made it"
        for name in sorted(found.keys() - expected)
    ]
    for name in sorted(expected.keys() & found.keys()):
        lines += _diff_table(name, expected[name], found[name])
    return lines


def diff_functions(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    lines = [f"missing function {name}" for name in sorted(expected.keys() - found)]
    lines += [
        f"function {name} exists but no migration made it"
        for name in sorted(found.keys() - expected)
    ]
    for name in sorted(expected.keys() & found.keys()):
        want_set, want_rest = _split_set_options(expected[name])
        got_set, got_rest = _split_set_options(found[name])
        if want_set != got_set:
            lines.append(
                f"SET options of function {name}: expected {want_set or 'none'},"
                f" found {got_set or 'none'}"
            )
        if want_rest != got_rest:
            want, got = _first_changed_line(want_rest, got_rest)
            lines.append(
                f"definition of function {name}: expected a line {want!r},"
                f" found {got!r}"
            )
    return lines


def _split_set_options(definition: str) -> tuple[str, str]:
    """(the ``SET name TO value`` options, the rest) of a function definition.

    pg_get_functiondef puts each option (``proconfig``, e.g. a pinned
    search_path) on a line of its own in the header, before the body.
    """
    header, marker, body = definition.partition("\n AS ")
    lines = header.splitlines()
    options = [line.strip() for line in lines if line.startswith(" SET ")]
    rest = [line for line in lines if not line.startswith(" SET ")]
    return "; ".join(options), "\n".join(rest) + marker + body


def _diff_table(table: str, expected: TableInfo, found: TableInfo) -> list[str]:
    lines: list[str] = []
    for column in sorted(expected.columns.keys() - found.columns):
        lines.append(f"missing column {table}.{column}")
    for column in sorted(found.columns.keys() - expected.columns):
        lines.append(f"extra column {table}.{column}")
    for column in sorted(expected.columns.keys() & found.columns.keys()):
        lines += _diff_column(
            f"{table}.{column}", expected.columns[column], found.columns[column]
        )

    lines += _diff_named(
        table,
        {n: _constraint(c) for n, c in expected.constraints.items()},
        {n: _constraint(c) for n, c in found.constraints.items()},
    )
    # A unique or primary key constraint is also an index of the same name:
    # report it once, as the constraint.
    backing = expected.constraints.keys() | found.constraints.keys()
    lines += _diff_named(
        table,
        {
            n: ("index", i.definition)
            for n, i in expected.indexes.items()
            if n not in backing
        },
        {
            n: ("index", i.definition)
            for n, i in found.indexes.items()
            if n not in backing
        },
    )
    lines += _diff_named(
        table,
        {n: ("trigger", d) for n, d in expected.triggers.items()},
        {n: ("trigger", d) for n, d in found.triggers.items()},
    )
    return lines


def _diff_column(name: str, expected: ColumnInfo, found: ColumnInfo) -> list[str]:
    pairs = [
        ("type", expected.type, found.type),
        ("nullability", _null(expected.nullable), _null(found.nullable)),
        ("default", expected.default or "none", found.default or "none"),
        ("identity", _IDENTITY[expected.identity], _IDENTITY[found.identity]),
        (
            "collation",
            expected.collation or "the type's default",
            found.collation or "the type's default",
        ),
    ]
    return [
        f"{what} of {name}: expected {want}, found {got}"
        for what, want, got in pairs
        if want != got
    ]


def _constraint(constraint: ConstraintInfo) -> tuple[str, str]:
    definition = constraint.definition
    if constraint.deferrable:
        definition += " DEFERRABLE"
    if constraint.deferred:
        definition += " INITIALLY DEFERRED"
    return _CONSTRAINT_KINDS.get(constraint.kind, "constraint"), definition


def _first_changed_line(expected: str, found: str) -> tuple[str, str]:
    """The first line where two function definitions part (bodies are long)."""
    want_lines, got_lines = expected.splitlines(), found.splitlines()
    for want, got in zip(want_lines, got_lines, strict=False):
        if want != got:
            return want.strip(), got.strip()
    n = min(len(want_lines), len(got_lines))
    if len(want_lines) > n:
        return want_lines[n].strip(), "(end of the definition)"
    if len(got_lines) > n:
        return "(end of the definition)", got_lines[n].strip()
    return "(the same lines)", "(different line breaks)"


def _null(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _diff_named(
    table: str,
    expected: Mapping[str, tuple[str, str]],
    found: Mapping[str, tuple[str, str]],
) -> list[str]:
    """Objects keyed by name, valued (kind, definition)."""
    lines = [
        f"missing {expected[name][0]} {name} on {table}"
        for name in sorted(expected.keys() - found)
    ]
    lines += [
        f"extra {found[name][0]} {name} on {table}"
        for name in sorted(found.keys() - expected)
    ]
    for name in sorted(expected.keys() & found.keys()):
        (want_kind, want), (got_kind, got) = expected[name], found[name]
        if (want_kind, want) != (got_kind, got):
            lines.append(
                f"definition of {want_kind} {name} on {table}:"
                f" expected {want}, found {got}"
            )
    return lines
