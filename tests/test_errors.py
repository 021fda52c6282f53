"""What vde's own helpers raise is one of ``vde.errors``, caught by meaning."""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

import pytest

from vde import errors
from vde.errors import ECHO_LIMIT, VdeError, echo

VDE = Path(errors.__file__).parent
#: The modules repositories call (the ops app's commands and the test plugin
#: report through the command line and pytest instead).
HELPERS = sorted(
    path
    for folder in ("auth", "mapping", "llm")
    for path in (VDE / folder).glob("*.py")
) + [
    VDE / name
    for name in (
        "transactions.py",
        "registry.py",
        "database/engine.py",
        "database/pool.py",
        "sql.py",
    )
]


def raised_classes(path: Path) -> set[str]:
    """The names of the classes ``path`` raises (``raise Name(...)``), except
    in a module's ``__getattr__``, whose AttributeError is Python's protocol
    for a missing name."""
    tree = ast.parse(path.read_text())
    protocol = {
        id(node)
        for function in tree.body
        if isinstance(function, ast.FunctionDef) and function.name == "__getattr__"
        for node in ast.walk(function)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in protocol:
            continue
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            if isinstance(node.exc.func, ast.Name):
                names.add(node.exc.func.id)
    return names


@pytest.mark.parametrize("path", HELPERS, ids=[p.name for p in HELPERS])
def test_every_error_a_helper_raises_is_a_vde_error(path: Path) -> None:
    module = importlib.import_module(
        ".".join(path.relative_to(VDE.parent).with_suffix("").parts)
    )
    for name in raised_classes(path) - {"AssertionError"}:  # "unreachable" only
        raised = getattr(module, name, None) or getattr(builtins, name)
        assert issubclass(raised, VdeError), f"{path.name} raises {name}"


def test_the_scan_sees_the_raises() -> None:
    assert "TargetOccupiedError" in raised_classes(VDE / "mapping" / "places.py")


def test_echo_cuts_long_input_and_says_how_long_it_was() -> None:
    assert echo("short") == "'short'"
    long = echo("x" * 1000)
    assert len(long) <= ECHO_LIMIT + 20
    assert long.endswith("… (1002 characters)")
