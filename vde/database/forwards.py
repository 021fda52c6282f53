"""Apply migrations so that an interruption never leaves one half-recorded.

Piccolo's ``forwards`` (1.38) commits a migration, then records it in its
``migration`` table in a second statement, outside that transaction: a kill in
between leaves it applied but not recorded, and every later ``forwards`` fails
on objects that already exist.
Here each migration runs in one transaction that first takes the migration
lock, checks that nobody recorded it meanwhile, runs Piccolo's own
``MigrationManager`` and inserts Piccolo's own ``migration`` row; both are
committed together or not at all. Piccolo's transactions join an open one, so
the manager and its raw steps run on this transaction's connection.

``piccolo vde migrate``, the drift check's reference database and the test
plugin's template all migrate this way. A migration made with
``wrap_in_transaction=False`` (say for ``CREATE INDEX CONCURRENTLY``) runs in
the transaction all the same, so such a statement fails cleanly instead of
leaving a migration half-recorded; vde has none.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import MigrationModule
from piccolo.engine.postgres import PostgresEngine
from piccolo.utils.printing import print_heading

from vde.database.citus import prepare_migration
from vde.database.engine_switch import use_engine
from vde.database.migration_lock import lock_migrations
from vde.database.pool_mode import connect_options

#: A migration: (app name, migration id).
MigrationKey = tuple[str, str]


class MigrationError(RuntimeError):
    """A migration failed (and was rolled back); the message carries the output."""


def _migration_modules(app_name: str) -> dict[str, MigrationModule]:
    """The app's migration modules by id (Piccolo imports them from their folder)."""
    app_config = BaseMigrationManager().get_app_config(app_name)
    return _modules_in(app_config.resolved_migrations_folder_path)


@functools.cache
def _modules_in(folder: str) -> dict[str, MigrationModule]:
    # Cached: Piccolo puts the folder on sys.path again at every call.
    return BaseMigrationManager().get_migration_modules(folder)


async def pending_migrations(stop: MigrationKey | None = None) -> list[MigrationKey]:
    """Unrecorded migrations of every registered app, in the order to apply them.

    Apps in dependency order, each app's migrations by id, as Piccolo's
    ``forwards all`` runs them. Reads Piccolo's ``migration`` table, which must
    exist (:func:`apply_pending` creates it).

    :param stop: leave out this migration and its app's later ones (rows of
        an older schema are loaded in between, then the rest is applied).
    """
    pending: list[MigrationKey] = []
    for app_name in BaseMigrationManager().get_sorted_app_names():
        modules = _migration_modules(app_name)
        ran = set(await Migration.get_migrations_which_ran(app_name=app_name))
        pending += [(app_name, id_) for id_ in sorted(modules) if id_ not in ran]
    if stop is not None:
        pending = [(a, m) for a, m in pending if a != stop[0] or m < stop[1]]
    return pending


async def apply_migration_in_current_transaction(
    app_name: str, migration_id: str
) -> bool:
    """Run one migration and record it, inside the caller's open transaction.

    The caller holds the migration lock in that transaction
    (:func:`vde.database.migration_lock.lock_migrations`). Returns False, doing
    nothing, when the migration is already recorded (another process applied
    it while this one waited).
    """
    recorded = await Migration.exists().where(
        (Migration.app_name == app_name) & (Migration.name == migration_id)
    )
    if recorded:
        return False
    engine = Migration._meta.db
    if isinstance(engine, PostgresEngine):
        await prepare_migration(engine)  # docs/scale-out.md: migrate on Citus
    manager = await _migration_modules(app_name)[migration_id].forwards()
    if isinstance(manager, MigrationManager) and not manager.fake:
        await manager.run()  # prints "  - <id> [forwards]... "
        print("ok! ✔️")
    await Migration.insert(Migration(name=migration_id, app_name=app_name))
    return True


async def apply_all_in_current_transaction(
    stop: MigrationKey | None = None,
) -> list[MigrationKey]:
    """Every unrecorded migration and its record, inside the caller's transaction.

    For a caller that builds the schema as one step of a larger transaction
    (``piccolo vde adopt --apply``) and holds the migration lock in it.
    ``stop``: as for :func:`pending_migrations`.
    """
    await Migration.create_table(if_not_exists=True)
    return [
        (app_name, migration_id)
        for app_name, migration_id in await pending_migrations(stop)
        if await apply_migration_in_current_transaction(app_name, migration_id)
    ]


async def apply_pending(
    engine: PostgresEngine,
    timeout: float = 0,
    on_wait: Callable[[], None] | None = None,
    stop: MigrationKey | None = None,
) -> list[MigrationKey]:
    """Apply every unrecorded migration on ``engine``, one locked transaction each.

    A kill or a lost connection at any moment leaves the database before or
    after each migration; running this again continues where it stopped.
    Several processes may run it at once: each migration is applied once.
    Returns the migrations this call applied. A failing migration raises (it
    is rolled back and stays unrecorded; earlier ones stay applied).

    :param timeout: seconds to wait for the lock, per migration, before
        :class:`~vde.database.migration_lock.MigrationLockTimeout`; 0: for ever.
    :param on_wait: called once, the first time the lock is held by another.
    :param stop: as for :func:`pending_migrations`.
    """
    applied: list[MigrationKey] = []
    announced = False

    async def locked() -> None:
        nonlocal announced
        if await lock_migrations(engine, timeout) and not announced:
            announced = True
            if on_wait is not None:
                on_wait()

    with use_engine(engine):
        async with engine.transaction():
            await locked()
            await Migration.create_table(if_not_exists=True)
        heading = ""
        for app_name, migration_id in await pending_migrations(stop):
            if app_name != heading:
                heading = app_name
                print_heading(app_name)
            async with engine.transaction():
                await locked()
                if await apply_migration_in_current_transaction(app_name, migration_id):
                    applied.append((app_name, migration_id))
    return applied


async def migrate_database(url: str, stop: MigrationKey | None = None) -> None:
    """Apply every app's migrations to the database at ``url``; quiet unless failing.

    ``stop``: as for :func:`pending_migrations`.
    """
    await migrate_engine(PostgresEngine(config=connect_options({"dsn": url})), stop)


async def migrate_engine(
    engine: PostgresEngine, stop: MigrationKey | None = None
) -> None:
    """:func:`migrate_database` for an engine (a server given by connect
    arguments)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            await apply_pending(engine, stop=stop)
        except Exception as exc:
            raise MigrationError(f"{exc!r}\n{output.getvalue()}") from exc
