"""hexmap's service on vde.testing's databases: a tile tagged, read, untagged."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from vde.auth.tables import User
from vde.testing import ScratchDatabase

from hexmap.service import app
from hexmap.tables import TileTag


@pytest_asyncio.fixture
async def client(vde_db: ScratchDatabase) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hexmap") as client,
    ):
        yield client


async def test_a_tile_is_tagged_and_untagged(
    client: httpx.AsyncClient, vde_conn: asyncpg.Connection
) -> None:
    await User.insert(User(id="ada", email="ada@example.org"))
    root = (await client.post("/maps", json={"user_id": "ada", "title": "Home"}))
    assert root.status_code == 200, root.text
    tile = root.json()["id"]
    for tag in ("garden", "attic"):
        added = await client.post(f"/tiles/{tile}/tags", json={"tag": tag})
        assert (added.status_code, added.json()["tag"]) == (200, tag)
    assert (await client.get(f"/tiles/{tile}/tags")).json() == ["attic", "garden"]
    assert (await client.delete(f"/tiles/{tile}/tags/attic")).json() == 1
    rows = await vde_conn.fetch("SELECT tile, tag FROM hexmap_tile_tags")
    assert [tuple(row) for row in rows] == [(tile, "garden")]


async def test_a_tag_for_a_missing_tile_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, vde_conn: asyncpg.Connection
) -> None:
    answer = await client.post("/tiles/4242/tags", json={"tag": "lost"})
    assert answer.status_code == 404
    # The foreign key into vde's tiles refuses it below the service too.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await TileTag.insert(TileTag(tile=4242, tag="lost"))
    assert await vde_conn.fetchval("SELECT count(*) FROM hexmap_tile_tags") == 0
