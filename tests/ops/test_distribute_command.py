"""``piccolo vde distribute`` on a server without Citus: refused, nothing changed.

On a Citus cluster: tests/citus/test_distribute.py.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.ops.test_info import piccolo
from vde.ops.distribute import DistributeRefused, distribute
from vde.ops.schemas import read_schema
from vde.testing import ScratchDatabase


async def test_a_database_without_citus_is_refused_and_left_as_it_was(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    before = await read_schema(vde_conn)
    with pytest.raises(DistributeRefused) as refused:
        await distribute(vde_db.url, apply=True)
    assert type(refused.value) is DistributeRefused
    assert str(refused.value).startswith("this database has no Citus extension")
    assert await read_schema(vde_conn) == before


async def test_the_command_says_why_and_exits_1(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection
) -> None:
    before = await read_schema(vde_conn)
    done = piccolo(vde_db.url, "distribute", "--apply")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Nothing was changed: this database has no Citus extension"
    ), done.stderr
    assert await read_schema(vde_conn) == before
