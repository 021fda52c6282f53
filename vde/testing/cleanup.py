"""Drop the scratch databases of test runs that died before cleaning up.

A test process killed mid-run (Ctrl-C twice, an OOM kill, a CI timeout) leaves
its ``vde_test_<purpose>_<pid>_<random>`` databases behind. At the start of a
session (when the template is first needed) the plugin drops those whose
process no longer runs. It only judges what it can see: the server must be on
this host (the embedded one, a Unix socket, localhost), since a pid means
nothing on another machine. A database whose process is alive is never
touched, and neither is one with a connection open (plain ``DROP DATABASE``
refuses it; that refusal is skipped, not raised).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import asyncpg

from vde.ops.scratch import connect_kwargs

#: ``vde.testing.scratch.scratch_name``: vde_test_<purpose>_<pid>_<8 hex digits>.
SCRATCH_NAME = re.compile(r"^vde_test_(?:.+)_(?P<pid>\d+)_[0-9a-f]{8}$")
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


def is_local(server_url: str) -> bool:
    """The server runs on this host, so the pids in names are this host's."""
    host = urlsplit(server_url).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("/")


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def owner_pid(name: str) -> int | None:
    """The pid a scratch database name carries, or None if it is not one."""
    found = SCRATCH_NAME.match(name)
    return int(found["pid"]) if found else None


async def drop_abandoned_databases(server_url: str) -> list[str]:
    """Drop the ``vde_test_*`` databases of dead local processes; return their names."""
    if not is_local(server_url):
        return []
    connection = await asyncpg.connect(**connect_kwargs(server_url))
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'vde\\_test\\_%' "
            "AND NOT datistemplate"
        )
        dropped = []
        for (name,) in names:
            pid = owner_pid(name)
            if pid is None or process_alive(pid):
                continue
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            except asyncpg.ObjectInUseError:
                continue  # someone is connected: not abandoned after all
            dropped.append(name)
        return dropped
    finally:
        await connection.close()
