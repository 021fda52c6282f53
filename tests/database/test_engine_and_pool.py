"""``connection_pool``: Piccolo queries inside it reuse connections (no timings);
the embedded server's database is made as named."""

import os
import secrets

import asyncpg
import pytest

from vde.auth.tables import User
from vde.database import (
    DATABASE_URL_VARIABLE,
    connection_pool,
    embedded_server,
    make_engine,
    use_engine,
)
from vde.database.engine import ensure_database

BACKEND = (
    "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
)


async def backend() -> tuple:
    """Which server process ran this Piccolo query ((pid, start) never repeats)."""
    row = (await User.raw(BACKEND))[0]
    return row["pid"], row["backend_start"]


async def test_without_a_pool_every_piccolo_query_opens_a_new_connection(vde_db):
    engine = make_engine(vde_db.url)
    with use_engine(engine):
        assert engine.pool is None
        assert await backend() != await backend()


async def test_queries_inside_connection_pool_reuse_its_connection(vde_db):
    engine = make_engine(vde_db.url)
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=1) as pooled:
            assert pooled.engine is engine and pooled.pool is engine.pool is not None
            first = await backend()
            await User.insert(User(id="u1", email="ada@example.com"))
            assert await User.count() == 1
            assert await backend() == first
        assert engine.pool is None  # closed at exit


async def test_connection_pool_defaults_to_the_engine_of_piccolo_conf(vde_db):
    engine = make_engine(vde_db.url)
    with use_engine(engine):
        async with connection_pool(min_size=1, max_size=2) as pooled:
            assert pooled.engine is engine and pooled.pool is engine.pool is not None
            assert User._meta.db is engine
        assert engine.pool is None


async def test_connection_pool_leaves_an_already_running_pool_open(vde_db):
    engine = make_engine(vde_db.url)
    with use_engine(engine):
        async with connection_pool(engine, min_size=1, max_size=1):
            pool = engine.pool
            async with connection_pool(engine):
                assert engine.pool is pool
            assert engine.pool is pool
            assert await User.count() == 0
        assert engine.pool is None


@pytest.mark.skipif(
    bool(os.environ.get(DATABASE_URL_VARIABLE)), reason="the embedded server only"
)
async def test_the_embedded_servers_database_gets_its_name_as_given() -> None:
    server = embedded_server()
    name = f"vde_test_e'q\"_{os.getpid()}_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(server.get_uri("postgres"))
    try:
        ensure_database(server, name)
        ensure_database(server, name)  # already there: left as it is
        assert await connection.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", name
        ) == 1
    finally:
        drop = await connection.fetchval(
            "SELECT format('DROP DATABASE IF EXISTS %I', $1::text)", name
        )
        await connection.execute(drop)
        await connection.close()
