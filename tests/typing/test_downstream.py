"""``mypy --strict`` on a downstream file sees vde's types: it reports the one typo.

If vde's types were invisible (no ``py.typed``, models built at run time,
queries returning ``Record``), the typo ``user.emial`` would pass as ``Any``;
if any other line of the file stopped type-checking, a second error appears.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOWNSTREAM = Path(__file__).with_name("downstream.py")
MARK = "# the deliberate typo"


def test_mypy_strict_reports_exactly_the_deliberate_typo() -> None:
    typo_line = next(
        number
        for number, line in enumerate(DOWNSTREAM.read_text().splitlines(), start=1)
        if MARK in line
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            str(DOWNSTREAM.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert errors == [
        f"tests/typing/downstream.py:{typo_line}: error: "
        '"UserRead" has no attribute "emial"; maybe "email"?  [attr-defined]'
    ], done.stdout
