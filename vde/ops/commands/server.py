"""``piccolo vde server`` and ``piccolo vde psql``: the embedded server kept up
for a person, and psql on it."""

from __future__ import annotations

import os
import shlex
import sys

from vde.database import DATABASE_URL_VARIABLE, EMBEDDED_DATABASE, embedded_server
from vde.database.embedded.binaries import EmbeddedServerError
from vde.database.embedded.foreground import psql_argv, run_psql, wait_for_stop
from vde.database.embedded.server import stop_if_last


def server() -> None:
    """Start the embedded server and keep it up until Ctrl-C or SIGTERM.

    Prints its URL (for DATABASE_URL, so that other programs use it) and a psql
    command line. On Ctrl-C, SIGTERM or SIGHUP it stops the server, unless
    another vde process still uses it (the last one stops it when it exits).
    The data folder is VDE_PGDATA, else .pgdata of the current folder.
    """
    running = embedded_server()
    url = running.get_uri(EMBEDDED_DATABASE)
    print(f"vde's embedded PostgreSQL runs on {str(running.data_dir)!r}.")
    print(f"  URL:  {url}")
    try:
        print(f"  psql: {shlex.join(psql_argv(running, EMBEDDED_DATABASE))}")
    except EmbeddedServerError as missing:
        print(f"  psql: {missing}")
    if os.environ.get(DATABASE_URL_VARIABLE, url) != url:
        print(f"  {DATABASE_URL_VARIABLE} names another server: vde uses that one.")
    received = wait_for_stop(
        ready=lambda: print("It stays up until Ctrl-C or SIGTERM.", flush=True)
    )
    others = stop_if_last(running.data_dir)
    if others:
        pids = ", ".join(map(str, others))
        print(f"{received}: the server stays up for the vde processes {pids}.")
    else:
        print(f"{received}: the embedded server stopped.")


def psql(
    database: str = EMBEDDED_DATABASE,
    command: str = "",
    file: str = "",
    args: str = "",
) -> None:
    """Run psql on the embedded server, which stays up while psql runs.

    The wheel's psql (the server's version; it has no line editing), else the
    one on PATH, as the OS user the server lets in. Exits with psql's status.

    :param database: the database to open.
    :param command: run this SQL and exit (psql -c), stopping at an error.
    :param file: run the SQL of this file and exit (psql -f), stopping at the
        first error.
    :param args: more options for psql, split as a shell splits them, e.g.
        --args="-At".
    """
    options = {"database": database, "command": command, "file": file, "args": args}
    for name, value in options.items():
        if not isinstance(value, str):
            sys.exit(f"--{name} needs a value: --{name}=...")
    extra = shlex.split(args)
    if command or file:
        extra += ["-v", "ON_ERROR_STOP=1"]
    if command:
        extra += ["-c", command]
    if file:
        extra += ["-f", file]
    running = embedded_server()
    url = running.get_uri(EMBEDDED_DATABASE)
    if os.environ.get(DATABASE_URL_VARIABLE, url) != url:
        print(
            f"psql on the embedded server, not on the one {DATABASE_URL_VARIABLE} "
            "names.",
            file=sys.stderr,
        )
    status = run_psql(psql_argv(running, database, extra))
    if status:
        sys.exit(status)
