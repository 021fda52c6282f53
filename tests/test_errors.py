"""What vde's own helpers raise is one of ``vde.errors``, caught by meaning."""

from __future__ import annotations

import ast
import builtins
import importlib
import pkgutil
import re
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


# -- HTTP statuses --------------------------------------------------------------

USAGE = VDE.parent / "docs" / "usage.md"
#: A row of usage.md's status table: | `ErrorName` | 404 | when |
STATUS_ROW = re.compile(r"^\| `(\w+)` \| (\d{3}) \|", re.M)


def every_vde_error() -> dict[str, type[VdeError]]:
    """VdeError and each subclass in vde, by name (every module imported first)."""
    for module in pkgutil.walk_packages([str(VDE)], "vde."):
        if "piccolo_migrations" not in module.name:
            importlib.import_module(module.name)
    found: dict[str, type[VdeError]] = {}
    todo: list[type[VdeError]] = [VdeError]
    while todo:
        error = todo.pop()
        if error.__module__.split(".")[0] == "vde":
            found[error.__name__] = error
        todo += error.__subclasses__()
    return found


def documented_statuses(text: str) -> dict[str, int]:
    return {row[1]: int(row[2]) for row in STATUS_ROW.finditer(text)}


def test_every_vde_error_has_the_http_status_usage_md_gives_it() -> None:
    errors_found = every_vde_error()
    assert {"VdeError", "TileNotFoundError", "EmbeddedServerError"} <= set(
        errors_found
    )
    assert documented_statuses(USAGE.read_text(encoding="utf-8")) == {
        name: error.http_status for name, error in errors_found.items()
    }


def test_the_statuses_say_what_a_web_layer_answers() -> None:
    assert errors.TileNotFoundError.http_status == 404
    assert errors.UserNotFoundError.http_status == 404
    assert errors.TargetOccupiedError.http_status == 409
    assert errors.InvalidArgumentError.http_status == 422
    assert errors.InvalidCoordinatesError.http_status == 422
    assert errors.EngineMismatchError.http_status == 500
    for error in every_vde_error().values():
        assert isinstance(error.http_status, int) and 400 <= error.http_status < 600


def test_a_status_the_table_gets_wrong_is_caught() -> None:
    text = "| `TileNotFoundError` | 409 | missing |\n| `VdeError` | 500 | else |"
    assert documented_statuses(text) == {"TileNotFoundError": 409, "VdeError": 500}
    assert documented_statuses(text) != {
        name: error.http_status
        for name, error in every_vde_error().items()
        if name in ("TileNotFoundError", "VdeError")
    }
