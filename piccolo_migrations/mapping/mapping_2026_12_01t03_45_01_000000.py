"""The tree check costs little when there is little to check.

Before (measured on the text of mapping_2026_11_26t17_35_14_090003; the
function this one replaces is mapping_2026_12_01t02_05_53_842053's, which
already looked children up by index), the AFTER UPDATE check planned two
queries on every UPDATE of tiles, also when no column it reads changed (a title
or time update; the ``origin_id`` SET NULL that the foreign-key action runs when
a copied tile is deleted), and its children query joined the transition tables
by a nested loop (9 ms of a 259-tile move). On the bench's 574k tiles
(PostgreSQL 18), against a copy of the table without the trigger: a 259-tile
move cost 2.5x, its delete 1.2x, a time update of those tiles 2.3x.

Now one query per statement, planned once per session (static SQL: no planning
per statement), in a fixed shape:
- the tiles whose map, path, parent or type changed are found by one hash join
  of the transition tables; when there are none (a statement that changes no
  column the rules read), that join is all the check does;
- only those tiles are checked: against a parent the same statement updated,
  by a hash join with the new rows (no lookup, no lock: the statement holds
  it); against any other parent, by an index lookup FOR SHARE; and for
  children left behind, by an index lookup per relocated tile (LATERAL ...
  OFFSET 0); all checks in one query.
The plan must not depend on the statement's size or on the table's statistics
(a plan cached for one row runs for 20,000 too): enable_nestloop and
enable_mergejoin are off for the function, so the transition tables are always
hash-joined, and enable_seqscan is off, so each lookup stays an index scan even
when the table looked empty at planning. The LATERAL lookups can only be nested
loops, which PostgreSQL then still uses. jit is off for the function: on
PostgreSQL 15-17 a disabled plan node adds 10^10 to the plan's cost, and the
JIT compilation that cost set off took 0.4 s per UPDATE.

Measured alternative: a row-level trigger that flags moved rows. PostgreSQL
allows no transition tables on a trigger with a column list (UPDATE OF), and a
WHEN that names the columns makes PostgreSQL refuse any later type change of
``path`` (Piccolo's own ALTER COLUMN TYPE, tests/test_drift.py); a function in
the WHEN costs a call per updated row. The join costs less than either.

The function pins its search_path (pg_catalog, pg_temp) and names its table
with the schema the migration runs in, filled in when it runs: the queries stay
static (planned once per session), and no TEMP table of a caller can stand in
for vde_map_items. Rules, names,
messages and the FOR SHARE locks on parents are unchanged
(tests/mapping/test_tree.py passes as it was).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-01T03:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "tree check: one cached query, work only for tiles whose place changed"

# The table, schema-qualified: SCHEMA is replaced by the migration's schema.
SCHEMA = "@vde_schema@"
TILES = f"{SCHEMA}.vde_map_items"

# A tile's parent path, from the tile's own path: every direction is one
# character, so dropping the last ",d" (or the only "d") gives it.
PARENT_PATH = "CASE WHEN length({0}) = 1 THEN '' ELSE left({0}, -2) END"

# Tile c is out of place under its parent p (same map, one direction below).
MISPLACED = f"""(c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> {PARENT_PATH.format("c.path")})"""

# Each tile of {0} against its parent, locked FOR SHARE. The lock makes a
# concurrent move of the parent wait for this transaction, or this one wait for
# the move and then see the parent's new path: without it two transactions could
# each pass the check and together commit a broken tree. Parents are locked in
# id order (as vde's helpers lock), so a mover and an inserter do not deadlock.
FIND_MISPLACED = f"""SELECT 'misplaced' AS rule, c.id, c.coord_user_id,
               c.coord_group_id, c.path, p.id AS other_id,
               p.coord_user_id AS other_user_id, p.coord_group_id AS other_group_id,
               p.path AS other_path
        FROM (SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.parent_id
              FROM {{0}} c WHERE c.parent_id IS NOT NULL ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM {TILES} p WHERE p.id = c.parent_id OFFSET 0 FOR SHARE) p
        WHERE {MISPLACED}
        LIMIT 1"""

# The tiles of an UPDATE whose place in the tree changed, by a hash join of the
# transition tables; "relocated": its map or path changed (children must follow).
MOVED = """moved AS MATERIALIZED (
        SELECT n.id, n.coord_user_id, n.coord_group_id, n.path, n.parent_id,
               (n.coord_user_id, n.coord_group_id, n.path)
                   IS DISTINCT FROM (o.coord_user_id, o.coord_group_id, o.path)
                   AS relocated
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.coord_user_id, n.coord_group_id, n.path, n.parent_id, n.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type))"""

# Moved tiles whose parent the same statement updated (a subtree's inner tiles):
# compared with the parent's new row by a hash join. The statement holds that
# row's lock already, and the lookup below is for the other parents only.
FIND_MISPLACED_UNDER_MOVED = f"""SELECT 'misplaced' AS rule, c.id, c.coord_user_id,
               c.coord_group_id, c.path, p.id AS other_id,
               p.coord_user_id AS other_user_id, p.coord_group_id AS other_group_id,
               p.path AS other_path
        FROM moved c JOIN new_rows p ON p.id = c.parent_id
        WHERE {MISPLACED}
        LIMIT 1"""
MOVED_UNDER_OTHERS = """(SELECT c.* FROM moved c
              WHERE NOT EXISTS (SELECT FROM new_rows p WHERE p.id = c.parent_id))"""

# A tile that changed map or path takes its children along in the same
# statement; a child left behind no longer matches its parent. Children by an
# index lookup per relocated tile, a plan in which no scan can read the table
# whole (a version joining on parent_id = ANY(...) took 0.5 s per UPDATE on
# PostgreSQL 15).
FIND_LEFT_BEHIND = f"""SELECT 'left behind' AS rule, p.id, p.coord_user_id,
               p.coord_group_id, p.path, c.id AS other_id,
               c.coord_user_id AS other_user_id, c.coord_group_id AS other_group_id,
               c.path AS other_path
        FROM (SELECT * FROM moved WHERE relocated) p
        CROSS JOIN LATERAL (
            SELECT c.id, c.coord_user_id, c.coord_group_id, c.path
            FROM {TILES} c WHERE c.parent_id = p.id OFFSET 0) c
        WHERE {MISPLACED}
        LIMIT 1"""

CHECK_INSERT = FIND_MISPLACED.format("new_rows")
# All checks in one query, in the order of the rules' errors: parents, then
# children.
CHECK_UPDATE = f"""WITH {MOVED}
        ({FIND_MISPLACED_UNDER_MOVED})
        UNION ALL
        ({FIND_MISPLACED.format(MOVED_UNDER_OTHERS)})
        UNION ALL
        ({FIND_LEFT_BEHIND})
        LIMIT 1"""

TREE_CHECK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO bad FROM ({CHECK_INSERT}) AS found;
    ELSE
        SELECT * INTO bad FROM ({CHECK_UPDATE}) AS found;
    END IF;
    IF bad.rule = 'misplaced' THEN
        IF bad.coord_user_id <> bad.other_user_id
           OR bad.coord_group_id <> bad.other_group_id THEN
            RAISE EXCEPTION
                'vde_map_items_tree_parent: tile % in map (%, %) has parent % in map (%, %)',
                bad.id, bad.coord_user_id, bad.coord_group_id,
                bad.other_id, bad.other_user_id, bad.other_group_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'vde_map_items_tree_parent',
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
                  HINT = 'A tile and its parent lie in the same map.';
        END IF;
        RAISE EXCEPTION
            'vde_map_items_tree_path: tile % at path ''%'' is not one direction below its parent % at path ''%''',
            bad.id, bad.path, bad.other_id, bad.other_path
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'vde_map_items_tree_path',
              TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              HINT = 'A tile''s path is its parent''s path plus one direction.';
    END IF;
    IF bad.rule = 'left behind' THEN
        RAISE EXCEPTION
            'vde_map_items_tree_children: tile % moved to (%, %, ''%'') without its child % at (%, %, ''%'')',
            bad.id, bad.coord_user_id, bad.coord_group_id, bad.path,
            bad.other_id, bad.other_user_id, bad.other_group_id, bad.other_path
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'vde_map_items_tree_children',
              TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              HINT = 'Move a tile with its subtree in one statement '
                     '(vde.mapping.moves.move_subtree).';
    END IF;
    RETURN NULL;
END
$function$
"""


# Run with SCHEMA filled in (forwards below).
FORWARDS = [TREE_CHECK_FUNCTION]


def _previous_function() -> str:
    """The function as the migration before this one made it (that file never
    changes)."""
    module = load_migration(__file__, "mapping_2026_12_01t02_05_53_842053.py")
    text: str = module.FORWARDS
    return text


BACKWARDS = [_previous_function()]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS, schema_placeholder=SCHEMA)
