"""vde's Piccolo apps and their tables, for the code that serves them all.

Units of work (``vde.transactions``) and the tools that work on "all of vde's
tables" (the diagram, the application role, adopt) take them from here, so they
do not depend on how a project registers the apps. The apps are listed here
once: ``piccolo_conf.py`` registers :data:`APP_MODULES` (and the ``vde`` app of
commands). The registry reads the tables from their modules; it imports no
app's ``piccolo_app`` and none of its operations.

It imports the table modules when first asked for them, not with itself:
``vde.mapping``'s package re-exports the map's operations, which use
``vde.transactions``, which uses this module, so importing
``vde.mapping.tables`` while this module loads would load a half-made
``vde.transactions`` (``tests/test_structure.py`` imports every module first).
"""

from __future__ import annotations

import functools
from types import ModuleType

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from vde.errors import EngineMismatchError

#: vde's apps with tables, in migration order (each module's ``APP_CONFIG``).
APP_MODULES = (
    "vde.auth.piccolo_app",
    "vde.mapping.piccolo_app",
    "vde.llm.piccolo_app",
)
#: Their app names, as Piccolo's ``migration`` table records them.
APP_NAMES = tuple(module.split(".")[1] for module in APP_MODULES)


def vde_tables() -> list[type[Table]]:
    """Every vde table, app by app, each app's in the order its module defines
    them (the order of its ``APP_CONFIG.table_classes``)."""
    return list(_tables())


@functools.cache
def _tables() -> tuple[type[Table], ...]:
    from vde.auth import tables as auth
    from vde.llm import tables as llm
    from vde.mapping import tables as mapping

    return tuple(t for module in (auth, mapping, llm) for t in _defined_in(module))


def tables_engine(engine: PostgresEngine | None = None) -> PostgresEngine:
    """The engine vde's tables run on; ``engine`` must be that one when given.

    A transaction on any other engine would not contain the tables' queries:
    they would commit on their own while the block rolled back.
    """
    used = {id(table._meta.db): table._meta.db for table in vde_tables()}
    if len(used) != 1:
        raise EngineMismatchError(
            "vde's tables run on several engines; point them all at one "
            "(piccolo_conf.DB) before opening a unit of work"
        )
    (theirs,) = used.values()
    if not isinstance(theirs, PostgresEngine):
        raise EngineMismatchError(
            f"vde's tables run on {type(theirs).__name__}; a unit of work needs "
            "a PostgresEngine as DB in piccolo_conf.py"
        )
    if engine is not None and engine is not theirs:
        raise EngineMismatchError(
            "this engine is not the one vde's tables use, so their queries would "
            "run outside the transaction; pass the tables' engine "
            "(piccolo_conf.DB, or Table._meta.db) or leave engine= out"
        )
    return theirs


def _defined_in(module: ModuleType) -> list[type[Table]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Table)
        and value.__module__ == module.__name__
    ]
