"""``piccolo vde app_role`` never takes a password from its command line.

Every local user can read a process's arguments (``/proc/<pid>/cmdline``), so
the password comes from a file, ``VDE_APP_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import base64
import getpass
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from vde.ops.commands.app_role import app_role
from vde.ops.password_input import PasswordInputError
from vde.ops.scram import scram_sha256_verifier
from vde.testing import ScratchDatabase

REPO = Path(__file__).resolve().parents[2]
PICCOLO = Path(sys.executable).with_name("piccolo")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ALTERNATIVES = ("--password_file=PATH", "VDE_APP_PASSWORD", "--password_prompt")


def piccolo(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
    env.pop("PICCOLO_CONF", None)
    env.pop("VDE_APP_PASSWORD", None)
    return subprocess.Popen(
        [str(PICCOLO), "vde", "app_role", *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def role_exists(connection: asyncpg.Connection, role: str) -> bool:
    return bool(
        await connection.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", role)
    )


async def stored_verifier_is_for(
    connection: asyncpg.Connection, role: str, password: str
) -> bool:
    """The role's stored SCRAM verifier is the one for ``password`` (with its
    salt): PostgreSQL checks a login against it (tests/ops/test_scram.py)."""
    stored = await connection.fetchval(
        "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
    )
    iterations, salt = stored.split("$")[1].split(":")
    verifier = scram_sha256_verifier(password, base64.b64decode(salt), int(iterations))
    return bool(stored == verifier)


async def test_a_password_on_the_command_line_is_refused_and_help_names_the_others(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str
) -> None:
    given = piccolo(vde_db.url, f"--name={role}", "--password=s3cret")
    helped = piccolo(vde_db.url, "--help")
    stdout, stderr = given.communicate(timeout=120)
    assert given.returncode == 1, stdout + stderr
    assert "--password is not accepted: every local user can read" in stderr
    assert all(alternative in stderr for alternative in ALTERNATIVES), stderr
    assert not await role_exists(vde_conn, role)  # nothing was changed
    printed = ANSI.sub("", helped.communicate(timeout=120)[0])
    assert helped.returncode == 0, printed
    for option in ("password_file", "password_prompt"):
        assert re.search(rf"^{option}\b", printed, re.MULTILINE), printed
    assert "VDE_APP_PASSWORD" in printed
    assert "every local user can read a command line" in printed


async def test_the_command_takes_the_password_from_a_file(
    vde_db: ScratchDatabase, vde_conn: asyncpg.Connection, role: str, tmp_path: Path
) -> None:
    password = "correct horse battery staple 42"
    secret = tmp_path / "password"
    secret.write_text(password + "\n")  # as `echo` writes it
    secret.chmod(0o600)
    run = piccolo(vde_db.url, f"--name={role}", f"--password_file={secret}")
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stdout + stderr
    assert "password set (as a SCRAM-SHA-256 verifier computed here)" in stdout
    assert await stored_verifier_is_for(vde_conn, role, password)
    assert not await stored_verifier_is_for(vde_conn, role, password + "\n")


class Terminal:
    """Standard input that is a terminal (or, with ``False``, is not)."""

    def __init__(self, is_one: bool = True) -> None:
        self.is_one = is_one

    def isatty(self) -> bool:
        return self.is_one


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the user types at each getpass prompt, in order."""
    answers: list[str] = []
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": answers.pop(0))
    yield answers
    assert not answers  # every answer was asked for


async def test_the_prompt_asks_twice_and_sets_the_password(
    vde_conn: asyncpg.Connection, role: str, typed: list[str]
) -> None:
    typed += ["pässwört", "pässwört"]
    await app_role(name=role, password_prompt=True)
    assert await stored_verifier_is_for(vde_conn, role, "pässwört")


@pytest.mark.parametrize(
    ("options", "file_text", "answers", "message"),
    [
        ({"password_file": "{missing}"}, None, [], "cannot read the password file"),
        ({"password_file": "{file}"}, "\n", [], "the password file {file} is empty"),
        (
            {"password_file": "{file}", "password_prompt": True},
            "pw",
            [],
            "give the password one way only",
        ),
        ({"password_prompt": True}, None, ["one", "another"], "the passwords differ"),
        ({"password_prompt": True}, None, ["", ""], "no password typed"),
        ({"password": "pw"}, None, [], "--password is not accepted"),
    ],
)
async def test_a_password_given_wrongly_changes_nothing(
    vde_conn: asyncpg.Connection,
    role: str,
    typed: list[str],
    tmp_path: Path,
    options: dict[str, object],
    file_text: str | None,
    answers: list[str],
    message: str,
) -> None:
    paths = {"file": str(tmp_path / "password"), "missing": str(tmp_path / "none")}
    if file_text is not None:
        Path(paths["file"]).write_text(file_text)
    typed += answers
    given = {
        k: v.format(**paths) if isinstance(v, str) else v for k, v in options.items()
    }
    with pytest.raises(PasswordInputError) as refused:
        await app_role(name=role, **given)  # type: ignore[arg-type]
    assert message.format(**paths) in str(refused.value)
    assert not await role_exists(vde_conn, role)
    del typed[:]  # a refusal may come before the second prompt


async def test_the_prompt_needs_a_terminal(
    vde_conn: asyncpg.Connection, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(is_one=False))
    with pytest.raises(PasswordInputError, match="--password_prompt needs a terminal"):
        await app_role(name=role, password_prompt=True)
    assert not await role_exists(vde_conn, role)
