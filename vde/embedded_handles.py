"""Which processes use an embedded server, so that the last one to leave stops it.

Their pids are kept in the data folder's ``.handle_pids.json`` (the name the
wheel's own server uses), read and replaced only under an exclusive flock on the
data folder.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from vde.link_safe_files import Owner, open_folder, read_regular, replace

HANDLES_FILE = ".handle_pids.json"

Leave = Callable[[Path], None]


class _Joined(dict[Path, tuple[Owner, Leave]]):
    """The data folders this process uses: their files' owner, how to leave."""


_joined = _Joined()


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[int]:
    """The data folder's descriptor, under an exclusive flock on the folder
    itself: initdb needs the folder empty, so the lock cannot be a file in it."""
    fd = open_folder(data_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def join(data_dir: Path, folder: int, owner: Owner, on_exit: Leave) -> None:
    """Count this process until ``on_exit`` (which
    leaves the server) runs at exit."""
    if data_dir not in _joined:
        atexit.register(on_exit, data_dir)
    _joined[data_dir] = (owner, on_exit)
    update(folder, owner, add=os.getpid())


def leave(data_dir: Path, folder: int, owner: Owner) -> list[int]:
    """Stop counting this process; the processes left."""
    _joined.pop(data_dir, None)
    return update(folder, owner, remove=os.getpid())


def update(
    folder: int, owner: Owner, add: int | None = None, remove: int | None = None
) -> list[int]:
    """The processes using the server, dead ones dropped; returns those left."""
    try:
        pids = [int(p) for p in json.loads(read_regular(folder, HANDLES_FILE) or b"[]")]
    except (ValueError, TypeError):
        pids = []
    pids = [p for p in pids if p != remove and process_exists(p)]
    if add is not None and add not in pids:
        pids.append(add)
    replace(folder, HANDLES_FILE, json.dumps(pids).encode(), owner)
    return pids


def process_exists(pid: int) -> bool:
    """``pid`` runs (a zombie has ended: nobody reaped it yet)."""
    if pid <= 0:
        return False
    try:
        fields = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[fields.rindex(")") + 2] != "Z"
