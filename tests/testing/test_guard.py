"""``vde.testing``'s guard: a test without ``vde_db`` cannot reach the database,
and no password shows in test output, ``pytest -l`` locals included.

The downstream run uses docs/testing.md's conftest and piccolo_conf in a subprocess,
with ``DATABASE_URL`` naming this test's (migrated, empty) database and carrying a
password (the test servers accept any: trust on TCP, peer on the embedded socket).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from vde.mapping.tables import BaseItem
from vde.testing import ScratchDatabase
from vde.testing.guard import DatabaseRefused, SecretUrl

PASSWORD = "s3cr3t-pw-13"

DOWNSTREAM_TESTS = """
import pytest

from vde.mapping.tables import BaseItem


@pytest.mark.asyncio
async def test_forgets_vde_db():
    await BaseItem.insert(
        BaseItem(owner_id=1, title="leak", content="written outside vde_db")
    )


@pytest.mark.asyncio
async def test_with_vde_db_writes_to_its_own_database(vde_db):
    await BaseItem.insert(
        BaseItem(owner_id=1, title="kept", content="in the scratch database")
    )
    assert await BaseItem.count() == 1


@pytest.mark.asyncio
async def test_fails_showing_its_fixtures(vde_db, vde_empty_url):
    server = vde_db.engine.config
    assert vde_db is None and vde_empty_url is None and server is None
"""


def with_password(url: str) -> str:
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{host}"))


def load_readme_helpers() -> object:
    """tests/test_readme_examples.py's helpers (tests are not a package)."""
    path = Path(__file__).resolve().parents[1] / "test_readme_examples.py"
    spec = importlib.util.spec_from_file_location("readme_examples", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_downstream_test_without_vde_db_is_refused_and_hides_passwords(
    vde_db: ScratchDatabase, tmp_path: Path
) -> None:
    readme = load_readme_helpers()
    (tmp_path / "conftest.py").write_text(readme.example("downstream-conftest"))  # type: ignore[attr-defined]
    (tmp_path / "piccolo_conf.py").write_text(
        readme.example("downstream-piccolo-conf")  # type: ignore[attr-defined]
    )
    (tmp_path / "test_downstream.py").write_text(DOWNSTREAM_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = readme.subprocess_env(DATABASE_URL=with_password(str(vde_db.url)))  # type: ignore[attr-defined]

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-l",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert "2 failed, 1 passed" in output, output
    # The forgetful test was refused, with the fixture to use named ...
    assert "DatabaseRefused" in output and "Ask for the `vde_db` fixture" in output
    # ... and nothing reached DATABASE_URL's database.
    assert await BaseItem.count() == 0
    # The URLs were shown (locals, the ScratchDatabase repr), password hidden.
    assert "vde_empty_url = 'postgresql://postgres:***@" in output, output
    assert (
        "ScratchDatabase(name=" in output
        and "url='postgresql://postgres:***@" in output
    )
    assert PASSWORD not in output


async def test_a_table_query_outside_vde_db_raises_naming_the_fixture() -> None:
    with pytest.raises(DatabaseRefused, match="vde_db"):
        await BaseItem.count()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql://u:p%40w@/db?host=/tmp/x", "postgresql://u:***@/db?host=/tmp/x"),
        (
            "postgresql://u@h/db?sslmode=verify-full&sslpassword=pw",
            "postgresql://u@h/db?sslmode=verify-full&sslpassword=***",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_secret_url_repr_hides_every_form_of_password(url: str, shown: str) -> None:
    assert repr(SecretUrl(url)) == repr(shown)
    assert str(SecretUrl(url)) == url  # still connects as itself
