"""vde's database: the engine and its pool, the embedded server, scratch databases.

``make_engine()`` is the ``DB`` of a ``piccolo_conf.py``: the server in
``DATABASE_URL``, else the embedded one (``engine``, ``embedded/``);
``connection_pool()`` runs a block's queries on reused connections (``pool``);
``use_engine()`` points Piccolo at another database for a while
(``engine_switch``); ``scratch`` makes and drops throw-away databases;
``forwards`` migrates one, each migration recorded in its own transaction under
``migration_lock``.
"""

from vde.database.engine import (
    DATABASE_URL_VARIABLE,
    EMBEDDED_DATABASE,
    database_url,
    default_data_dir,
    embedded_server,
    make_engine,
)
from vde.database.engine_switch import use_engine
from vde.database.pool import PooledEngine, configured_engine, connection_pool

__all__ = [
    "DATABASE_URL_VARIABLE",
    "EMBEDDED_DATABASE",
    "PooledEngine",
    "configured_engine",
    "connection_pool",
    "database_url",
    "default_data_dir",
    "embedded_server",
    "make_engine",
    "use_engine",
]
