"""The project carries its own documentation: no README or docs link leaves it.

A clone or the wheel has nothing beside the repository, so a link (or a bare
``../`` path in the text) that resolves outside it, or to a missing file, is a
dead end for the reader. External URLs (``https:``, ``mailto:``, any scheme)
are refused too: name a tool in plain text instead of linking to its site.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("**/*.md")])

#: [text](target) and ![alt](target); the target up to a space or ")".
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)")
#: <target> autolinks (paths and URLs) and reference definitions "[name]: target".
OTHER_LINK = re.compile(
    r"^\s*\[[^\]]+\]:\s*(\S+)"
    r"|<((?:\.{1,2}/|/|[a-z][a-z0-9+.-]*:)[^>\s]+)>",
    re.M | re.I,
)
#: A relative path climbing out of its folder, anywhere in the text.
BARE_PARENT_PATH = re.compile(r"(?<![\w/.])((?:\.\./)+[\w.@~+-][\w./@~+-]*)")
#: A target with a URL scheme (``https:``, ``mailto:``, ...): outside the repository.
URL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def broken_links(document: Path, text: str) -> list[str]:
    """Each link or bare ``../`` path of ``text`` that is not a file of the
    repository, external URLs included (in-page anchors are fine)."""
    targets = [m.group(1) for m in MARKDOWN_LINK.finditer(text)]
    targets += [m.group(1) or m.group(2) for m in OTHER_LINK.finditer(text)]
    targets += [m.group(1) for m in BARE_PARENT_PATH.finditer(text)]
    problems = []
    for target in dict.fromkeys(targets):  # each once, in order
        if target.startswith("#"):
            continue
        if URL.match(target):
            problems.append(f"{target} is an external link")
            continue
        path = target.split("#", 1)[0].rstrip(".,;:")
        resolved = (document.parent / path).resolve()
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{target} does not exist")
    return problems


def test_the_documents_include_the_readme_and_the_schema() -> None:
    names = {str(d.relative_to(ROOT)) for d in DOCUMENTS}
    assert {"README.md", "docs/benchmarks.md", "docs/schema.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.name)
def test_every_link_stays_in_the_repository(document: Path) -> None:
    assert broken_links(document, document.read_text()) == []


def test_a_link_or_path_outside_the_repository_is_caught() -> None:
    readme = ROOT / "README.md"
    text = """The contract is `../shared/schema-spec.md`.
See [the spec](../shared/schema-spec.md), [docs](docs/schema.md),
[gone](docs/nothing.md), [site](https://piccolo-orm.com) and [top](#vde)."""
    assert broken_links(readme, text) == [
        "../shared/schema-spec.md leaves the repository",
        "docs/nothing.md does not exist",
        "https://piccolo-orm.com is an external link",
    ]


def test_an_external_url_link_or_autolink_is_caught() -> None:
    readme = ROOT / "README.md"
    text = """Lint with [squawk](http://squawkhq.com "site"), see
<https://example.org/x> and [top](#vde); squawk in plain text is fine.

[ref]: mailto:someone@example.org"""
    assert broken_links(readme, text) == [
        "http://squawkhq.com is an external link",
        "https://example.org/x is an external link",
        "mailto:someone@example.org is an external link",
    ]
