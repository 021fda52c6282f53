"""Where ``piccolo vde app_role`` takes a password from: never its command line.

Every local user can read a process's arguments (``ps``, ``/proc/<pid>/cmdline``)
while it runs, and shells keep them in their history. A file readable by its
owner alone, an environment variable (``/proc/<pid>/environ`` is private to the
process's user) or a prompt on the terminal keep the password to its owner.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

#: The environment variable app_role reads when no file or prompt is asked for.
PASSWORD_VARIABLE = "VDE_APP_PASSWORD"

ALTERNATIVES = (
    f"--password_file=PATH, the {PASSWORD_VARIABLE} environment variable "
    "or --password_prompt"
)


class PasswordInputError(SystemExit):
    """The password could not be read as asked; nothing was changed."""


def read_password(file: str = "", prompt: bool = False, role: str = "") -> str | None:
    """The password from ``file``, a prompt, or the environment; None: none given.

    A file's one trailing line break is not part of the password (``echo``
    and editors add one); an empty password is refused, as PostgreSQL would
    store it as none. The prompt asks twice, the second time to catch a typo.
    """
    if file and prompt:
        raise PasswordInputError(
            "--password_file and --password_prompt: give the password one way only"
        )
    if file:
        try:
            password = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PasswordInputError(
                f"cannot read the password file {file}: {error}. Nothing was changed."
            ) from error
        password = password.removesuffix("\n").removesuffix("\r")
        if not password:
            raise PasswordInputError(f"the password file {file} is empty")
        return password
    if prompt:
        if not sys.stdin.isatty():
            raise PasswordInputError(
                "--password_prompt needs a terminal; without one use "
                f"--password_file=PATH or the {PASSWORD_VARIABLE} variable"
            )
        password = getpass.getpass(f"Password for role {role}: ")
        if not password:
            raise PasswordInputError("no password typed; nothing was changed")
        if getpass.getpass("Again: ") != password:
            raise PasswordInputError("the passwords differ; nothing was changed")
        return password
    return os.environ.get(PASSWORD_VARIABLE) or None


def refuse_command_line_password() -> None:
    """Stop a run given ``--password=...``: the password is out already."""
    raise PasswordInputError(
        "--password is not accepted: every local user can read a command line "
        "(ps, /proc/<pid>/cmdline), so choose a new password and give it with "
        f"{ALTERNATIVES}. Nothing was changed."
    )
