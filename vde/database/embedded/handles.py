"""Which processes use an embedded server, so that the last one to leave stops it.

Their pids are kept in the data folder's ``.handle_pids.json`` (the name the
wheel's own server uses), read and replaced only under an exclusive flock on the
data folder. A forked child shares its parent's server (a cached handle, a
pool), so it counts from the moment it exists: the parent holds the lock across
``fork()`` and waits until the child has added its pid, so a parent exiting
right after ``fork()`` cannot stop the server under its child. The child leaves
through the exit handler it inherits or, as a multiprocessing worker (which
ends with ``os._exit``), through multiprocessing's finalizers.

A process leaves through its exit handlers, which Python's default SIGTERM
skips (it ends the process at once), so a SIGTERM to the last user would leave
the server running. A process that joins therefore gets a SIGTERM handler that
exits the Python way (``SystemExit``, status 143), unless the program has set
one of its own: the handler is installed only while SIGTERM has its default
action, and only from the main thread (the one place Python allows it).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import multiprocessing.util
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vde.database.embedded.link_safe_files import (
    Owner,
    open_folder,
    read_regular,
    replace,
)
from vde.database.processes import process_alive

HANDLES_FILE = ".handle_pids.json"

Leave = Callable[[Path], object]


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
    """Count this process (and the children it forks) until ``on_exit`` (which
    leaves the server) runs at exit."""
    if not _joined:
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=_after_fork_in_parent,
            after_in_child=_after_fork_in_child,
        )
        multiprocessing.util.register_after_fork(_joined, _leave_at_worker_exit)
    if data_dir not in _joined:
        atexit.register(on_exit, data_dir)
    _joined[data_dir] = (owner, on_exit)
    update(folder, owner, add=os.getpid())
    exit_on_sigterm()


def exit_on_sigterm() -> None:
    """Make SIGTERM run the exit handlers, if SIGTERM has its default action and
    this is the main thread; a handler the program set is left alone."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, frame: object) -> None:
    """Exit as a shell reports a signal (128 + its number); a second SIGTERM
    ends the process at once, as by default (the exit handlers may hang)."""
    signal.signal(signum, signal.SIG_DFL)
    raise SystemExit(128 + signum)


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
    pids = [p for p in pids if p != remove and process_alive(p)]
    if add is not None and add not in pids:
        pids.append(add)
    replace(folder, HANDLES_FILE, json.dumps(pids).encode(), owner)
    return pids


@dataclass
class _Fork:
    """The locked data folders and a pipe the child closes once counted."""

    folders: list[tuple[Path, int]]
    counted: int
    counting: int


_fork: _Fork | None = None


def _before_fork() -> None:
    global _fork
    folders = []
    for data_dir in list(_joined):
        try:
            fd = open_folder(data_dir)
        except OSError:  # gone: nothing to count in
            _joined.pop(data_dir, None)
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        folders.append((data_dir, fd))
    if folders:
        _fork = _Fork(folders, *os.pipe())


def _after_fork_in_child() -> None:
    global _fork
    fork, _fork = _fork, None
    if fork is None:
        return
    try:
        for data_dir, fd in fork.folders:  # the parent holds their locks
            update(fd, _joined[data_dir][0], add=os.getpid())
    finally:
        for _, fd in fork.folders:
            os.close(fd)  # not LOCK_UN: the lock is the parent's to release
        os.close(fork.counted)
        os.close(fork.counting)


def _after_fork_in_parent() -> None:
    global _fork
    fork, _fork = _fork, None
    if fork is None:
        return
    os.close(fork.counting)
    try:
        os.read(fork.counted, 1)  # end of file: the child closed its end
    finally:
        os.close(fork.counted)
        for _, fd in fork.folders:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _leave_at_worker_exit(joined: _Joined) -> None:
    for data_dir, (_, on_exit) in joined.items():
        multiprocessing.util.Finalize(None, on_exit, args=(data_dir,), exitpriority=0)
