"""The ER diagram (vde/ops/diagram.py, `piccolo vde diagram`) and docs/schema.md's
copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from vde.ops.commands.diagram import diagram
from vde.ops.diagram import mermaid, readme_diagram, replace_block

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_the_schema_documents_diagram_is_current() -> None:
    shown = readme_diagram(SCHEMA.read_text(encoding="utf-8"))
    assert shown is not None, "docs/schema.md has lost its diagram markers"
    assert shown == mermaid(), (
        "docs/schema.md's diagram is stale: "
        "run `piccolo vde diagram --readme=docs/schema.md`"
    )


def test_diagram_marks_primary_foreign_and_unique_keys() -> None:
    lines = [line.strip() for line in mermaid().splitlines()]
    assert lines[0] == "erDiagram"
    assert "text id PK" in lines
    assert "text email UK" in lines
    assert 'integer id PK "identity"' in lines
    assert "text auth_user_id FK, UK" in lines
    assert 'integer parent_id FK "null"' in lines
    assert 'varchar(255) path "unique (coord_user_id, coord_group_id, path)"' in lines


def test_diagram_relations_carry_cardinality_and_relation_name() -> None:
    lines = {line.strip() for line in mermaid().splitlines()}
    # A required foreign key: exactly one user, any number of accounts.
    assert 'vde_users ||--o{ vde_accounts : "user"' in lines
    # A nullable self-reference: zero or one parent.
    assert 'vde_map_items |o--o{ vde_map_items : "parent"' in lines
    assert 'vde_map_items |o--o{ vde_map_items : "origin"' in lines
    # A unique foreign key: a user has at most one mapping.
    assert 'vde_users ||--o| vde_user_mapping : "auth_user"' in lines
    assert sum("--" in line for line in lines) == 8


def test_diagram_command_writes_output_file_and_document(tmp_path: Path) -> None:
    output = tmp_path / "tables.mmd"
    document = tmp_path / "schema.md"
    document.write_text(replace_block(SCHEMA.read_text(encoding="utf-8"), "old\n"))
    diagram(output=str(output), readme=str(document))
    assert output.read_text(encoding="utf-8") == mermaid()
    assert readme_diagram(document.read_text(encoding="utf-8")) == mermaid()


def test_replace_block_without_markers_says_what_to_add() -> None:
    with pytest.raises(ValueError, match="no diagram markers"):
        replace_block("# a document\n", mermaid())
