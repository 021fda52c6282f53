"""A service built on vde: its own app, a foreign key into vde's tiles, FastAPI.

The project in ``tests/downstream_project/`` (copied to a temporary folder, its
migration made there by ``piccolo migrations new --auto``) registers vde's
apps and its own ``hexmap`` app, whose ``hexmap_tile_tags`` points at vde's
``vde_map_items``. Each ``piccolo vde`` command runs in it as its developer
would run it: migrate, then app_role, whose role the service connects as
(served through httpx's ASGI transport, in a process of its own with the
project's ``piccolo_conf``); drift finds nothing, then names what was changed
by hand in the project's table; lint passes and writes nothing into the
project. The project's own tests run on vde.testing, and mypy --strict passes
on its code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import connect_as
from tests.ops.test_failed_migration import piccolo
from tests.test_readme_examples import run, subprocess_env
from vde.testing import ScratchDatabase

PROJECT = Path(__file__).with_name("downstream_project")

#: The service, as a client of the project drives it: run with the project's
#: piccolo_conf, connected as DATABASE_URL's role; prints what it was answered.
CLIENT = """
import asyncio, json

import httpx

from hexmap.service import app
from vde.auth.tables import User


async def main():
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hexmap") as client,
    ):
        await User.insert(User(id="grace", email="grace@example.org"))
        root = await client.post("/maps", json={"user_id": "grace", "title": "Home"})
        tile = root.json()["id"]
        answers = [root.status_code]
        for tag in ("kitchen", "cellar"):
            answer = await client.post(f"/tiles/{tile}/tags", json={"tag": tag})
            answers.append(answer.status_code)
        listed = await client.get(f"/tiles/{tile}/tags")
        removed = await client.delete(f"/tiles/{tile}/tags/cellar")
        print(json.dumps({"tile": tile, "answers": answers, "listed": listed.json(),
                          "removed": removed.json()}))


asyncio.run(main())
"""


def with_user(url: str, user: str) -> str:
    """``url`` connecting as ``user`` (both test servers trust local roles)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}@{host}"))


def files(folder: Path) -> set[Path]:
    """Every file below ``folder`` but Python's byte code."""
    return {
        path.relative_to(folder)
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, with the migration Piccolo makes for its table."""
    folder = tmp_path_factory.mktemp("downstream") / "hexmap_project"
    shutil.copytree(
        PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__", ".*_cache")
    )
    run(
        ["-m", "piccolo.main", "migrations", "new", "hexmap", "--auto"],
        cwd=folder,
        env=subprocess_env(),
    )
    (migration,) = (folder / "hexmap" / "piccolo_migrations").glob("hexmap_*.py")
    assert "references" in migration.read_text()  # the foreign key into vde
    return folder


async def test_the_project_runs_as_the_app_role_and_passes_drift_and_lint(
    project: Path, vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    migrated = piccolo(project, vde_db.url, "vde", "migrate")
    assert migrated.returncode == 0, migrated
    assert await vde_conn.fetchval(
        "SELECT count(*) FROM migration WHERE app_name = 'hexmap'"
    ) == 1

    made = piccolo(project, vde_db.url, "vde", "app_role", f"--name={role}")
    assert made.returncode == 0, made
    connection = await connect_as(vde_db, role)
    try:
        item = await connection.fetchval(
            "INSERT INTO vde_base_items (owner_id, title, content)"
        " VALUES (9, 't', 'c') RETURNING id"
        )
        tile = await connection.fetchval(
            "INSERT INTO vde_map_items (coord_user_id, path, item_type, ref_item_id)"
            " VALUES (9, '', 'user', $1) RETURNING id",
            item,
        )
        await connection.execute(
            "INSERT INTO hexmap_tile_tags (tile, tag) VALUES ($1, 'porch')", tile
        )
        assert await connection.fetchval("SELECT tag FROM hexmap_tile_tags") == "porch"
        assert await connection.execute("DELETE FROM hexmap_tile_tags") == "DELETE 1"
        for statement in (
            "CREATE TABLE hexmap_intruder (id integer)",
            "ALTER TABLE hexmap_tile_tags ADD COLUMN intruder integer",
            "DROP TABLE hexmap_tile_tags",
            "TRUNCATE hexmap_tile_tags",
            "CREATE INDEX hexmap_intruder ON hexmap_tile_tags (tag)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
    finally:
        await connection.close()
    assert "apps: auth, mapping, llm, vde, hexmap" in made.stdout

    # The service, connected as the role: vde's tables and its own.
    env = subprocess_env(DATABASE_URL=with_user(vde_db.url, role))
    served = json.loads(run(["-c", CLIENT], cwd=project, env=env))
    assert served["answers"] == [200, 200, 200]
    assert served["listed"] == ["cellar", "kitchen"]
    assert served["removed"] == 1
    rows = await vde_conn.fetch("SELECT tile, tag FROM hexmap_tile_tags")
    assert [tuple(row) for row in rows] == [(served["tile"], "kitchen")]

    clean = piccolo(project, vde_db.url, "vde", "drift")
    assert clean.returncode == 0, clean
    assert "No drift" in clean.stdout

    await vde_conn.execute(
        """ALTER TABLE hexmap_tile_tags DROP CONSTRAINT hexmap_tile_tags_tile_fkey;
           CREATE TABLE hexmap_extra (id integer)"""
    )
    drifted = piccolo(project, vde_db.url, "vde", "drift")
    assert drifted.returncode == 1, drifted
    assert drifted.stdout.splitlines() == [
        "table hexmap_extra exists but no migration made it",
        "missing foreign key hexmap_tile_tags_tile_fkey on hexmap_tile_tags",
    ]

    before = files(project)
    linted = piccolo(project, vde_db.url, "vde", "lint")
    assert linted.returncode == 0, linted
    assert "1 migrations of apps hexmap" in linted.stdout
    assert "Found 0 issues in 1 file" in linted.stdout
    # vde's own migrations too, with the settings vde ships.
    apps = "--apps=auth,mapping,llm,hexmap"
    every = piccolo(project, vde_db.url, "vde", "lint", apps)
    assert every.returncode == 0, every
    assert "Found 0 issues in 22 files" in every.stdout
    assert files(project) == before  # no build/ folder, nothing else either


def test_the_projects_own_tests_pass_on_vde_testing(project: Path) -> None:
    output = run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=project,
        env=subprocess_env(),
    )
    assert "2 passed" in output


def test_the_projects_code_passes_mypy_strict(project: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "."],
        cwd=project,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found in 7 source files")
