"""What the designs section measures, shared by its run and its report.

``bench.designs`` fills :class:`DesignResult`; ``bench.designs_report`` turns
them into Markdown. docs/benchmarks.md ("vde and other tree designs") shows it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

#: Column order of the table (the first is vde).
DESIGNS = ("vde", "trigger-free copy", "closure table", "adjacency list",
           "trigger-free, no depth index")


@dataclass
class DesignResult:
    """One operation's times, row counts and large-table scans, per design."""

    name: str
    kind: str
    times_ms: dict[str, list[float]] = field(default_factory=dict)
    rows: dict[str, set[int]] = field(default_factory=dict)
    seq_scans: dict[str, list[str]] = field(default_factory=dict)

    def median(self, design: str) -> float | None:
        times = self.times_ms.get(design)
        return statistics.median(times) if times else None
