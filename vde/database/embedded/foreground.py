"""The embedded server kept up for a person at a terminal: a process that waits
until it is told to stop, and psql run as its child.

Either process counts as a user of the server (``handles``) for as long as it
runs, so the server stays up; when it ends, the server stops unless another
vde process still uses it. Both end through their exit handlers on Ctrl-C,
SIGTERM and SIGHUP (a closed terminal), whose default actions would skip them.

psql runs as the process's own OS user, the one ``peer`` lets in: as root the
server runs as ``embedded_postgres``, but its login map admits the OS user who
started vde (root), so psql, like vde's own connections, runs as root.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from vde.database.embedded.binaries import psql_binary
from vde.database.embedded.postmaster import EmbeddedServer

#: The signals that end a foreground process through its exit handlers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Handler = Callable[[int, FrameType | None], object]


class _Stopped(BaseException):
    """Raised by a stop signal's handler; nothing but :func:`wait_for_stop`
    catches it (not ``except Exception``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def wait_for_stop(ready: Callable[[], object] = lambda: None) -> str:
    """Call ``ready`` once the signals are caught (a signal sent as soon as it
    says so is caught), then block until Ctrl-C, SIGTERM or SIGHUP; the
    signal's name."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    try:
        with _handling(STOP_SIGNALS, stop):
            ready()
            while True:
                time.sleep(3600)
    except _Stopped as stopped:
        return signal.Signals(stopped.signum).name


def psql_argv(
    server: EmbeddedServer, database: str, extra: Sequence[str] = ()
) -> list[str]:
    """The command line of psql on ``database`` of the server."""
    return [str(psql_binary()), "-d", server.get_uri(database), *extra]


def run_psql(argv: Sequence[str]) -> int:
    """Run psql in the foreground; its exit status (128 + the signal that
    ended it). Ctrl-C is psql's (it cancels a query, the session goes on),
    SIGTERM and SIGHUP are passed on to it. The handlers are set before psql
    starts (its exec resets them to the defaults)."""
    started: list[subprocess.Popen[bytes]] = []

    def pass_on(signum: int, frame: FrameType | None) -> None:
        if signum != signal.SIGINT:  # the terminal sends Ctrl-C to psql itself
            for process in started:
                process.send_signal(signum)

    with _handling(STOP_SIGNALS, pass_on):
        started.append(subprocess.Popen(list(argv)))
        status = started[0].wait()
    return 128 - status if status < 0 else status


@contextmanager
def _handling(signums: Sequence[int], handler: Handler) -> Iterator[None]:
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, was in previous.items():
            signal.signal(signum, signal.SIG_DFL if was is None else was)
