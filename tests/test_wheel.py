"""The wheel alone builds the whole schema: its migrations travel inside it.

Slow (a wheel build and a fresh venv, about 45 s), so it runs once in CI: on
the embedded server, and on a ``DATABASE_URL`` server only with VDE_WHEEL_TEST=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import asyncpg
import pytest

from vde.ops.catalog import read_catalog
from vde.testing.databases import (
    server_url,
    with_database,
)

REPO = Path(__file__).resolve().parents[1]
APPS = ["auth", "mapping", "llm"]

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")) and not os.environ.get("VDE_WHEEL_TEST"),
    reason="slow: runs on the embedded server (set VDE_WHEEL_TEST=1 to run here)",
)

PICCOLO_CONF = """\
import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from vde.ops import cli
from vde.registry import APP_MODULES

DB = PostgresEngine(config={"dsn": os.environ["DATABASE_URL"]})
APP_REGISTRY = AppRegistry(apps=[*APP_MODULES, "vde.ops.piccolo_app"])
cli.install()  # `piccolo vde` lists its commands; read-only ones write nothing
"""


def _run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess:
    """Run quietly; on failure show what the command printed."""
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, **kwargs
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def _ignored(folder: str, names: list[str]) -> set[str]:
    skip = {".git", ".venv", ".pgdata", "build", "dist", "bench", "node_modules"}
    return {n for n in names if n in skip or n.endswith((".egg-info", "_cache"))}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a clean copy of the repository (no stale build/ files)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_ignored)
    _run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", root / "dist")
    (built,) = (root / "dist").glob("vde-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repository with only the wheel (and its deps)."""
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env, with_pip=True, system_site_packages=False)
    _run(env / "bin" / "pip", "install", "--disable-pip-version-check", wheel)
    return env


def test_wheel_carries_the_migrations_and_no_top_level_modules(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for app in APPS:
        shipped = [n for n in names if n.startswith(f"vde/piccolo_migrations/{app}/")]
        in_repo = (REPO / "piccolo_migrations" / app).glob("*.py")
        assert sorted(Path(n).name for n in shipped) == sorted(p.name for p in in_repo)
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"vde", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "vde/py.typed" in names  # PEP 561: type checkers see vde's types
    assert "vde/squawk.toml" in names  # `piccolo vde lint`'s settings
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    requires = zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
    # vde[testing] brings what the pytest plugin imports.
    for package in ("pytest", "pytest-asyncio"):
        assert any(
            line.startswith(f"Requires-Dist: {package}>=")
            and line.endswith('extra == "testing"')
            for line in requires
        ), package
    # vde[lint] brings squawk for `piccolo vde lint`.
    assert any(
        line.startswith("Requires-Dist: squawk-cli")
        and line.endswith('extra == "lint"')
        for line in requires
    )


async def test_forwards_all_from_the_installed_wheel_builds_the_whole_schema(
    installed: Path, vde_empty_url: str, vde_template: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "piccolo_conf.py").write_text(PICCOLO_CONF)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PICCOLO_CONF", "VIRTUAL_ENV"}
    }
    env["DATABASE_URL"] = vde_empty_url
    where = _run(
        installed / "bin" / "python",
        "-c",
        "import vde.migrations_path as m; print(m.migrations_folder('auth'))",
        cwd=project,
        env=env,
    )
    assert where.stdout.strip().startswith(str(installed)), where.stdout

    _run(
        installed / "bin" / "piccolo",
        "migrations",
        "forwards",
        "all",
        cwd=project,
        env=env,
    )

    built = await asyncpg.connect(vde_empty_url)
    reference = await asyncpg.connect(with_database(server_url(), vde_template))
    try:
        assert await read_catalog(built) == await read_catalog(reference)
        ran = await built.fetchval("SELECT count(*) FROM migration")
        assert ran == sum(
            len(list((REPO / "piccolo_migrations" / app).glob(f"{app}_*.py")))
            for app in APPS
        )
    finally:
        await built.close()
        await reference.close()
