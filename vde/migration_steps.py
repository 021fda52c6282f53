"""What vde's raw migrations share: running their SQL, and reading a predecessor's.

Migrations import this module for as long as they exist, and each must run
the same against every later vde. So it stays small and stable, and imports
Piccolo only, never vde's application code (tables, operations, commands),
which changes with the schema. How raw migrations keep their SQL in
``FORWARDS``/``BACKWARDS`` for the linter: docs/operations.md (``lint``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

#: One statement, or several run in order.
Statements = str | Sequence[str]


async def run_all(
    statements: Statements, schema_placeholder: str | None = None
) -> None:
    """Run ``statements`` in order on the migration's engine (its transaction).

    ``schema_placeholder``: a marker in the text that stands for the schema the
    migration runs in; it is replaced by that schema's quoted name (one query
    reads it, and only when a statement holds the marker).
    """
    engine = engine_finder()
    assert engine is not None
    texts = [statements] if isinstance(statements, str) else list(statements)
    if schema_placeholder is not None and any(schema_placeholder in t for t in texts):
        (row,) = await engine.run_ddl("SELECT quote_ident(current_schema()) AS name")
        texts = [text.replace(schema_placeholder, row["name"]) for text in texts]
    for sql in texts:
        await engine.run_ddl(sql)


def add_raw_steps(
    manager: MigrationManager,
    forwards: Statements,
    backwards: Statements,
    schema_placeholder: str | None = None,
) -> MigrationManager:
    """Give ``manager`` a raw step running ``forwards`` and its twin ``backwards``.

    Pass the module's ``FORWARDS`` and ``BACKWARDS`` constants, which
    ``piccolo vde lint`` reads; ``schema_placeholder`` as for :func:`run_all`.
    """

    async def raw_forwards() -> None:
        await run_all(forwards, schema_placeholder)

    async def raw_backwards() -> None:
        await run_all(backwards, schema_placeholder)

    manager.add_raw(raw_forwards)
    manager.add_raw_backwards(raw_backwards)
    return manager


def load_migration(beside: str, filename: str) -> ModuleType:
    """The migration module ``filename`` in the folder of file ``beside``.

    A migration that replaces a function restores its predecessor's text on
    the way back; it reads that text from the predecessor's file, which never
    changes, rather than pasting it. The module is loaded fresh, under its own
    name, and not added to ``sys.modules``.
    """
    path = Path(beside).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"vde_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
