"""The comparison as a Markdown table, and its targets judged from it."""

from __future__ import annotations

from dataclasses import dataclass

from bench.compare import Result

#: Queries whose vde time may be at most 1.1x the original app's.
POINT_QUERIES = (
    "root of map", "tile by coordinates", "children", "versions of item",
    "session by token", "jobs of user",
)


def _scans(result: Result, side: str) -> str:
    seen = result.sides[side].seq_scans
    if not seen:
        return "none"
    tables = sorted({t for ts in seen.values() for t in ts})
    return "; ".join(
        f"{t} ({', '.join(w for w, ts in seen.items() if t in ts)})" for t in tables
    )


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 100 else f"{value:.3g}"


def table(results: list[Result]) -> str:
    lines = [
        "| operation | runs | vde ms | original ms | vde/original | rows | "
        "Seq Scan > 10k rows: vde | original |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        vde, original = r.sides["vde"], r.sides["original"]
        ratio = f"{r.ratio:.2f}x" if r.ratio >= 0.05 else f"1/{1 / r.ratio:,.0f}"
        rows = sorted(set(vde.rows))
        shown = str(rows[0]) if len(rows) == 1 else f"{rows[0]}-{rows[-1]}"
        mark = f" ({r.mismatches} mismatched)" if r.mismatches else ""
        lines.append(
            f"| {r.name} | {len(vde.times_ms)} | {_ms(vde.median_ms)} | "
            f"{_ms(original.median_ms)} | {ratio} | {shown}{mark} | "
            f"{_scans(r, 'vde')} | {_scans(r, 'original')} |"
        )
    return "\n".join(lines)


@dataclass
class Target:
    text: str
    met: bool
    figure: str


def targets(results: list[Result]) -> list[Target]:
    by_name = {r.name: r for r in results}
    found: list[Target] = []

    def ratio(name: str) -> float | None:
        return by_name[name].ratio if name in by_name else None

    if (r := ratio("delete subtree")) is not None:
        found.append(Target("subtree delete at least 400x faster", 1 / r >= 400,
                            f"{1 / r:,.0f}x faster"))
    if (r := ratio("descendants")) is not None:
        found.append(Target("descendants at most 0.5x", r <= 0.5, f"{r:.2f}x"))
    if (r := ratio("descendants, 2 generations")) is not None:
        found.append(Target("descendants, 2 generations, at most 0.2x", r <= 0.2,
                            f"{r:.2f}x"))
    for name in ("copies of tile", "api key by key"):
        if name in by_name:
            scans = by_name[name].sides["vde"].seq_scans
            found.append(Target(f"{name}: index-served", not scans,
                                "no Seq Scan" if not scans else str(scans)))
    scanned = [r.name for r in results if r.sides["vde"].seq_scans]
    found.append(Target("no Seq Scan on a table over 10k rows (vde, every query)",
                        not scanned, ", ".join(scanned) or "none found"))
    points = [(n, by_name[n].ratio) for n in POINT_QUERIES if n in by_name]
    if points:
        worst = max(points, key=lambda p: p[1])
        found.append(Target("point queries at most 1.1x", worst[1] <= 1.1,
                            f"worst {worst[0]} {worst[1]:.2f}x; " + ", ".join(
                                f"{n} {v:.2f}x" for n, v in points)))
    if (r := ratio("bulk load 20k-tile map")) is not None:
        found.append(Target("bulk load of 20,000 tiles at most 1.3x", r <= 1.3,
                            f"{r:.2f}x"))
    return found


def target_lines(found: list[Target]) -> str:
    return "\n".join(
        f"- {'met' if t.met else 'MISSED'}: {t.text} — {t.figure}" for t in found
    )
