"""docs/usage.md's API table names only what its modules export.

A repository writes its imports from that table, so a renamed or removed
function must take its row with it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

USAGE = Path(__file__).resolve().parents[1] / "docs" / "usage.md"
#: A row of the table: | `module` | `name`, `name`, ... | what for |
ROW = re.compile(r"^\| `(vde(?:\.\w+)*)` \| ([^|]+) \|", re.M)
NAME = re.compile(r"`(\w+)`")


def api_table(text: str) -> dict[str, list[str]]:
    """Module -> the names its row lists."""
    return {row[1]: NAME.findall(row[2]) for row in ROW.finditer(text)}


def missing_names(table: dict[str, list[str]]) -> list[str]:
    """Each ``module.name`` of ``table`` that cannot be imported."""
    missing = []
    for module_name, names in table.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(module_name)
            continue
        missing += [f"{module_name}.{n}" for n in names if not hasattr(module, n)]
    return missing


def test_every_name_of_the_api_table_is_importable() -> None:
    table = api_table(USAGE.read_text(encoding="utf-8"))
    assert {"vde.mapping", "vde.transactions", "vde.errors"} <= set(table)
    assert all(table.values()), "a row of the API table lists no name"
    assert missing_names(table) == []


def test_a_name_the_module_lacks_is_caught() -> None:
    text = """| module | names | for |
| --- | --- | --- |
| `vde.mapping` | `add_tile`, `add_tiles` | tiles |
| `vde.nowhere` | `thing` | nothing |"""
    assert missing_names(api_table(text)) == ["vde.mapping.add_tiles", "vde.nowhere"]
