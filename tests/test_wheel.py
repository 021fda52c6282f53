"""The wheel alone builds the whole schema: its migrations travel inside it.

An editable install (``pip install -e``, the README's set-up) builds it too, and
a project's ``mypy`` sees vde's types through it.

Slow (a wheel build and two fresh venvs, about 90 s), so it runs once in CI: on
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
#: A downstream file with one deliberate typo (tests/typing/test_downstream.py).
DOWNSTREAM = REPO / "tests" / "typing" / "downstream.py"
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


def _clean_copy(root: Path) -> Path:
    """The repository without its venv, build output or data folders."""
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_ignored)
    return source


def _fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env, with_pip=True, system_site_packages=False)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a clean copy of the repository (no stale build/ files)."""
    root = tmp_path_factory.mktemp("wheel")
    source = _clean_copy(root)
    _run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", root / "dist")
    (built,) = (root / "dist").glob("vde-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repository with only the wheel (and its deps)."""
    env = _fresh_venv(tmp_path_factory)
    _run(env / "bin" / "pip", "install", "--disable-pip-version-check", wheel)
    return env


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh venv with ``pip install -e`` of a copy of the repository."""
    source = _clean_copy(tmp_path_factory.mktemp("editable"))
    env = _fresh_venv(tmp_path_factory)
    _run(env / "bin" / "pip", "install", "--disable-pip-version-check", "-e", source)
    return env, source


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


def _outside_env() -> dict[str, str]:
    """This process's environment without what points into the repository."""
    drop = {"PYTHONPATH", "PICCOLO_CONF", "VIRTUAL_ENV", "MYPYPATH"}
    return {key: value for key, value in os.environ.items() if key not in drop}


async def test_forwards_all_from_the_installed_wheel_builds_the_whole_schema(
    installed: Path, vde_empty_url: str, vde_template: str, tmp_path: Path
) -> None:
    await _forwards_all_builds_the_whole_schema(
        installed, installed, vde_empty_url, vde_template, tmp_path
    )


async def test_forwards_all_from_an_editable_install_builds_the_whole_schema(
    editable: tuple[Path, Path], vde_empty_url: str, vde_template: str, tmp_path: Path
) -> None:
    env, source = editable
    await _forwards_all_builds_the_whole_schema(
        env, source / "piccolo_migrations", vde_empty_url, vde_template, tmp_path
    )


def test_a_project_type_checks_against_an_editable_install(
    editable: tuple[Path, Path], tmp_path: Path
) -> None:
    """mypy finds vde on the venv's ``sys.path``: no import hook, no MYPYPATH."""
    env, _ = editable
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DOWNSTREAM, project / "downstream.py")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-error-summary"),
            *("--python-executable", str(env / "bin" / "python")),
            *("--cache-dir", str(tmp_path / "cache"), "downstream.py"),
        ],
        cwd=project,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    # vde's types are seen: the file's one deliberate typo, and nothing else.
    assert len(errors) == 1, done.stdout + done.stderr
    assert '"UserRead" has no attribute "emial"' in errors[0]


async def _forwards_all_builds_the_whole_schema(
    installed: Path,
    migrations: Path,
    vde_empty_url: str,
    vde_template: str,
    tmp_path: Path,
) -> None:
    """``piccolo migrations forwards all`` of ``installed`` finds ``migrations``."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "piccolo_conf.py").write_text(PICCOLO_CONF)
    env = _outside_env()
    env["DATABASE_URL"] = vde_empty_url
    where = _run(
        installed / "bin" / "python",
        "-c",
        "import vde.migrations_path as m; print(m.migrations_folder('auth'))",
        cwd=project,
        env=env,
    )
    assert where.stdout.strip().startswith(str(migrations)), where.stdout

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
