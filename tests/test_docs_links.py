"""The project carries its own documentation: no README or docs link leaves it.

A clone or the wheel has nothing beside the repository, so a link (or a bare
``../`` path in the text) that resolves outside it, to a missing file, or to a
heading a page does not have, is a dead end for the reader. External URLs
(``https:``, ``mailto:``, any scheme) are refused too: name a tool in plain
text instead of linking to its site.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("**/*.md")])
#: The pages the README and the docs index lead to.
EXPECTED = {
    "README.md",
    "docs/README.md",
    "docs/adopt.md",
    "docs/benchmarks.md",
    "docs/better-auth.md",
    "docs/embedded-server.md",
    "docs/operations.md",
    "docs/pooler.md",
    "docs/scale-out.md",
    "docs/schema.md",
    "docs/security.md",
    "docs/testing.md",
    "docs/usage.md",
}

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
#: A Markdown heading, and a fenced code block (whose ``#`` lines are no headings).
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def anchors(text: str) -> set[str]:
    """The ``#fragment`` of each heading of ``text``, as a Markdown renderer
    spells it: lower case, punctuation dropped, spaces as hyphens, a repeated
    heading numbered ``-1``, ``-2``, ..."""
    found: set[str] = set()
    in_code = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
            continue
        heading = HEADING.match(line)
        if in_code or heading is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        numbered, n = slug, 0
        while numbered in found:
            n += 1
            numbered = f"{slug}-{n}"
        found.add(numbered)
    return found


def broken_links(document: Path, text: str) -> list[str]:
    """Each link or bare ``../`` path of ``text`` that is not a file of the
    repository, external URLs included, and each ``#fragment`` that names no
    heading of its Markdown page (``text`` itself for an in-page link)."""
    targets = [m.group(1) for m in MARKDOWN_LINK.finditer(text)]
    targets += [m.group(1) or m.group(2) for m in OTHER_LINK.finditer(text)]
    targets += [m.group(1) for m in BARE_PARENT_PATH.finditer(text)]
    problems = []
    for target in dict.fromkeys(targets):  # each once, in order
        if URL.match(target):
            problems.append(f"{target} is an external link")
            continue
        path, _, fragment = target.rstrip(".,;:").partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{target} does not exist")
        elif fragment and resolved.suffix == ".md":
            page = text if not path else resolved.read_text(encoding="utf-8")
            if fragment not in anchors(page):
                problems.append(f"{target} names no heading of its page")
    return problems


def test_the_documents_are_the_readme_and_the_docs_pages() -> None:
    names = {str(d.relative_to(ROOT)) for d in DOCUMENTS}
    assert names == EXPECTED


def test_the_docs_index_lists_every_page() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    listed = {m.group(1) for m in MARKDOWN_LINK.finditer(index)}
    pages = {d.name for d in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert pages <= listed, f"docs/README.md does not list {sorted(pages - listed)}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.name)
def test_every_link_stays_in_the_repository(document: Path) -> None:
    assert broken_links(document, document.read_text()) == []


def test_a_link_or_path_outside_the_repository_is_caught() -> None:
    readme = ROOT / "README.md"
    text = """# vde
The contract is `../shared/schema-spec.md`.
See [the spec](../shared/schema-spec.md), [docs](docs/schema.md),
[gone](docs/nothing.md), [site](https://piccolo-orm.com) and [top](#vde)."""
    assert broken_links(readme, text) == [
        "../shared/schema-spec.md leaves the repository",
        "docs/nothing.md does not exist",
        "https://piccolo-orm.com is an external link",
    ]


def test_an_external_url_link_or_autolink_is_caught() -> None:
    readme = ROOT / "README.md"
    text = """# vde
Lint with [squawk](http://squawkhq.com "site"), see
<https://example.org/x> and [top](#vde); squawk in plain text is fine.

[ref]: mailto:someone@example.org"""
    assert broken_links(readme, text) == [
        "http://squawkhq.com is an external link",
        "https://example.org/x is an external link",
        "mailto:someone@example.org is an external link",
    ]


def test_a_link_to_a_missing_heading_is_caught() -> None:
    readme = ROOT / "README.md"
    text = """# vde
## The `piccolo vde` commands
```bash
# not a heading
```
[here](#the-piccolo-vde-commands), [gone](#not-a-heading),
[schema](docs/schema.md#diagram), [nowhere](docs/schema.md#no-such-part)."""
    assert broken_links(readme, text) == [
        "#not-a-heading names no heading of its page",
        "docs/schema.md#no-such-part names no heading of its page",
    ]


def test_anchors_are_spelled_as_a_markdown_renderer_does() -> None:
    text = "# Coming from the original app: `piccolo vde adopt`\n## `--apply`\n"
    text += "## piccolo vde app_role\n## vde's own tests\n## Notes\n## Notes\n"
    assert anchors(text) == {
        "coming-from-the-original-app-piccolo-vde-adopt",
        "--apply",
        "piccolo-vde-app_role",
        "vdes-own-tests",
        "notes",
        "notes-1",
    }
