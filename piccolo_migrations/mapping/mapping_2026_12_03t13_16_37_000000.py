"""The tree check reads and writes only the relation it fired on, by the owner's keys.

On a distributed database (Citus) the trigger fires on a shard, the part of
``vde_map_items`` that holds some owners' maps; a query naming the table from
inside it became a query of the whole cluster, which Citus refuses. So each
statement of the check that reads or writes tiles names ``TG_RELID::regclass``
(``EXECUTE format``): the table on one server, the shard on Citus, where a
tile's parent and children lie with it (an owner's rows lie in one shard).
Parents are found by (coord_user_id, id) and children by (parent_id,
coord_user_id), keys a shard keeps; a parent or child of another owner is
refused by the parent foreign key (coord_user_id, parent_id), which
PostgreSQL checks before this trigger runs.

A dynamic statement is planned each time it runs, so the ones that touch the
relation stay small: each takes the ids it needs in arrays and returns the
rows it read in arrays (parents written, parents locked FOR SHARE in id order,
children of relocated tiles). The checks themselves read only the transition
tables and those arrays: static queries, planned once per session
(``plan_cache_mode = force_generic_plan``; the hash joins of the migration
before stay forced, so a plan made for one row serves 20,000). An UPDATE that
changes no place, parent or type returns after one static query, as before.
A first version with the whole check dynamic cost a one-row INSERT 0.5 ms
more and a one-tile move 1 ms more (PostgreSQL 15, EXPLAIN ANALYZE of the
trigger, minimum of 100).

Rules, names, messages, locks and the parent-row write are those of
mapping_2026_12_03t10_05_46_407712, whose function BACKWARDS restores.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-03T13:16:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "tree check on the relation it fired on (a shard on Citus)"

# The migration before this one (that file never changes).
PREVIOUS = load_migration(__file__, "mapping_2026_12_03t10_05_46_407712.py")
SCHEMA: str = PREVIOUS.SCHEMA
MISPLACED: str = PREVIOUS.MISPLACED
CHANGED: str = PREVIOUS.CHANGED

# Rows read from the relation come back as arrays, one per column; a static
# query turns them into rows again.
COLUMNS = "id, coord_user_id, coord_group_id, path"
AS_ARRAYS = (
    "SELECT array_agg(id), array_agg(coord_user_id), array_agg(coord_group_id), "
    "array_agg(path), array_agg(parent_id) FROM ({0}) r"
)
AS_ROWS = (
    "unnest({0}_id, {0}_user, {0}_group, {0}_path) "
    "AS {1}(id, coord_user_id, coord_group_id, path)"
)
INTO = "{0}_id, {0}_user, {0}_group, {0}_path, unused"

# format() fills %1$s with TG_RELID::regclass: the relation, schema-qualified
# (the function's search_path holds no schema of vde's). $1: owners, $2: ids.
WRITE_PARENTS = f"""WITH r AS (
            UPDATE %1$s p SET updated_at = p.updated_at
            WHERE p.coord_user_id = ANY($1) AND p.id = ANY($2)
            RETURNING {COLUMNS}, parent_id)
        {AS_ARRAYS.format("SELECT * FROM r")}"""
LOCK_PARENTS = AS_ARRAYS.format(
    f"""SELECT {COLUMNS}, parent_id FROM %1$s p
        WHERE p.coord_user_id = ANY($1) AND p.id = ANY($2)
        ORDER BY p.id FOR SHARE"""
)
CHILDREN = AS_ARRAYS.format(
    f"""SELECT {COLUMNS}, parent_id FROM %1$s c
        WHERE c.parent_id = ANY($2) AND c.coord_user_id = ANY($1)"""
)

# The parents of an INSERT's rows, but those the statement inserts itself (no
# other transaction sees them before it commits), and their owners.
NEW_PARENTS = """SELECT array_agg(DISTINCT c.parent_id),
               array_agg(DISTINCT c.coord_user_id)
        FROM new_rows c
        WHERE c.parent_id IS NOT NULL
          AND NOT EXISTS (SELECT FROM new_rows s WHERE s.id = c.parent_id)"""

# Each new tile against its parent: a parent written above, or one of the
# statement's own rows.
CHECK_INSERT = f"""SELECT 'misplaced' AS rule, c.id, c.coord_user_id,
               c.coord_group_id, c.path, p.id AS other_id,
               p.coord_user_id AS other_user_id,
               p.coord_group_id AS other_group_id, p.path AS other_path
        FROM new_rows c
        JOIN (SELECT * FROM {AS_ROWS.format("w", "w")}
              UNION ALL
              SELECT s.id, s.coord_user_id, s.coord_group_id, s.path
              FROM new_rows s) p ON p.id = c.parent_id
        WHERE {MISPLACED}
        LIMIT 1"""

# The tiles of an UPDATE whose place in the tree changed; "relocated": its map
# or path changed (children must follow).
MOVED = """SELECT n.id, n.coord_user_id, n.coord_group_id, n.path, n.parent_id,
               (n.coord_user_id, n.coord_group_id, n.path)
                   IS DISTINCT FROM (o.coord_user_id, o.coord_group_id, o.path)
                   AS relocated
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.coord_user_id, n.coord_group_id, n.path, n.parent_id, n.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type)"""

# What the UPDATE's check needs from the relation: the parents of moved tiles
# that the statement did not update (to lock and compare), and the relocated
# tiles (whose children must have followed).
TO_READ = f"""WITH moved AS MATERIALIZED ({MOVED})
        SELECT (SELECT array_agg(DISTINCT c.parent_id) FROM moved c
                WHERE c.parent_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM new_rows p WHERE p.id = c.parent_id)),
               (SELECT array_agg(DISTINCT c.coord_user_id) FROM moved c
                WHERE c.parent_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM new_rows p WHERE p.id = c.parent_id)),
               (SELECT array_agg(m.id) FROM moved m WHERE m.relocated),
               (SELECT array_agg(DISTINCT m.coord_user_id) FROM moved m
                WHERE m.relocated)"""

# All checks in one query, in the order of the rules' errors: parents (in the
# statement, then the others, read above), then children left behind.
CHECK_UPDATE = f"""WITH moved AS MATERIALIZED ({MOVED})
        (SELECT 'misplaced' AS rule, c.id, c.coord_user_id, c.coord_group_id,
                c.path, p.id AS other_id, p.coord_user_id AS other_user_id,
                p.coord_group_id AS other_group_id, p.path AS other_path
         FROM moved c JOIN new_rows p ON p.id = c.parent_id
         WHERE {MISPLACED}
         LIMIT 1)
        UNION ALL
        (SELECT 'misplaced', c.id, c.coord_user_id, c.coord_group_id, c.path,
                p.id, p.coord_user_id, p.coord_group_id, p.path
         FROM moved c JOIN {AS_ROWS.format("o", "p")} ON p.id = c.parent_id
         WHERE {MISPLACED}
         LIMIT 1)
        UNION ALL
        (SELECT 'left behind', p.id, p.coord_user_id, p.coord_group_id, p.path,
                c.id, c.coord_user_id, c.coord_group_id, c.path
         FROM (SELECT * FROM moved WHERE relocated) p
         JOIN unnest(k_id, k_user, k_group, k_path, k_parent)
              AS c(id, coord_user_id, coord_group_id, path, parent_id)
           ON c.parent_id = p.id
         WHERE {MISPLACED}
         LIMIT 1)
        LIMIT 1"""

# The raising part of the function, unchanged.
RAISE_FOUND = PREVIOUS.TREE_CHECK_FUNCTION[
    PREVIOUS.TREE_CHECK_FUNCTION.index("    IF bad.rule = 'misplaced' THEN") :
]

TREE_CHECK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_nestloop = off
SET enable_mergejoin = off
SET jit = off
SET plan_cache_mode = force_generic_plan
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    bad record;
    changed bigint;
    parents integer[];
    owners integer[];
    relocated_ids integer[];
    relocated_owners integer[];
    unused integer[];
    w_id integer[]; w_user integer[]; w_group integer[]; w_path text[];
    o_id integer[]; o_user integer[]; o_group integer[]; o_path text[];
    k_id integer[]; k_user integer[]; k_group integer[]; k_path text[];
    k_parent integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        {NEW_PARENTS}
        INTO parents, owners;
        IF parents IS NOT NULL THEN
            EXECUTE format($q${WRITE_PARENTS}$q$, TG_RELID::regclass)
            INTO {INTO.format("w")} USING owners, parents;
        END IF;
        SELECT * INTO bad FROM ({CHECK_INSERT}) AS found;
    ELSE
        SELECT count(*),
               array_agg(DISTINCT n.parent_id) FILTER (
                   WHERE n.parent_id IS DISTINCT FROM o.parent_id
                     AND n.parent_id IS NOT NULL),
               array_agg(DISTINCT n.coord_user_id) FILTER (
                   WHERE n.parent_id IS DISTINCT FROM o.parent_id
                     AND n.parent_id IS NOT NULL)
        INTO changed, parents, owners
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE {CHANGED};
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        IF parents IS NOT NULL THEN
            EXECUTE format($q${WRITE_PARENTS}$q$, TG_RELID::regclass)
            INTO {INTO.format("w")} USING owners, parents;
        END IF;
        {TO_READ}
        INTO parents, owners, relocated_ids, relocated_owners;
        IF parents IS NOT NULL THEN
            EXECUTE format($q${LOCK_PARENTS}$q$, TG_RELID::regclass)
            INTO {INTO.format("o")} USING owners, parents;
        END IF;
        IF relocated_ids IS NOT NULL THEN
            EXECUTE format($q${CHILDREN}$q$, TG_RELID::regclass)
            INTO k_id, k_user, k_group, k_path, k_parent
            USING relocated_owners, relocated_ids;
        END IF;
        SELECT * INTO bad FROM ({CHECK_UPDATE}) AS found;
    END IF;
{RAISE_FOUND}"""

FORWARDS = [TREE_CHECK_FUNCTION]
# Restores the previous function, its table name filled in (SCHEMA).
BACKWARDS: list[str] = PREVIOUS.FORWARDS


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS, schema_placeholder=SCHEMA)
