"""The documents' examples run exactly as printed (a stale page fails here).

Each example sits in a fenced block between ``<!-- example:NAME -->`` and
``<!-- /example:NAME -->``, in the README or a page of docs/. They run in a
subprocess: the repository example (README.md) calls ``asyncio.run`` itself,
and the downstream project (docs/testing.md) must find vde's plugin and its own
``piccolo_conf.py`` the way an installed project would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from vde.database import DATABASE_URL_VARIABLE, default_data_dir

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
#: Where each example lives, and the test that runs or compares it. An example
#: no test knows would go stale unnoticed.
EXAMPLES = {
    "repository": "README.md",
    "repository-output": "README.md",
    "downstream-pytest-ini": "docs/testing.md",
    "downstream-conftest": "docs/testing.md",
    "downstream-piccolo-conf": "docs/testing.md",
    "downstream-test": "docs/testing.md",
    "downstream-signed-in-test": "docs/testing.md",
    # tests/test_web_example.py runs it.
    "web-service": "docs/usage.md",
    # tests/test_admin_example.py builds it.
    "admin": "docs/usage.md",
    # tests/interop/test_better_auth_schema.py compares it with the shipped file.
    "better-auth-config": "docs/better-auth.md",
}
MARKER = re.compile(r"<!-- example:([\w-]+)")


def example(name: str) -> str:
    """The code of example ``name``, from the document :data:`EXAMPLES` names."""
    document = EXAMPLES[name]
    text = (ROOT / document).read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- example:{re.escape(name)} -->\n```\w*\n(.*?)```\n"
        rf"<!-- /example:{re.escape(name)} -->",
        text,
        re.DOTALL,
    )
    assert found, f"{document} has no example {name!r}"
    return found.group(1)


def test_every_example_is_where_a_test_reads_it() -> None:
    placed = {
        (marker, str(document.relative_to(ROOT)))
        for document in DOCUMENTS
        for marker in MARKER.findall(document.read_text(encoding="utf-8"))
    }
    assert placed == set(EXAMPLES.items())


def subprocess_env(**extra: str) -> dict[str, str]:
    """Our environment without our Piccolo config, on the same server."""
    env = {k: v for k, v in os.environ.items() if k not in ("PICCOLO_CONF",
                                                             "PYTHONPATH")}
    if DATABASE_URL_VARIABLE not in env:
        env["VDE_PGDATA"] = str(default_data_dir())  # join the running server
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_repository_example_prints_the_descendants_it_created(vde_db):
    # vde's own piccolo_conf (repository root) on the test's scratch database
    output = run(
        ["-c", example("repository")],
        cwd=ROOT,
        env=subprocess_env(**{DATABASE_URL_VARIABLE: vde_db.url}),
    )
    assert output == example("repository-output")


def test_downstream_project_with_the_readme_files_passes_its_test(tmp_path):
    (tmp_path / "conftest.py").write_text(example("downstream-conftest"))
    (tmp_path / "piccolo_conf.py").write_text(example("downstream-piccolo-conf"))
    (tmp_path / "test_content.py").write_text(example("downstream-test"))
    (tmp_path / "test_signed_in.py").write_text(example("downstream-signed-in-test"))
    # The README's settings, and nothing from this repository's configuration.
    (tmp_path / "pytest.ini").write_text(example("downstream-pytest-ini"))

    output = run(
        # Warnings as errors: pytest-asyncio's loop-scope warnings included.
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=subprocess_env(),
    )
    assert "2 passed" in output
    assert "warning" not in output.lower()
