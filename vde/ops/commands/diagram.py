"""``piccolo vde diagram``: the tables as a Mermaid ER diagram."""

from __future__ import annotations

from pathlib import Path

from vde.ops.diagram import mermaid, refresh_readme


def diagram(output: str = "", readme: str = "") -> None:
    """Print a Mermaid ``erDiagram`` of vde's tables, or write it to files.

    :param output: write the diagram to this file instead of printing it.
    :param readme: refresh the diagram between the markers of this document
        (``--readme=docs/schema.md`` after changing a table).
    """
    text = mermaid()
    if readme:
        refresh_readme(Path(readme), text)
        print(f"diagram refreshed in {readme}")
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"diagram written to {output}")
    if not readme and not output:
        print(text, end="")
