"""Each map is a proper tree, enforced by PostgreSQL.

Design: a statement-level AFTER INSERT / AFTER UPDATE trigger with transition
tables checks, in one set-based query per statement, every new or moved tile
against its parent and every moved tile's children. A 20,000-tile COPY costs
0.99x the unchecked time in one COPY and 1.03x in one COPY per level (PostgreSQL
18, median of 11; PostgreSQL 15 within 0.93-1.22x on a noisy machine;
bench/tree_check.py, docs/benchmarks.md "Tree consistency check"): inside the 1.3x
target, where a row-level deferred constraint trigger was measured at 1.55x.
The price: the tree must be whole at the end of each statement. A move in one
UPDATE and a copy one level per statement (vde/mapping/moves.py, copies.py)
are; "parent first, children in a second statement" is refused.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

ID = "2026-11-26T17:35:14:090003"
VERSION = "1.38.0"
DESCRIPTION = "tree consistency trigger, deferrable coordinates, root path and origin checks"

# A tile's parent path, from the tile's own path: every direction is one
# character, so dropping the last ",d" (or the only "d") gives it.
PARENT_PATH = "CASE WHEN length({0}) = 1 THEN '' ELSE left({0}, -2) END"

# Tile c is out of place under its parent p (same map, one direction below).
MISPLACED = f"""(c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> {PARENT_PATH.format("c.path")})"""

# The tiles of an UPDATE whose place in the tree changed (not a title or a time).
MOVED = """(SELECT c.* FROM new_rows c LEFT JOIN old_rows o ON o.id = c.id
        WHERE o.id IS NULL
           OR (c.coord_user_id, c.coord_group_id, c.path, c.parent_id, c.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type))"""

# Each tile of {0} against its parent, locked FOR SHARE. The lock makes a
# concurrent move of the parent wait for this transaction, or this one wait for
# the move and then see the parent's new path: without it two transactions could
# each pass the check and together commit a broken tree. Parents are locked in
# id order (as vde's helpers lock), so a mover and an inserter do not deadlock.
FIND_MISPLACED = f"""SELECT c.id, c.coord_user_id, c.coord_group_id, c.path,
               p.id AS parent_id, p.coord_user_id AS parent_user_id,
               p.coord_group_id AS parent_group_id, p.path AS parent_path
        FROM (SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.parent_id
              FROM {{0}} c WHERE c.parent_id IS NOT NULL ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM vde_map_items p WHERE p.id = c.parent_id OFFSET 0 FOR SHARE) p
        WHERE {MISPLACED}
        LIMIT 1"""

# A tile that changed map or path takes its children along in the same
# statement; a child left behind no longer matches its parent.
FIND_LEFT_BEHIND = f"""SELECT p.id, p.coord_user_id, p.coord_group_id, p.path,
               c.id AS child_id, c.coord_user_id AS child_user_id,
               c.coord_group_id AS child_group_id, c.path AS child_path
        FROM new_rows p JOIN old_rows o ON o.id = p.id
        CROSS JOIN LATERAL (
            SELECT c.id, c.coord_user_id, c.coord_group_id, c.path
            FROM vde_map_items c WHERE c.parent_id = p.id OFFSET 0) c
        WHERE (p.coord_user_id, p.coord_group_id, p.path)
              IS DISTINCT FROM (o.coord_user_id, o.coord_group_id, o.path)
          AND {MISPLACED}
        LIMIT 1"""

# One function for both triggers, one set-based query per check. The plan must
# not depend on statistics: planned while the table looked empty (a fresh map
# loaded in one transaction), a join of 20,000 new tiles with their parents took
# 50 s as a nested loop over all tiles. So each new or moved tile finds its
# parent (children) by a LATERAL index lookup, which OFFSET 0 keeps unflattened
# and enable_seqscan = off keeps an index scan even on a "tiny" table; EXECUTE
# sizes the transition-table joins for the statement at hand.
TREE_CHECK_FUNCTION = f"""
CREATE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $function$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE $q${FIND_MISPLACED.format("new_rows")}$q$ INTO bad;
    ELSE
        EXECUTE $q${FIND_MISPLACED.format(MOVED)}$q$ INTO bad;
    END IF;
    IF bad.id IS NOT NULL THEN
        IF bad.coord_user_id <> bad.parent_user_id
           OR bad.coord_group_id <> bad.parent_group_id THEN
            RAISE EXCEPTION
                'vde_map_items_tree_parent: tile % in map (%, %) has parent % in map (%, %)',
                bad.id, bad.coord_user_id, bad.coord_group_id,
                bad.parent_id, bad.parent_user_id, bad.parent_group_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'vde_map_items_tree_parent',
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
                  HINT = 'A tile and its parent lie in the same map.';
        END IF;
        RAISE EXCEPTION
            'vde_map_items_tree_path: tile % at path ''%'' is not one direction below its parent % at path ''%''',
            bad.id, bad.path, bad.parent_id, bad.parent_path
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'vde_map_items_tree_path',
              TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              HINT = 'A tile''s path is its parent''s path plus one direction.';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        EXECUTE $q${FIND_LEFT_BEHIND}$q$ INTO bad;
        IF bad.id IS NOT NULL THEN
            RAISE EXCEPTION
                'vde_map_items_tree_children: tile % moved to (%, %, ''%'') without its child % at (%, %, ''%'')',
                bad.id, bad.coord_user_id, bad.coord_group_id, bad.path,
                bad.child_id, bad.child_user_id, bad.child_group_id, bad.child_path
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'vde_map_items_tree_children',
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
                  HINT = 'Move a tile with its subtree in one statement '
                         '(vde.mapping.moves.move_subtree).';
        END IF;
    END IF;
    RETURN NULL;
END
$function$
"""

# squawk (`piccolo vde lint`) reads the "-- squawk-ignore" lines; each has its
# reason on the line above it. vde 0.1 ships this migration with the ones that
# create the table, so no deployed table holds rows (or clients) yet.
NO_ROWS_YET = "-- shipped with the table's creation: no live rows to scan or lock yet\n"

FORWARDS = [
    # Checked at the end of each statement, so one UPDATE can swap two subtrees;
    # ALTER CONSTRAINT cannot change a UNIQUE's deferrability (PostgreSQL 15-18).
    # Such a constraint cannot be an ON CONFLICT arbiter.
    f"{NO_ROWS_YET}-- squawk-ignore ban-drop-constraint, constraint-missing-not-valid, "
    "disallowed-unique-constraint\n"
    "ALTER TABLE vde_map_items DROP CONSTRAINT vde_map_items_coordinates_unique, "
    "ADD CONSTRAINT vde_map_items_coordinates_unique "
    "UNIQUE (coord_user_id, coord_group_id, path) DEFERRABLE INITIALLY IMMEDIATE",
    # A map's root sits at its centre.
    f"{NO_ROWS_YET}-- squawk-ignore constraint-missing-not-valid\n"
    "ALTER TABLE vde_map_items ADD CONSTRAINT vde_map_items_root_path "
    "CHECK (item_type <> 'user' OR path = '')",
    # A copy points at another tile, never at itself.
    f"{NO_ROWS_YET}-- squawk-ignore constraint-missing-not-valid\n"
    "ALTER TABLE vde_map_items ADD CONSTRAINT vde_map_items_origin_not_self "
    "CHECK (origin_id <> id)",
    # Parent in the same map, path one direction below it, children moved along.
    TREE_CHECK_FUNCTION,
    # Transition tables allow one event per trigger: two triggers, one function.
    "CREATE TRIGGER vde_map_items_tree_insert AFTER INSERT ON vde_map_items "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION vde_map_items_tree_check()",
    "CREATE TRIGGER vde_map_items_tree_update AFTER UPDATE ON vde_map_items "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION vde_map_items_tree_check()",
]

BACKWARDS = [
    "DROP TRIGGER vde_map_items_tree_update ON vde_map_items",
    "DROP TRIGGER vde_map_items_tree_insert ON vde_map_items",
    "DROP FUNCTION vde_map_items_tree_check()",
    "ALTER TABLE vde_map_items DROP CONSTRAINT vde_map_items_origin_not_self",
    "ALTER TABLE vde_map_items DROP CONSTRAINT vde_map_items_root_path",
    f"{NO_ROWS_YET}-- squawk-ignore ban-drop-constraint, constraint-missing-not-valid, "
    "disallowed-unique-constraint\n"
    "ALTER TABLE vde_map_items DROP CONSTRAINT vde_map_items_coordinates_unique, "
    "ADD CONSTRAINT vde_map_items_coordinates_unique "
    "UNIQUE (coord_user_id, coord_group_id, path)",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
