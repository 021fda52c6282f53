"""Keep Piccolo's CLI from writing to the database before a ``piccolo vde`` command.

Before running any command whose argv holds none of ``migrations``,
``playground``, ``asgi``, Piccolo's ``main()`` counts unapplied migrations with
``CheckMigrationManager.havent_ran_count()``, and that count creates Piccolo's
``migration`` table in a database that has none (piccolo-notes #21). vde's
commands that only read (``info``, ``lint``, ``drift``, ``diagram``) must leave
someone else's database as it was, and ``migrate`` creates the table itself,
under its lock. So for ``piccolo vde ...`` the count is skipped (Piccolo
swallows its errors anyway, and the warning it prints would tell vde's users
to run ``piccolo migrations forwards all`` instead of ``piccolo vde migrate``).
"""

from __future__ import annotations

import sys

from piccolo.apps.migrations.commands.check import CheckMigrationManager

_original_havent_ran_count = CheckMigrationManager.havent_ran_count


def running_vde_command() -> bool:
    """True in a ``piccolo vde <command>`` process (or ``-m piccolo.main vde``)."""
    return sys.argv[1:2] == ["vde"]


async def _havent_ran_count(self: CheckMigrationManager) -> int:
    if running_vde_command():
        return 0
    return int(await _original_havent_ran_count(self))


def skip_startup_count_for_vde_commands() -> None:
    """Install the skip (idempotent); other CLI commands keep Piccolo's count."""
    CheckMigrationManager.havent_ran_count = _havent_ran_count  # type: ignore[method-assign]
