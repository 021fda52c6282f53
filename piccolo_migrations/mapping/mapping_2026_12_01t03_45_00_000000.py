"""The page of descendants by depth, read in index order.

``descendants(..., limit=N)`` orders a subtree by depth (``length(path)``), then
path. The coordinates index holds a subtree in path order, so a page had to read
the whole subtree and sort it (55,986 entries for a page of 1,000 below the
bench's biggest root). This index holds each map in (depth, path) order: the
page query (``vde.mapping.queries.DESCENDANTS_PAGE_SQL``) stops after N entries.
PostgreSQL 18 reads only the subtree's entries of each depth (a skip scan over
the depths); 15-17 read each depth of the map from the subtree's first one.

Depth is the expression ``length(path)``, kept right by PostgreSQL itself (no
column to maintain). Roots are left out (``WHERE length(path) > 0``: a root is
nobody's descendant); only a query stating that predicate can use the index.
``path`` uses the pattern operator class (byte order, the same order as the
column's collation "C"), and the page query compares with its operators
(``~>=~``, ``~<~``): no other index serves them, so neither a custom nor a
generic plan can fall back to sorting the subtree from the coordinates index.
With the predicate, the plans of all other queries stay on the indexes they
used before (a whole small subtree is read exactly as before).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

ID = "2026-12-01T03:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "map items in (map, depth, path) order: the page of descendants by depth"

# squawk (`piccolo vde lint`) reads the "-- squawk-ignore" line; its reason is
# the line above it. IF NOT EXISTS lets an operator build it first with
# CREATE INDEX CONCURRENTLY (same definition) on a big live table.
FORWARDS = (
    "-- CONCURRENTLY cannot run in the migration's transaction (see above)\n"
    "-- squawk-ignore require-concurrent-index-creation\n"
    "CREATE INDEX IF NOT EXISTS vde_map_items_depth_order ON vde_map_items "
    "(coord_user_id, coord_group_id, length(path), path varchar_pattern_ops) "
    "WHERE length(path) > 0"
)
BACKWARDS = "DROP INDEX vde_map_items_depth_order"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
