"""docs/usage.md's web service, as printed, answers as the page says.

The service is the page's example loaded as a module; requests go through
httpx's ASGI transport on the session's event loop (the pool is vde_db's), its
lifespan entered as a server would. The user is ``vde_signed_in``, and the
cookie a browser would send is signed with the service's secret.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.test_errors import every_vde_error
from tests.test_readme_examples import example
from vde.testing import ScratchDatabase, SignedInUser

SECRET = "the-service-secret-0123456789abc"
TABLES = ("vde_map_items", "vde_base_items", "vde_base_item_versions")


def load_service(folder: Path) -> ModuleType:
    path = folder / "service.py"
    path.write_text(example("web-service"))
    spec = importlib.util.spec_from_file_location("vde_web_service_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    return load_service(tmp_path)


@pytest_asyncio.fixture
async def client(
    service: ModuleType, vde_db: ScratchDatabase
) -> AsyncIterator[httpx.AsyncClient]:
    app = service.app
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://service") as client,
    ):
        yield client


def cookie(user: SignedInUser, secret: str = SECRET) -> dict[str, str]:
    """The Cookie header a browser signed in by better-auth sends."""
    return {"cookie": "; ".join(f"{k}={v}" for k, v in user.cookies(secret).items())}


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[asyncpg.Record]]:
    return {t: await conn.fetch(f"SELECT * FROM {t} ORDER BY id") for t in TABLES}


async def test_a_request_without_a_genuine_session_is_401(
    client: httpx.AsyncClient,
    vde_signed_in: SignedInUser,
    vde_conn: asyncpg.Connection,
) -> None:
    for headers in (
        {},
        cookie(vde_signed_in, "another secret"),
        {"authorization": f"Bearer {vde_signed_in.token}"},  # bare: not taken
    ):
        answer = await client.post("/map", headers=headers)
        assert answer.status_code == 401, headers
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_map_items") == 0


async def test_each_refusal_gets_its_status_and_writes_nothing(
    client: httpx.AsyncClient,
    vde_signed_in: SignedInUser,
    vde_conn: asyncpg.Connection,
) -> None:
    me = cookie(vde_signed_in)
    made = await client.post("/map", headers=me)
    assert made.status_code == 200, made.text
    assert (made.json()["title"], made.json()["coord_user_id"]) == (
        "My map",
        vde_signed_in.owner_id,
    )
    ideas = {"path": [1], "title": "Ideas", "content": "First thoughts"}
    added = await client.post("/tiles", json=ideas, headers=me)
    assert (added.status_code, added.json()["path"]) == (200, "1")
    # JSON names the fields as Python does: parent, not the column parent_id.
    assert added.json()["parent"] == made.json()["id"]
    assert {"parent_id", "ref_item_id", "origin_id"}.isdisjoint(added.json())

    before = await snapshot(vde_conn)
    refusals = [
        ("/map", None, 409, "TargetOccupiedError"),
        ("/tiles", ideas, 409, "TargetOccupiedError"),
        ("/tiles", {**ideas, "path": [2, 3]}, 404, "TileNotFoundError"),
        ("/tiles", {**ideas, "path": [7]}, 422, "InvalidCoordinatesError"),
        ("/tiles", {**ideas, "path": []}, 422, "InvalidMoveError"),
    ]
    for url, body, status, error in refusals:
        answer = await client.post(url, json=body, headers=me)
        assert (answer.status_code, answer.json()["error"]) == (status, error), body
        assert answer.json()["detail"]
    assert await snapshot(vde_conn) == before

    read = await client.get("/tiles", params={"path": [1]}, headers=me)
    assert (read.status_code, read.json()["title"]) == (200, "Ideas")
    root = await client.get("/tiles", headers=me)
    assert (root.status_code, root.json()["path"]) == (200, "")
    missing = await client.get("/tiles", params={"path": [5]}, headers=me)
    assert missing.status_code == 404
    bearer = {"authorization": vde_signed_in.authorization(SECRET)}
    by_bearer = await client.get("/tiles", params={"path": [1]}, headers=bearer)
    assert by_bearer.json() == read.json()


async def test_a_user_without_a_map_is_told_to_make_one_and_nothing_is_made(
    client: httpx.AsyncClient,
    vde_signed_in: SignedInUser,
    vde_conn: asyncpg.Connection,
) -> None:
    await vde_conn.execute("DELETE FROM vde_user_mapping")
    answer = await client.get("/tiles", headers=cookie(vde_signed_in))
    assert (answer.status_code, answer.json()["detail"]) == (
        404,
        "create your map first",
    )
    assert await vde_conn.fetchval("SELECT count(*) FROM vde_user_mapping") == 0


async def test_the_handler_answers_every_vde_error_with_its_status(
    service: ModuleType,
) -> None:
    for name, error in every_vde_error().items():
        response = await service.refused(None, error("what went wrong"))
        body = json.loads(response.body)
        assert (response.status_code, body["error"]) == (error.http_status, name)
        # a server-side fault does not tell the client its details
        expected = "internal error" if error.http_status >= 500 else "what went wrong"
        assert body["detail"] == expected, name
