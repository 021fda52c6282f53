"""better-auth, installed from the committed lockfile, driven step by step.

``npm ci`` runs at most once per session, and only when ``node_modules`` is
missing or was installed from another ``package.json`` or lockfile (a stamp file
in it records which).
The tests skip only where ``node`` or ``npm`` is missing; a failing install
fails them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

INTEROP = Path(__file__).resolve().parents[2] / "interop" / "better-auth"
LOCKFILE = INTEROP / "package-lock.json"
STAMP = INTEROP / "node_modules" / ".vde-install-sha256"
#: How an answer line of flows.mjs starts; anything else is better-auth's log.
ANSWER = "@@vde "
STEP_TIMEOUT = 60
#: better-auth's secret in flows.mjs (its BETTER_AUTH_SECRET): a fixed test value,
#: never used outside the scratch databases; the Python side checks cookies with it.
SECRET = "vde-interop-test-secret-7Hq2Lm9Xc4Vb8Nz1Kd6Pw3Rt5Ys0"


def _install_digest() -> str:
    """What node_modules was installed from: package.json and its lockfile."""
    digest = hashlib.sha256()
    for path in (INTEROP / "package.json", LOCKFILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def better_auth() -> Path:
    """The folder of flows.mjs with its node_modules installed and current."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not found on PATH: the better-auth interop "
            "tests need Node 20+ and npm (CI machines have them)"
        )
    digest = _install_digest()
    if not STAMP.is_file() or STAMP.read_text().strip() != digest:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}{result.stderr}"
        STAMP.write_text(digest + "\n")
    return INTEROP


class StepFailed(AssertionError):
    """A step answered ``ok: false`` where the test expected it to succeed."""


class Flows:
    """One ``node flows.mjs`` process on one database: send a step, get its answer."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        #: Everything else the process printed (better-auth's log), in order.
        self.log: list[str] = []

    async def try_step(self, step: str, **args: Any) -> dict[str, Any]:
        """The step's answer, ``ok`` true or false."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps({"step": step, **args}) + "\n").encode())
        await self.process.stdin.drain()
        while True:
            raw = await asyncio.wait_for(
                self.process.stdout.readline(), timeout=STEP_TIMEOUT
            )
            if not raw:
                raise AssertionError(
                    f"flows.mjs ended during {step}:\n" + "\n".join(self.log)
                )
            line = raw.decode().rstrip("\n")
            if line.startswith(ANSWER):
                answer: dict[str, Any] = json.loads(line[len(ANSWER) :])
                return answer
            self.log.append(line)

    async def step(self, step: str, **args: Any) -> dict[str, Any]:
        """The answer of a step that must succeed."""
        answer = await self.try_step(step, **args)
        if not answer["ok"]:
            raise StepFailed(f"{step} failed: {answer}\n" + "\n".join(self.log))
        return answer

    async def refused(self, step: str, **args: Any) -> dict[str, Any]:
        """The answer of a step that must be refused."""
        answer = await self.try_step(step, **args)
        assert not answer["ok"], f"{step} was not refused: {answer}"
        return answer


async def start_flows(folder: Path, url: str) -> Flows:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(folder / "flows.mjs"),
        cwd=folder,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "BETTER_AUTH_SECRET": SECRET,
            "NO_COLOR": "1",
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Flows(process)


async def stop_flows(flows: Flows) -> None:
    process = flows.process
    if process.returncode is None:
        assert process.stdin is not None
        try:
            process.stdin.write(b'{"step": "exit"}\n')
            await process.stdin.drain()
            process.stdin.close()
            await asyncio.wait_for(process.wait(), timeout=STEP_TIMEOUT)
        except (TimeoutError, ConnectionError):
            process.kill()
            await process.wait()


@pytest_asyncio.fixture(params=["direct", "pgbouncer"])
async def flows(
    request: pytest.FixtureRequest, better_auth: Path, vde_db: Any
) -> AsyncIterator[Flows]:
    """better-auth on this test's migrated vde database: straight to the
    server, or through PgBouncer in transaction mode (``tests/pooler.py``), as
    a hosted database's pooled URL runs it (node-postgres sends unnamed
    statements, so it needs no switch)."""
    url = vde_db.url
    if request.param == "pgbouncer":
        url = request.getfixturevalue("pgbouncer").url(vde_db.name)
    running = await start_flows(better_auth, url)
    try:
        yield running
    finally:
        await stop_flows(running)
