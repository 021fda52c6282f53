"""The house a maintainer walks: no import cycle, small modules, no upward import.

The import graph is read from the source (``ast``), every import counted, those
inside functions too: a cycle hidden in a function is still a cycle. Only
imports under ``if TYPE_CHECKING:`` are left out (they never run). Importing
``a.b.c`` runs package ``a.b``'s ``__init__`` first, so the graph has that edge
too; and every module is also imported first, in a fresh set of ``vde``
modules, the way a program that starts with it would.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vde.registry import APP_MODULES, APP_NAMES, vde_tables

PACKAGE = Path(__file__).resolve().parents[1] / "vde"
#: The packages of vde's apps: the code below them must not import them.
APP_PACKAGES = ("vde.auth", "vde.mapping", "vde.llm", "vde.ops")
#: What the registry may import from the apps.
TABLE_MODULES = {"vde.auth.tables", "vde.mapping.tables", "vde.llm.tables"}
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if "piccolo_migrations" not in path.parts
}


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below ``node``, but not under ``if TYPE_CHECKING``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _known(name: str) -> str | None:
    """The vde module ``name`` is, or the one that holds it (a name in it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str) -> set[str]:
    """The vde modules that module ``name`` imports."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            known = _known(target)
            if known is not None and known != name:
                found.add(known)
    return found


def with_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """``graph`` plus the packages each import runs first (not the importer's own,
    which Python runs before it)."""
    def packages(name: str) -> set[str]:
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))}

    return {
        name: targets
        | {
            package
            for target in targets
            for package in packages(target) - packages(name) - {name}
            if package in MODULES
        }
        for name, targets in graph.items()
    }


#: The imports as written, and with the packages they run.
GRAPH = {name: imports_of(name) for name in MODULES}
RUN = with_packages(GRAPH)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (its modules in import order), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        path.append(name)
        for target in sorted(graph[name]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name)
        if cycle:
            return cycle
    return None


def test_the_graph_sees_imports_in_functions_and_relative_ones() -> None:
    # A graph that misses these would pass over the cycles they make.
    assert "vde.mapping.tables" in GRAPH["vde.registry"]  # inside vde_tables
    assert "vde.ops.cli" in GRAPH["vde.ops.piccolo_app"]  # from .cli import ...
    assert "vde.database" in RUN["vde.ops.cli"]  # the package of vde.database.pool
    assert "vde.ops" not in RUN["vde.ops.cli"]  # its own package: already running
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_of_vde_imports_itself_back() -> None:
    assert find_cycle(RUN) is None


def test_every_module_of_vde_imports_first() -> None:
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] == 'vde']:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed.append(f'{name}: {error!r}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *MODULES],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_stays_small(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by concern"


def test_the_code_below_the_apps_imports_none_of_them() -> None:
    below = [
        name
        for name in MODULES
        if not any(under(name, package) for package in (*APP_PACKAGES, "vde.testing"))
    ]
    assert {"vde.transactions", "vde.errors", "vde.registry", "vde.database"} <= set(
        below
    )
    upward = {
        (name, target)
        for name in below
        for target in GRAPH[name]
        if any(under(target, package) for package in APP_PACKAGES)
        and not (name == "vde.registry" and target in TABLE_MODULES)
    }
    assert upward == set()


def test_the_registry_lists_the_apps_tables_in_their_order() -> None:
    apps = [importlib.import_module(module).APP_CONFIG for module in APP_MODULES]
    assert vde_tables() == [table for app in apps for table in app.table_classes]
    assert APP_NAMES == tuple(app.app_name for app in apps)


def test_the_map_package_exports_each_name_from_its_home() -> None:
    import vde.mapping as package

    assert set(package.__all__) == set(package._HOMES)
    for name in package.__all__:
        home = importlib.import_module(f"vde.mapping.{package._HOMES[name]}")
        assert getattr(package, name) is getattr(home, name), name
