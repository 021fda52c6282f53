"""A sequence that hands out map-owner ids (``vde_user_mapping.mapping_user_id``).

``vde.mapping.owners.mapping_user_id_for`` takes the next value for a user's
first map. "max + 1" (the original app's way) gives two new users the same id
when they race; a sequence never does, and never waits for another transaction.
The column keeps no default (the spec's contract: an insert that forgets the id
still fails); the sequence is OWNED BY the column, so dropping the column or the
table drops it too. Beyond the spec (issue 12).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T02:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sequence for map-owner ids (mapping_user_id_for)"

SEQUENCE = "vde_user_mapping_mapping_user_id_seq"

FORWARDS = [
    f"CREATE SEQUENCE {SEQUENCE} AS integer OWNED BY vde_user_mapping.mapping_user_id",
    # Start after the ids already given, so the first value is free.
    f"SELECT setval('{SEQUENCE}', greatest(coalesce(max(mapping_user_id), 0), 0) + 1, "
    "false) FROM vde_user_mapping",
]

BACKWARDS = [f"DROP SEQUENCE {SEQUENCE}"]


async def run_all(statements: list[str]) -> None:
    engine = engine_finder()
    assert engine is not None
    for sql in statements:
        await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )

    async def raw_forwards():
        await run_all(FORWARDS)

    async def raw_backwards():
        await run_all(BACKWARDS)

    manager.add_raw(raw_forwards)
    manager.add_raw_backwards(raw_backwards)

    return manager
