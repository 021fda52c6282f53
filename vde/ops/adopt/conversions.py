"""The documented conversions, as SQL over an original row: one per target column.

The copy inserts these expressions and the verification compares them with what
was stored, so both read the one definition here. Columns are matched by name
(``descr`` is ``content``): a column vde adds later takes its default, and a
column the original has that vde lacks is refused by the plan.
"""

from __future__ import annotations

from vde.ops.adopt.auth_cases import API_KEY_EXPRESSIONS
from vde.ops.adopt.findings import NAIVE
from vde.ops.adopt.layout import Layout
from vde.sql import quoted

#: Planned per-row changes, staged in temporary tables: original table ->
#: (temporary table, id type, the columns it changes with their types).
FIXES: dict[str, tuple[str, str, dict[str, str]]] = {
    "vde_map_items": (
        "adopt_tile_fixes",
        "integer",
        {"path": "text", "parent_id": "integer"},
    ),
    "vde_base_item_versions": (
        "adopt_version_fixes",
        "integer",
        {"version_number": "integer"},
    ),
    "accounts": ("adopt_account_fixes", "text", {"account_id": "text"}),
}


def source_from(layout: Layout, schema: str, table: str) -> str:
    """The FROM clause reading ``table``'s original rows, with their fixes."""
    source = quoted(schema, table)
    if table in FIXES:
        fixes, _, columns = FIXES[table]
        picked = ", ".join(f"f.{c} AS adopt_{c}" for c in columns)
        return (
            f"(SELECT o.*, f.id IS NOT NULL AS adopt_fixed, {picked} FROM {source} o "
            f"LEFT JOIN pg_temp.{fixes} f ON f.id = o.id) AS o"
        )
    return f"{source} AS o"


def expressions(
    layout: Layout, table: str, target_types: dict[str, str]
) -> dict[str, str]:
    """Target column -> SQL expression (cast to its type) over original row ``o``."""
    found: dict[str, str] = {}
    for column in layout.tables[table]:
        name = column.name
        if table == "vde_base_items" and name == layout.content_column:
            name = "content"
        if name not in target_types:
            continue
        value = f"o.{quoted(column.name)}"
        if column.type == NAIVE:
            value = f"({value} AT TIME ZONE 'UTC')"
        if table == "apikey" and name in API_KEY_EXPRESSIONS:
            value = f"({API_KEY_EXPRESSIONS[name]})"
        if table == "vde_map_items" and name == "item_type":
            value = f"lower({value})"
        if name in FIXES.get(table, ("", "", {}))[2]:
            value = f"CASE WHEN o.adopt_fixed THEN o.adopt_{name} ELSE {value} END"
        found[name] = f"({value})::{target_types[name]}"
    return found
