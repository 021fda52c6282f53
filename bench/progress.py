"""A one-line progress bar on stderr (no dependency for something this small)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, width: int = 30) -> None:
        self.label = label
        self.total = total
        self.width = width
        self.done = 0
        self.started = time.perf_counter()
        self._shown = -1.0
        self._tty = sys.stderr.isatty()

    def advance(self, amount: int) -> None:
        self.done += amount
        share = self.done / self.total if self.total else 1.0
        # Outside a terminal, a line per 10% keeps logs short.
        step = 0.0 if self._tty else 0.1
        if share - self._shown >= step or self.done >= self.total:
            self._shown = share
            self._draw(share)

    def _draw(self, share: float) -> None:
        filled = int(self.width * min(share, 1.0))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        line = (
            f"{self.label} [{bar}] {share:6.1%} "
            f"{self.done:,}/{self.total:,} rows {elapsed:5.0f}s"
        )
        if self._tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
