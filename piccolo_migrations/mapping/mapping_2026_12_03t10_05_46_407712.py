"""A new child writes its parent's row, so REPEATABLE READ cannot break the tree.

At REPEATABLE READ and SERIALIZABLE a statement reads from the snapshot its
transaction took at its first statement. The check of
mapping_2026_12_01t03_45_01_000000 looked for the children a moved tile left
behind in that snapshot, and only locked a new child's parent FOR SHARE. A
transaction that moved tile X after another one had added a child under X and
committed (after the mover's snapshot) saw no child, and both committed: the
child stayed at X's old path. A row lock left by a committed transaction does
not stop a later UPDATE of the row, at any isolation level; a newer version of
the row does (REPEATABLE READ and SERIALIZABLE raise serialization_failure,
40001, "could not serialize access due to concurrent update"). SERIALIZABLE's
predicate locks caught the race only when both transactions were SERIALIZABLE;
a SERIALIZABLE mover against a READ COMMITTED adder broke the tree too.

So whoever gives a tile a new child now writes the parent's row, keeping its
values (``updated_at = updated_at``: a new version, nothing changes): the tree
check does it for the parents of an INSERT's rows, and for the new parents of
an UPDATE's rows whose ``parent_id`` changed, and checks the rows against the
versions it wrote. A move, swap or delete of that parent by a transaction whose
snapshot does not show the child then meets the newer version and fails with
40001 (``run_atomic`` runs it again, with a snapshot that shows the child); at
READ COMMITTED it waits and then sees the child, as before. The other way
round, the child's writer meets the mover's version: 40001, or at READ
COMMITTED the parent's new place (``vde_map_items_tree_path``). No write is
needed for a tile that keeps its parent (whoever moves or deletes the parent
saw it as a child and writes its row too), nor for a parent the same INSERT
inserts (no other transaction sees it before it commits).

What it costs: the write takes the parent's FOR NO KEY UPDATE lock until
commit, so two transactions adding children under one parent queue (at
REPEATABLE READ the second one then fails with 40001), where FOR SHARE let them
run side by side; the role that inserts tiles needs UPDATE on the table (the
function runs with the caller's rights; ``piccolo vde app_role`` grants it). A
one-row insert takes about 0.08 ms more (PostgreSQL 18, ``python -m
bench.parent_write``). The parents are written in id order
(``enable_bitmapscan = off`` keeps the scan of ``id = ANY(...)`` in index
order), by a query without parameters, planned once per session. The write
fires this trigger again for the parents' UPDATE, where no place changed: it
writes and checks nothing. Rules, names and messages are those of the
migration before, whose function BACKWARDS restores.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-03T10:05:46:407712"
VERSION = "1.38.0"
DESCRIPTION = "tree check: a new child writes its parent, for REPEATABLE READ"

# The migration before this one (that file never changes).
PREVIOUS = load_migration(__file__, "mapping_2026_12_01t03_45_01_000000.py")
# The table, schema-qualified: SCHEMA is replaced by the migration's schema.
SCHEMA: str = PREVIOUS.SCHEMA
TILES: str = PREVIOUS.TILES
MISPLACED: str = PREVIOUS.MISPLACED
# The previous check of an UPDATE's moved tiles, unchanged: parents in the
# statement, other parents FOR SHARE, children left behind.
CHECK_UPDATE: str = PREVIOUS.CHECK_UPDATE

# Whether place, parent or type of an UPDATE's tile changed.
CHANGED = """(n.coord_user_id, n.coord_group_id, n.path, n.parent_id, n.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type)"""

# Write parents {0} (a new version with the same values); the INSERT's check
# compares its rows with the versions this returns.
TOUCH = f"""UPDATE {TILES} p SET updated_at = p.updated_at
            WHERE p.id = ANY({{0}})"""
# The parents of an INSERT's rows, but those the statement inserts itself (no
# other transaction sees them before it commits), in the query itself: a query
# without parameters is planned once per session (with the array in a
# variable, PostgreSQL planned it again at every statement: twice the cost).
NEW_PARENTS = """ARRAY(SELECT DISTINCT c.parent_id FROM new_rows c
                WHERE c.parent_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM new_rows s WHERE s.id = c.parent_id))"""

# Each new tile against its parent: a parent written above, or one of the
# statement's own rows.
CHECK_INSERT = f"""WITH written AS (
            {TOUCH.format(NEW_PARENTS)}
            RETURNING p.id, p.coord_user_id, p.coord_group_id, p.path)
        SELECT 'misplaced' AS rule, c.id, c.coord_user_id, c.coord_group_id,
               c.path, p.id AS other_id, p.coord_user_id AS other_user_id,
               p.coord_group_id AS other_group_id, p.path AS other_path
        INTO bad
        FROM new_rows c
        JOIN (SELECT * FROM written
              UNION ALL
              SELECT s.id, s.coord_user_id, s.coord_group_id, s.path
              FROM new_rows s) p ON p.id = c.parent_id
        WHERE {MISPLACED}
        LIMIT 1"""

TREE_CHECK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    bad record;
    changed bigint;
    parents integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {CHECK_INSERT};
    ELSE
        SELECT count(*), array_agg(DISTINCT n.parent_id) FILTER (
                   WHERE n.parent_id IS DISTINCT FROM o.parent_id
                     AND n.parent_id IS NOT NULL)
        INTO changed, parents
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE {CHANGED};
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        IF parents IS NOT NULL THEN
            {TOUCH.format("parents")};
        END IF;
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

# Both run with SCHEMA filled in (below).
FORWARDS = [TREE_CHECK_FUNCTION]
# CREATE OR REPLACE also replaces the SET options: enable_bitmapscan goes again.
BACKWARDS: list[str] = PREVIOUS.FORWARDS


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS, schema_placeholder=SCHEMA)
