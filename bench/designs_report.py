"""The designs section as Markdown: the table, its targets, the page's plans."""

from __future__ import annotations

from bench.designs_results import DESIGNS, DesignResult


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f}" if value >= 100 else f"{value:.3g}"


def table(results: list[DesignResult]) -> str:
    lines = [
        "| operation | runs | " + " | ".join(f"{d} ms" for d in DESIGNS)
        + " | vde / trigger-free | vde / closure | depth index cost | rows (vde) "
        "| Seq Scan > 10k rows |",
        "| --- | ---: | " + " | ".join("---:" for _ in DESIGNS)
        + " | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        vde = r.median("vde")
        free, closure = r.median("trigger-free copy"), r.median("closure table")
        plain = r.median("trigger-free, no depth index")
        runs = len(r.times_ms["vde"])
        rows = sorted(r.rows["vde"])
        shown = str(rows[0]) if len(rows) == 1 else f"{rows[0]}-{rows[-1]}"
        scans = "; ".join(f"{d}: {', '.join(t)}" for d, t in r.seq_scans.items())
        lines.append(
            f"| {r.name} | {runs} | "
            + " | ".join(_ms(r.median(d)) for d in DESIGNS)
            + f" | {f'{vde / free:.2f}x' if vde and free else '–'}"
            f" | {f'{vde / closure:.2f}x' if vde and closure else '–'}"
            f" | {f'{free / plain:.2f}x' if free and plain else '–'}"
            f" | {shown} | {scans or 'none'} |"
        )
    return "\n".join(lines)


def targets(results: list[DesignResult]) -> list[tuple[str, bool, str]]:
    """The targets that this section judges (docs/benchmarks.md)."""
    by_name = {r.name: r for r in results}
    found = []
    for name in ("page of 1,000 by depth (custom plan)",
                 "page of 1,000 by depth (generic plan)"):
        if name in by_name:
            vde = by_name[name].median("vde") or 0.0
            closure = by_name[name].median("closure table") or 0.0
            found.append((f"{name}: vde at or below the closure table",
                          vde <= closure, f"{vde:.3g} ms vs {closure:.3g} ms"))
    for name, limit in (("move a 259-tile subtree", 1.3),
                        ("delete a 259-tile subtree", 1.1)):
        if name in by_name:
            vde = by_name[name].median("vde") or 0.0
            free = by_name[name].median("trigger-free copy") or 1.0
            found.append((f"{name}: at most {limit}x the trigger-free copy",
                          vde / free <= limit, f"{vde / free:.2f}x"))
    scanned = [r.name for r in results if "vde" in r.seq_scans]
    found.append(("no Seq Scan on a table over 10k rows (vde)", not scanned,
                  ", ".join(scanned) or "none found"))
    return found


def report(results: list[DesignResult], plans: dict[str, str]) -> str:
    lines = [table(results), "", "Targets:"]
    lines += [f"- {'met' if met else 'MISSED'}: {text} — {figure}"
              for text, met, figure in targets(results)]
    lines += ["", "vde's page of 1,000 below the 55,987-tile root, "
              "EXPLAIN (ANALYZE, BUFFERS):"]
    lines += [f"- {mode}: {line}" for mode, line in plans.items()]
    return "\n".join(lines)
