"""The SQL each migration runs, as files a SQL linter (squawk) can read.

``piccolo migrations forwards --preview`` prints the generated SQL only: raw
steps are functions it skips. So vde's raw migrations keep their SQL in module
constants, ``FORWARDS`` and ``BACKWARDS`` (a string or a list of strings), which
their ``add_raw`` steps run; a raw step without them would be invisible here and
is reported as an error rather than silently left unlinted.

Generated SQL cannot carry a ``-- squawk-ignore`` line, so a migration whose
generated steps break a rule on purpose says so in ``SQUAWK_IGNORE_FILE``, a
dict of rule -> reason; each becomes a ``-- squawk-ignore-file`` line of its file.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine

from vde.database.engine_switch import use_engine

# What ForwardsMigrationManager prints around each migration in preview mode.
_PREVIEW_BLOCK = re.compile(
    r"^  - (?P<id>\S+) \[preview forwards\]\.\.\. (?P<sql>.*?)ok! ✔️$",
    re.MULTILINE | re.DOTALL,
)


class MigrationSqlError(RuntimeError):
    """A migration's SQL cannot be collected (preview failed, raw SQL hidden)."""


@dataclass(frozen=True)
class MigrationSql:
    """The forwards SQL of one migration, in the order it runs (raw steps first)."""

    app_name: str
    migration_id: str
    raw: list[str]
    generated: list[str]
    #: squawk rules this migration breaks on purpose: rule -> reason
    ignored: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.app_name}_{re.sub(r'[^0-9A-Za-z]+', '_', self.migration_id)}.sql"

    def text(self) -> str:
        lines = [f"-- app {self.app_name}, migration {self.migration_id}"]
        for rule, reason in sorted(self.ignored.items()):
            lines += [f"-- {reason}", f"-- squawk-ignore-file {rule}"]
        if self.raw:
            lines.append("-- raw steps (they run before the generated ones)")
            lines += [_terminated(sql) for sql in self.raw]
        if self.generated:
            lines.append("-- generated (piccolo migrations forwards --preview)")
            lines += self.generated
        return "\n".join(lines) + "\n"


def _terminated(sql: str) -> str:
    sql = sql.strip()
    return sql if sql.endswith(";") else sql + ";"


def raw_sql(module: ModuleType, name: str = "FORWARDS") -> list[str]:
    """The raw statements a migration module declares in constant ``name``."""
    value = getattr(module, name, None)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(sql) for sql in value]


def squawk_ignores(module: ModuleType) -> dict[str, str]:
    """The rules a migration declares broken on purpose, each with its reason."""
    value = getattr(module, "SQUAWK_IGNORE_FILE", None) or {}
    if not all(isinstance(reason, str) and reason.strip() for reason in value.values()):
        raise MigrationSqlError(
            f"{module.__name__}: every SQUAWK_IGNORE_FILE rule needs its reason"
        )
    return {str(rule): " ".join(str(r).split()) for rule, r in value.items()}


def parse_preview(output: str) -> dict[str, list[str]]:
    """Generated statements per migration id, from ``forwards --preview`` output."""
    found: dict[str, list[str]] = {}
    for block in _PREVIEW_BLOCK.finditer(output):
        # DDL is printed as one line ending in ';'; other queries without it.
        lines = [line.strip() for line in block["sql"].splitlines()]
        found[block["id"]] = [_terminated(line) for line in lines if line]
    return found


async def collect(
    engine: PostgresEngine, apps: Sequence[str] | None = None
) -> list[MigrationSql]:
    """The SQL of the migrations of ``apps`` (default: every registered app),
    previewed on ``engine``, in migration order.

    ``engine`` must point at an empty scratch database: the preview only lists
    migrations that have not run there (it creates Piccolo's ``migration`` table
    and nothing else).
    """
    finder = BaseMigrationManager()
    result: list[MigrationSql] = []
    with use_engine(engine):
        for app_name in finder.get_sorted_app_names():
            if apps is not None and app_name not in apps:
                continue
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                response = await run_forwards(app_name=app_name, preview=True)
            if not response.success:
                raise MigrationSqlError(
                    f"preview of app {app_name} failed: {response.message}\n"
                    f"{output.getvalue()}"
                )
            generated = parse_preview(output.getvalue())
            folder = finder.get_app_config(app_name).migrations_folder_path
            modules = finder.get_migration_modules(str(folder))
            for migration_id in sorted(modules):
                module = modules[migration_id]
                raw = raw_sql(module)
                await _check_raw_is_declared(module, raw)
                result.append(
                    MigrationSql(
                        app_name=app_name,
                        migration_id=migration_id,
                        raw=raw,
                        generated=generated.get(migration_id, []),
                        ignored=squawk_ignores(module),
                    )
                )
    return result


async def _check_raw_is_declared(module: ModuleType, raw: list[str]) -> None:
    manager = await module.forwards()
    if isinstance(manager, MigrationManager) and manager.raw and not raw:
        raise MigrationSqlError(
            f"{module.__name__} has raw steps but no FORWARDS constant: keep the "
            "raw SQL in FORWARDS/BACKWARDS so that it can be linted"
        )


#: The files ``write`` put in a folder, one name a line: the only ones it
#: removes there the next time (a folder may hold files of its user's).
WRITTEN = ".vde-lint-files"


def write(migrations: list[MigrationSql], folder: Path) -> list[Path]:
    """One ``.sql`` file per migration in ``folder``, replacing the ones an
    earlier call wrote there; every other file is left alone.

    A file in the way that an earlier call did not write is refused with
    :class:`MigrationSqlError` before anything is written or removed.
    """
    names = [
        f"{number:03d}_{migration.filename}"
        for number, migration in enumerate(migrations, start=1)
    ]
    earlier = _written_before(folder)
    in_the_way = [n for n in names if n not in earlier and (folder / n).exists()]
    if in_the_way:
        raise MigrationSqlError(
            f"{folder} holds {', '.join(in_the_way)}, which vde lint did not "
            "write: move it away or choose another --output folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in earlier:
        (folder / name).unlink(missing_ok=True)
    paths = []
    for name, migration in zip(names, migrations, strict=True):
        path = folder / name
        path.write_text(migration.text(), encoding="utf-8")
        paths.append(path)
    (folder / WRITTEN).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return paths


def _written_before(folder: Path) -> set[str]:
    """The names in ``folder``'s list of written files: plain ``.sql`` names
    only, so that an edited list cannot remove anything outside the folder."""
    try:
        lines = (folder / WRITTEN).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    return {
        line
        for line in lines
        if line.endswith(".sql") and line == Path(line).name and line[0] != "."
    }
