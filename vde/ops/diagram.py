"""A Mermaid ``erDiagram`` of vde's tables, drawn from the table classes.

Drawn from the classes rather than a live database so that it needs no server
and shows the names repositories use (relation names label the lines).
docs/schema.md carries a copy between two markers; a test keeps it current.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from piccolo.columns import Column, ForeignKey, Serial
from piccolo.constraints import Unique
from piccolo.table import Table

from vde.registry import vde_tables

#: A document's copy of the diagram sits between these two lines.
BEGIN_MARKER = "<!-- diagram: begin (piccolo vde diagram --readme=docs/schema.md) -->"
END_MARKER = "<!-- diagram: end -->"


def _column_type(column: Column) -> str:
    if isinstance(column, Serial):
        # A raw step turns Piccolo's SERIAL into an identity column.
        return "integer"
    column_type: str = column.column_type
    return column_type.lower().replace(" ", "_")


def _keys(column: Column) -> str:
    keys = []
    if column._meta.primary_key:
        keys.append("PK")
    if isinstance(column, ForeignKey):
        keys.append("FK")
    if column._meta.unique:
        keys.append("UK")
    return ", ".join(keys)


def _comment(column: Column, table: type[Table]) -> str:
    notes = []
    if isinstance(column, Serial):
        notes.append("identity")
    if column._meta.null:
        notes.append("null")
    # Mermaid's UK is one column; a rule over several is spelled out.
    for constraint in table._meta.constraints:
        if not isinstance(constraint, Unique):
            continue
        columns = [str(name) for name in constraint.columns]
        if column._meta.db_column_name in columns:
            notes.append(f"unique ({', '.join(columns)})")
    return f'"{"; ".join(notes)}"' if notes else ""


def _attribute(column: Column, table: type[Table]) -> str:
    parts = [_column_type(column), column._meta.db_column_name]
    parts += [part for part in (_keys(column), _comment(column, table)) if part]
    return " ".join(parts)


def _relation(table: type[Table], fk: ForeignKey[Any]) -> str:
    target = fk._foreign_key_meta.resolved_references._meta.tablename
    # Left: how many targets a row points at; right: how many rows point at one.
    one_target = "|o" if fk._meta.null else "||"
    many_rows = "o|" if fk._meta.unique else "o{"
    return (
        f"    {target} {one_target}--{many_rows} {table._meta.tablename} "
        f': "{fk._meta.name}"'
    )


def mermaid(tables: Sequence[type[Table]] | None = None) -> str:
    """The ``erDiagram`` source for ``tables`` (default: all of vde's)."""
    tables = vde_tables() if tables is None else tables
    lines = ["erDiagram"]
    for table in tables:
        lines.append(f"    {table._meta.tablename} {{")
        lines += [
            f"        {_attribute(column, table)}" for column in table._meta.columns
        ]
        lines.append("    }")
    for table in tables:
        lines += [_relation(table, fk) for fk in table._meta.foreign_key_columns]
    return "\n".join(lines) + "\n"


def readme_block(diagram: str) -> str:
    """A document's diagram block: markers around a fenced ``mermaid`` block."""
    return f"{BEGIN_MARKER}\n```mermaid\n{diagram}```\n{END_MARKER}"


def replace_block(text: str, diagram: str) -> str:
    """``text`` (a document) with the diagram between the markers replaced."""
    start = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(
            f"the document has no diagram markers: add the lines\n{BEGIN_MARKER}\n"
            f"{END_MARKER}\nwhere the diagram belongs"
        )
    return text[:start] + readme_block(diagram) + text[end + len(END_MARKER) :]


def refresh_readme(path: Path, diagram: str) -> None:
    """Replace the diagram between the markers of the README at ``path``."""
    text = path.read_text(encoding="utf-8")
    path.write_text(replace_block(text, diagram), encoding="utf-8")


def readme_diagram(text: str) -> str | None:
    """The diagram currently in a document's block, or None without markers."""
    start = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER)
    if start < 0 or end < start:
        return None
    block = text[start + len(BEGIN_MARKER) : end].strip("\n")
    lines: Iterable[str] = block.splitlines()
    return "\n".join(line for line in lines if not line.startswith("```")) + "\n"
