"""A project without a ``piccolo_conf`` runs the plugin on vde's stand-in.

The project is docs/testing.md's, written to a folder of its own without its
``piccolo_conf.py``, and run in a subprocess as tests/test_readme_examples.py
runs it: its tests pass, a test that forgets ``vde_db`` is still refused, and
a ``PICCOLO_CONF`` naming a missing module is still Piccolo's error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_readme_examples import example, run, subprocess_env
from vde.testing.configuration import STAND_IN, findable

FORGETS_VDE_DB = """
import pytest

from vde.mapping.tables import BaseItem
from vde.testing.guard import DatabaseRefused


async def test_forgets_vde_db():
    with pytest.raises(DatabaseRefused):
        await BaseItem.count()


def test_the_stand_in_is_piccolo_conf():
    import piccolo_conf

    assert piccolo_conf.__name__ == "vde.testing.piccolo_conf"
"""


def project_without_piccolo_conf(folder: Path) -> Path:
    (folder / "pytest.ini").write_text(example("downstream-pytest-ini"))
    (folder / "conftest.py").write_text(example("downstream-conftest"))
    (folder / "test_content.py").write_text(example("downstream-test"))
    (folder / "test_signed_in.py").write_text(example("downstream-signed-in-test"))
    (folder / "test_guard.py").write_text(FORGETS_VDE_DB)
    assert not (folder / "piccolo_conf.py").exists()
    return folder


def test_a_project_without_piccolo_conf_passes_its_tests(tmp_path: Path) -> None:
    output = run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=project_without_piccolo_conf(tmp_path),
        env=subprocess_env(),
    )
    assert "4 passed" in output, output
    assert "error" not in output.lower()


def test_a_piccolo_conf_variable_naming_a_missing_module_stays_an_error(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project_without_piccolo_conf(tmp_path),
        env=subprocess_env(PICCOLO_CONF="no_such_conf"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "No module named 'no_such_conf'" in done.stdout + done.stderr


def test_findable_looks_without_running() -> None:
    assert findable(STAND_IN)
    assert findable("vde.registry")
    assert not findable("no_such_module_of_vde_tests")
