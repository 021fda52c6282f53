"""A sequence that hands out map-owner ids (``vde_user_mapping.mapping_user_id``).

``vde.mapping.owners.mapping_user_id_for`` takes the next value for a user's
first map. "max + 1" gives two new users the same id when they race; a
sequence never does, and never waits for another transaction. The column keeps
no default (an insert that forgets the id still fails); the sequence is OWNED
BY the column, so dropping the column or the table drops it too.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

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


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
