"""``piccolo vde lint``: which migrations, with which settings, written where.

The migrations linted are those kept in the project: in vde's repository,
vde's; elsewhere the project's own apps' (tests/test_downstream_project.py
runs it in such a project). The SQL goes to a temporary folder unless
``--output`` names one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vde.ops.migration_lint import (
    VDE_SETTINGS,
    LintRefused,
    apps_to_lint,
    squawk_settings,
)
from vde.ops.project_apps import lies_in

REPO = Path(__file__).resolve().parents[2]


def lint(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with the repository's piccolo_conf, run from ``cwd``."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONIOENCODING": "utf-8",
        "PYTHONPATH": str(REPO),
    }
    env.pop("PICCOLO_CONF", None)
    return subprocess.run(
        [sys.executable, "-m", "piccolo.main", "vde", "lint", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def test_vdes_migrations_pass_with_the_shipped_settings_and_nothing_is_written(
    vde_empty_url: str, tmp_path: Path
) -> None:
    done = lint(tmp_path, vde_empty_url)
    assert done.returncode == 0, done
    assert f"squawk ({VDE_SETTINGS}): " in done.stdout
    assert "of apps auth, mapping, llm, vde" in done.stdout
    assert "Found 0 issues in 21 files" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no build/ folder where it ran


def test_a_missing_squawk_names_the_install_a_project_needs(
    vde_empty_url: str, tmp_path: Path
) -> None:
    done = lint(tmp_path, vde_empty_url, "--squawk=vde-no-such-squawk")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "vde-no-such-squawk not found: install it with pip install 'vde[lint]' "
        "(or pip install squawk-cli), or name the executable with --squawk=PATH"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_projects_own_settings_come_before_vdes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert squawk_settings() == VDE_SETTINGS
    (tmp_path / ".squawk.toml").write_text('pg_version = "15.0"\n')
    assert squawk_settings() == Path(".squawk.toml")
    assert squawk_settings(str(VDE_SETTINGS)) == VDE_SETTINGS
    with pytest.raises(LintRefused, match="squawk settings nope.toml not found"):
        squawk_settings("nope.toml")


def test_in_vdes_repository_vdes_apps_are_its_own() -> None:
    assert apps_to_lint() == ["auth", "mapping", "llm", "vde"]
    assert apps_to_lint("mapping, llm") == ["mapping", "llm"]


def test_an_apps_migrations_are_the_projects_when_kept_in_it_not_installed(
    tmp_path: Path,
) -> None:
    project = tmp_path / "hexmap_project"
    venv = project / ".venv" / "lib" / "python3.11" / "site-packages"
    assert lies_in(project / "hexmap" / "piccolo_migrations", project, [venv])
    # A library's app, installed in the project's own virtual environment.
    assert not lies_in(venv / "vde" / "piccolo_migrations" / "auth", project, [venv])
    # vde from a checkout of its own, elsewhere.
    assert not lies_in(tmp_path / "vde" / "piccolo_migrations", project, [venv])
