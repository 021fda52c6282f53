"""Is a process running here? One answer for every part of vde that keeps pids.

Scratch databases carry their creator's pid in their names, and the embedded
server's data folder lists the pids of the processes that use it; both are
dropped once their process is gone. A pid may be someone else's (it still
runs), and a zombie has ended even though nobody has reaped it yet. Linux's
``/proc`` tells the state and the program's name; without it (another Unix)
the kernel's answer to signal 0 is all there is.
"""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """A process with this pid runs on this host (anyone's; not a zombie)."""
    if pid <= 0:  # 0 and negative pids name process groups, not a process
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # someone else's process: it runs
        pass
    status = _stat(pid)
    return status is None or status[1] != "Z"


def program_name(pid: int) -> str | None:
    """The name of the program ``pid`` runs, when it runs and ``/proc`` says."""
    status = _stat(pid) if process_alive(pid) else None
    return None if status is None else status[0]


def _stat(pid: int) -> tuple[str, str] | None:
    """(program name, state letter) from ``/proc/<pid>/stat``; None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = fields[fields.index("(") + 1 : fields.rindex(")")]
    return name, fields[fields.rindex(")") + 2]
