"""The README stays a first page, and every document speaks in vde's own terms.

The README is what a newcomer reads first, so it holds what vde is, how to
start, and where the rest lives (docs/); at most 250 lines keep it that way.
The documents describe vde as it is: words of how it came about (a seed, a
spec, issue numbers, rounds, reviews, findings) mean nothing to a reader
without that history. Code and file names are left alone: they are names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
README_MAX_LINES = 250

#: Words of the project's history, not of vde.
HISTORY_WORDS = re.compile(
    r"\b(?:seed(?:s|ed|'s)?|specs?|spec's|issues?|issue's|rounds?|"
    r"review(?:s|ed|ing)?|findings?|superseded)\b",
    re.I,
)
#: Fenced code blocks and inline code spans (which may wrap): names, not prose.
CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|`[^`]+`", re.M | re.S)


def history_words(text: str) -> list[str]:
    """Each history word in the prose of ``text``, with its line."""
    prose = CODE.sub(lambda code: "\n" * code.group(0).count("\n"), text)
    return [
        f"line {number}: {word.group(0)!r}"
        for number, line in enumerate(prose.splitlines(), start=1)
        for word in HISTORY_WORDS.finditer(line)
    ]


def test_the_readme_is_at_most_250_lines() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines: move details to a page of docs/"
    )


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT))
)
def test_documents_speak_in_the_projects_own_terms(document: Path) -> None:
    assert history_words(document.read_text(encoding="utf-8")) == []


def test_history_words_are_caught_in_prose_but_not_in_code() -> None:
    text = """Faster than the seed's schema (issue 14).
The spec asks for it; see `bench/seed-schema.json` and `--rounds N`.
```bash
python -m bench.load --moves seed
```
Review it, then fix the findings of round 2."""
    assert history_words(text) == [
        "line 1: \"seed's\"",
        "line 1: 'issue'",
        "line 2: 'spec'",
        "line 6: 'Review'",
        "line 6: 'findings'",
        "line 6: 'round'",
    ]
