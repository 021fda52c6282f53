"""docs/usage.md's Piccolo admin serves vde's tables and no secret in any answer.

The admin is the page's example, loaded as a module and driven through httpx's
ASGI transport. It signs in as piccolo_admin does: Piccolo's ``BaseUser`` and
piccolo_api's ``SessionsBase`` tables, made in the test's database, and the
session cookie ``id``. Every vde table holds a row whose secret columns carry
known values; every read endpoint of every table is asked, and none of the
values may appear. An edit through the admin leaves the secrets as they were.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from piccolo.apps.user.tables import BaseUser
from piccolo.utils.pydantic import create_pydantic_model
from piccolo_api.session_auth.tables import SessionsBase

from tests.test_readme_examples import example
from vde.auth.models import AccountRead, ApiKeyRead, SessionRead
from vde.auth.tables import Account, ApiKey, Session, User, VerificationToken
from vde.llm.tables import LlmJobResult
from vde.mapping import create_map, update_content
from vde.registry import vde_tables
from vde.testing import ScratchDatabase
from vde.transactions import atomic

LATER = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
CSRF = "csrf-token-of-this-test"


def load_admin(folder: Path) -> ModuleType:
    path = folder / "admin.py"
    path.write_text(example("admin"))
    spec = importlib.util.spec_from_file_location("vde_admin_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def secret(name: str) -> str:
    return f"SECRET-{name}-{secrets.token_hex(8)}"


async def fill(module: ModuleType) -> set[str]:
    """A row in every table, the secret columns holding known values."""
    values = {
        name: secret(name)
        for name in (
            "password",
            "access",
            "refresh",
            "id-token",
            "session",
            "identifier",
            "value",
            "key",
        )
    }
    async with atomic() as tx:
        await User.insert(User(id="u1", email="ada@example.com", name="Ada"))
        await Account.insert(
            Account(
                id="a1",
                user="u1",
                account_id="u1",
                provider_id="credential",
                password=values["password"],
                access_token=values["access"],
                refresh_token=values["refresh"],
                id_token=values["id-token"],
            )
        )
        await Session.insert(
            Session(id="s1", user="u1", token=values["session"], expires_at=LATER)
        )
        await VerificationToken.insert(
            VerificationToken(
                id="v1",
                identifier=values["identifier"],
                value=values["value"],
                expires_at=LATER,
            )
        )
        await ApiKey.insert(ApiKey(id="k1", user="u1", key=values["key"]))
        root = await create_map(tx, "u1", "Ada's map", "Start here")
        await update_content(tx, root, content="Changed")  # a version row
        await LlmJobResult.insert(
            LlmJobResult(id="r1", job_id="j1", user_id="u1", status="pending")
        )
        await module.Note.insert(module.Note(author="u1", text="a note of mine"))
    return set(values.values())


@pytest_asyncio.fixture
async def admin(
    vde_db: ScratchDatabase, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, ModuleType, set[str]]]:
    module = load_admin(tmp_path)
    for table in (BaseUser, SessionsBase, module.Note):
        await table.create_table(if_not_exists=True)
    user = await BaseUser.create_user(
        username="operator", password="an-operator-password", admin=True, active=True
    )
    session = await SessionsBase.create_session(user_id=user.id)
    values = await fill(module)
    transport = httpx.ASGITransport(app=module.admin)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://admin",
        cookies={"id": session.token, "csrftoken": CSRF},
        headers={"X-CSRFToken": CSRF},
    ) as client:
        yield client, module, values


def leaked(text: str, values: set[str]) -> list[str]:
    return [value for value in values if value in text]


async def test_every_table_is_served_and_no_answer_holds_a_secret(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]],
) -> None:
    client, _, values = admin
    served = (await client.get("/api/tables/")).json()
    assert {t._meta.tablename for t in vde_tables()} | {"note"} <= set(served)

    answers: dict[str, httpx.Response] = {}
    for path in ("/api/tables/", "/api/tables/grouped/", "/api/user/"):
        answers[path] = await client.get(path)
    for table in served:
        base = f"/api/tables/{table}"
        for path in ("/", "/?__readable=true", "/schema/", "/new/", "/ids/", "/count/"):
            answers[base + path] = await client.get(base + path)
        rows = answers[base + "/"].json()["rows"]
        assert rows, f"{table} has no row to show"
        for row in rows:
            detail = f"{base}/{row['id']}/?__readable=true"
            answers[detail] = await client.get(detail)

    for path, answer in answers.items():
        assert answer.status_code == 200, (path, answer.text)
        assert leaked(answer.text, values) == [], path
    # the secret columns are not listed (not even as empty columns)
    for table in vde_tables():
        schema = answers[f"/api/tables/{table._meta.tablename}/schema/"].json()
        listed = set(schema["extra"]["visible_column_names"])
        hidden = {column._meta.name for column in table._meta.secret_columns}
        assert listed and listed.isdisjoint(hidden), table


@pytest.mark.parametrize(
    "query",
    [{"token": "{session}"}, {"token": "SECRET", "token__match": "starts"}],
    ids=["equals", "starts"],
)
async def test_a_secret_column_cannot_be_filtered_on(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]], query: dict[str, str]
) -> None:
    """A filter would be an oracle: "starts with S..." answers without showing."""
    client, _, values = admin
    (token,) = [v for v in values if v.startswith("SECRET-session-")]
    params = {k: v.format(session=token) for k, v in query.items()}
    answer = await client.get("/api/tables/vde_sessions/", params=params)
    assert answer.status_code == 400, answer.text
    assert leaked(answer.text, values) == []


async def test_a_secret_column_asked_for_comes_back_empty(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]],
) -> None:
    client, _, values = admin
    params = {"__visible_fields": "token"}
    answer = await client.get("/api/tables/vde_sessions/", params=params)
    assert answer.json() == {"rows": [{"token": None}]}
    assert leaked(answer.text, values) == []


async def test_an_edit_through_the_admin_leaves_the_secrets_as_they_were(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]],
    vde_conn: asyncpg.Connection,
) -> None:
    client, _, values = admin
    before = dict(await vde_conn.fetchrow("SELECT * FROM vde_accounts"))
    # what the admin's form sends: every field, the secret ones empty
    form = {
        "scope": "email",
        "password": None,
        "access_token": "typed-into-the-form",
        "refresh_token": None,
        "id_token": None,
    }
    answer = await client.patch("/api/tables/vde_accounts/a1/", json=form)
    assert answer.status_code == 200, answer.text
    assert leaked(answer.text, values) == []
    after = dict(await vde_conn.fetchrow("SELECT * FROM vde_accounts"))
    assert after["scope"] == "email"
    secret_names = ("password", "access_token", "refresh_token", "id_token")
    assert {k: after[k] for k in secret_names} == {k: before[k] for k in secret_names}


async def test_the_admin_adds_no_row_to_an_auth_table(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]],
    vde_conn: asyncpg.Connection,
) -> None:
    """Their text ids come from the sign-in layer: the admin's form has none."""
    client, _, _ = admin
    before = await vde_conn.fetch("SELECT * FROM vde_accounts ORDER BY id")
    row = {
        "id": "a2",
        "user": "u1",
        "account_id": "gh-7",
        "provider_id": "github",
        "password": "plain text typed into the form",
    }
    answer = await client.post("/api/tables/vde_accounts/", json=row)
    assert answer.status_code >= 400
    assert await vde_conn.fetch("SELECT * FROM vde_accounts ORDER BY id") == before


def test_without_the_settings_the_admin_would_list_the_secret_columns(
    tmp_path: Path,
) -> None:
    """The example's TableConfig is what hides them: Piccolo's default lists them."""
    from piccolo_admin.endpoints import TableConfig

    module = load_admin(tmp_path)
    plain = TableConfig(Account).get_visible_column_names()
    configured = module.without_secrets(Account).get_visible_column_names()
    assert "password" in plain and "password" not in configured


@pytest.mark.parametrize("table", [Account, Session, ApiKey, VerificationToken])
def test_the_documented_models_hold_no_secret_field(table: Any) -> None:
    hidden = {column._meta.name for column in table._meta.secret_columns}
    piccolos = create_pydantic_model(table)
    assert hidden <= set(piccolos.model_fields)  # what the page warns of
    documented = create_pydantic_model(
        table, exclude_columns=tuple(table._meta.secret_columns)
    )
    assert hidden.isdisjoint(documented.model_fields)
    read_models = {Account: AccountRead, Session: SessionRead, ApiKey: ApiKeyRead}
    if table in read_models:
        assert hidden.isdisjoint(read_models[table].model_fields)


async def test_vdes_read_model_takes_a_piccolo_row_and_dumps_no_secret(
    admin: tuple[httpx.AsyncClient, ModuleType, set[str]],
) -> None:
    _, _, values = admin
    row = await Account.select().first()  # a plain select: secrets included
    assert row is not None and leaked(json.dumps(row, default=str), values)
    assert leaked(AccountRead.model_validate(row).model_dump_json(), values) == []
