"""Point Piccolo at another database for a while (a scratch database).

Piccolo finds its engine in ``piccolo_conf.DB`` and caches it on each table class
(``Table._meta.db``), so both are switched, and both restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.table import Table


def _all_tables(root: type[Table] = Table) -> Iterator[type[Table]]:
    for table in root.__subclasses__():
        yield table
        yield from _all_tables(table)


@contextmanager
def use_engine(engine: Engine[Any]) -> Iterator[Engine[Any]]:
    """Run Piccolo queries and migrations on ``engine`` inside the block."""
    conf = Finder().get_piccolo_conf_module()
    if conf is None:
        raise RuntimeError("piccolo_conf not found: set PICCOLO_CONF or add one")
    saved_conf: Engine[Any] = conf.DB
    saved_tables = {table: table._meta._db for table in _all_tables()}
    conf.DB = engine
    for table in saved_tables:
        table._meta.db = engine
    try:
        yield engine
    finally:
        conf.DB = saved_conf
        # Tables defined inside the block (migrations' snapshots) are left alone.
        for table, db in saved_tables.items():
            table._meta._db = db
