"""Keep tests off real data, and passwords out of test output.

With ``DATABASE_URL`` set, ``piccolo_conf.DB`` points at a real database; a
test that forgot ``vde_db`` would write there through the tables. For the whole
session the plugin points Piccolo (``piccolo_conf.DB`` and every table) at an
engine that refuses every query and names the fixture to use; ``vde_db`` swaps
in its scratch engine for its test only. URLs handed to tests are
:class:`SecretUrl`: they connect as usual but ``repr()`` (what ``pytest -l``,
assertion messages and dataclass reprs show) hides the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from piccolo.engine.postgres import PostgresEngine

from vde.database.engine_switch import use_engine
from vde.redaction import redacted

REFUSAL = (
    "vde.testing: this test has no database of its own, so Piccolo's tables "
    "refuse to run queries (which would otherwise reach piccolo_conf.DB, maybe "
    "DATABASE_URL's real database). Ask for the `vde_db` fixture: add `vde_db` "
    "to the test's arguments (or to a fixture it uses)."
)


class DatabaseRefused(RuntimeError):
    """A Piccolo query ran in a test outside the ``vde_db`` fixture."""


class SecretUrl(str):
    """A URL that connects as itself but shows no password when repr'd."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redacted(str(self)))


class RefusingEngine(PostgresEngine):
    """An engine that never connects: every query raises :class:`DatabaseRefused`."""

    def __init__(self) -> None:
        super().__init__(config={"dsn": "postgresql://refused-outside-vde-db/"})

    async def get_version(self) -> float:
        return 0.0  # Piccolo asks at construction; there is no server to ask

    def get_version_sync(self) -> float:
        return 0.0

    async def prep_database(self) -> None:
        return None

    def _refuse(self) -> NoReturn:
        raise DatabaseRefused(REFUSAL)

    async def get_new_connection(self) -> Any:
        self._refuse()

    async def start_connection_pool(self, **kwargs: Any) -> None:
        self._refuse()

    async def run_querystring(self, querystring: Any, in_pool: bool = True) -> Any:
        self._refuse()

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        self._refuse()

    def __repr__(self) -> str:
        return "<RefusingEngine: ask for the vde_db fixture>"


@pytest.fixture(scope="session", autouse=True)
def vde_tables_refuse_outside_vde_db() -> Iterator[None]:
    """Point Piccolo at :class:`RefusingEngine` for the session (see module doc).

    A project without a ``piccolo_conf`` has vde's stand-in by now
    (``vde.testing.configuration``), whose engine refuses already.
    """
    with use_engine(RefusingEngine()):
        yield
