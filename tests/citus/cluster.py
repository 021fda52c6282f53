"""The Citus test cluster: found running, or started for the session, and its databases.

The tools (``install.sh``, ``cluster.sh``) live in ``../shared/citus`` beside
the repository, where CI's clean clone has them (``VDE_CITUS_TOOLS`` names
another folder; ``.ci/run`` sets it when it runs from a copy). A coordinator
already listening on 127.0.0.1:9700 is used as it is (ports 9700-9702 are
fixed, so one cluster serves the machine); else the session starts one in a
folder of its own and stops it at the end. Without Citus, or without a
cluster, the tests skip with one line saying why; under CI (``CI`` set) they
fail instead.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", 9700
PG_LIB = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")).parent / "lib"
#: Shards per table in the tests: enough to tell one from all, quick to make.
SHARD_COUNT = 8


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


#: How a skip for want of Citus starts.
UNAVAILABLE = "no Citus cluster: "


def unavailable(reason: str) -> None:
    """Skip the test (outside CI) or fail it (in CI) for ``reason``."""
    if in_ci():
        pytest.fail(f"CI runs the citus tests: {reason}", pytrace=False)
    pytest.skip(UNAVAILABLE + reason)


def tools() -> Path:
    return Path(os.environ.get("VDE_CITUS_TOOLS", ROOT.parent / "shared" / "citus"))


@dataclass
class Cluster:
    """A running cluster: the folder ``cluster.sh`` knows it by."""

    folder: Path
    started: bool

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [str(tools() / "cluster.sh"), str(self.folder), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"cluster.sh {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        return done.stdout

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{PORT}/{database}"

    def database_name(self, purpose: str) -> str:
        """A fresh database name (``VDE_CITUS_DB_PREFIX``, default ``vde_citus_``)."""
        prefix = os.environ.get("VDE_CITUS_DB_PREFIX", "vde_citus_")
        return f"{prefix}{purpose}_{os.getpid()}_{secrets.token_hex(3)}".lower()

    def create_database(self, purpose: str) -> str:
        """A new database with Citus and the workers registered; its name."""
        name = self.database_name(purpose)
        self.run("createdb", name)
        return name

    def drop_database(self, name: str) -> None:
        self.run("dropdb", name)


async def coordinator_answers() -> str | None:
    """None when a Citus coordinator with workers answers on 9700, else why not."""
    try:
        connection = await asyncpg.connect(
            host=HOST, port=PORT, user="postgres", database="postgres", timeout=5
        )
    except (OSError, asyncpg.PostgresError) as exc:
        return f"no Citus coordinator on {HOST}:{PORT} ({exc})"
    try:
        workers = await connection.fetchval(
            "SELECT count(*) FROM pg_dist_node WHERE groupid <> 0 AND isactive"
        )
    except asyncpg.PostgresError as exc:
        return f"{HOST}:{PORT} is no Citus coordinator ({exc})"
    finally:
        await connection.close()
    return None if workers else f"the coordinator on {HOST}:{PORT} has no workers"


async def session_cluster() -> Cluster:
    """The running cluster, or one started now (see the module's doc)."""
    folder = Path(os.environ.get("VDE_CITUS_DIR", f"/var/tmp/vde-citus-{os.getuid()}"))
    if not (tools() / "cluster.sh").exists():
        unavailable(f"no {tools()}/cluster.sh (set VDE_CITUS_TOOLS to its folder)")
    if await coordinator_answers() is None:
        return Cluster(folder, started=False)
    if not (PG_LIB / "citus.so").exists():
        unavailable(
            f"Citus is not installed ({PG_LIB}/citus.so is missing; "
            f"{tools()}/install.sh builds it)"
        )
    cluster = Cluster(folder, started=True)
    try:
        cluster.run("start")
    except (RuntimeError, OSError) as exc:
        unavailable(f"the Citus cluster could not start: {exc}")
    why_not = await coordinator_answers()
    if why_not is not None:
        unavailable(why_not)
    return cluster

