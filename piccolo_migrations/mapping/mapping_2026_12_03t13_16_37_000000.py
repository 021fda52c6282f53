"""The tree check reads and writes only the relation it fired on, by the owner's keys.

On a distributed database (Citus) the trigger fires on a shard, the part of
``vde_map_items`` that holds some owners' maps; a query naming the table from
inside it became a query of the whole cluster, which Citus refuses. So each
query of the check names ``TG_RELID::regclass`` (``EXECUTE format``), the
table on one server, the shard on Citus: a tile's parent and children have its
owner, and an owner's rows lie in one shard. Parents and children are looked
up by (coord_user_id, id) and (parent_id, coord_user_id), keys a shard keeps;
a parent or child of another owner is refused by the parent foreign key
(coord_user_id, parent_id), which PostgreSQL checks before this trigger runs.

Rules, names, messages, locks and the parent-row write are those of
mapping_2026_12_03t10_05_46_407712, whose function BACKWARDS restores. The
queries are planned at each statement that moves or adds tiles (a dynamic
query is not kept), where that migration planned them once per session; an
UPDATE that changes no place, parent or type still returns after its one
static query.
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

# format() fills %1$s with TG_RELID::regclass: the relation, schema-qualified
# (the function's search_path holds no schema of vde's).
TILES = "%1$s"

# Tiles {0}: the parents whose ids and owners are in arrays {1} and {2}
# (a parent has its child's owner); written in (owner, id) order.
TOUCH = f"""UPDATE {TILES} p SET updated_at = p.updated_at
            WHERE p.coord_user_id = ANY({{1}}) AND p.id = ANY({{0}})"""
# The parents of an INSERT's rows, but those the statement inserts itself (no
# other transaction sees them before it commits).
NEW_PARENTS = """ARRAY(SELECT DISTINCT c.parent_id FROM new_rows c
                WHERE c.parent_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM new_rows s WHERE s.id = c.parent_id))"""
NEW_OWNERS = """ARRAY(SELECT DISTINCT c.coord_user_id FROM new_rows c
                WHERE c.parent_id IS NOT NULL)"""

CHECK_INSERT = f"""WITH written AS (
            {TOUCH.format(NEW_PARENTS, NEW_OWNERS)}
            RETURNING p.id, p.coord_user_id, p.coord_group_id, p.path)
        SELECT 'misplaced' AS rule, c.id, c.coord_user_id, c.coord_group_id,
               c.path, p.id AS other_id, p.coord_user_id AS other_user_id,
               p.coord_group_id AS other_group_id, p.path AS other_path
        FROM new_rows c
        JOIN (SELECT * FROM written
              UNION ALL
              SELECT s.id, s.coord_user_id, s.coord_group_id, s.path
              FROM new_rows s) p ON p.id = c.parent_id
        WHERE {MISPLACED}
        LIMIT 1"""

MOVED = """moved AS MATERIALIZED (
        SELECT n.id, n.coord_user_id, n.coord_group_id, n.path, n.parent_id,
               (n.coord_user_id, n.coord_group_id, n.path)
                   IS DISTINCT FROM (o.coord_user_id, o.coord_group_id, o.path)
                   AS relocated
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.coord_user_id, n.coord_group_id, n.path, n.parent_id, n.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type))"""

FIND_MISPLACED_UNDER_MOVED = f"""SELECT 'misplaced' AS rule, c.id, c.coord_user_id,
               c.coord_group_id, c.path, p.id AS other_id,
               p.coord_user_id AS other_user_id, p.coord_group_id AS other_group_id,
               p.path AS other_path
        FROM moved c JOIN new_rows p ON p.id = c.parent_id
        WHERE {MISPLACED}
        LIMIT 1"""

# Moved tiles under a parent the statement did not update: each against its
# parent, locked FOR SHARE in id order.
FIND_MISPLACED_UNDER_OTHERS = f"""SELECT 'misplaced' AS rule, c.id, c.coord_user_id,
               c.coord_group_id, c.path, p.id AS other_id,
               p.coord_user_id AS other_user_id, p.coord_group_id AS other_group_id,
               p.path AS other_path
        FROM (SELECT c.* FROM moved c
              WHERE c.parent_id IS NOT NULL
                AND NOT EXISTS (SELECT FROM new_rows p WHERE p.id = c.parent_id)
              ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM {TILES} p
            WHERE p.coord_user_id = c.coord_user_id AND p.id = c.parent_id
            OFFSET 0 FOR SHARE) p
        WHERE {MISPLACED}
        LIMIT 1"""

# Children a relocated tile left behind, by the (parent, owner) index.
FIND_LEFT_BEHIND = f"""SELECT 'left behind' AS rule, p.id, p.coord_user_id,
               p.coord_group_id, p.path, c.id AS other_id,
               c.coord_user_id AS other_user_id, c.coord_group_id AS other_group_id,
               c.path AS other_path
        FROM (SELECT * FROM moved WHERE relocated) p
        CROSS JOIN LATERAL (
            SELECT c.id, c.coord_user_id, c.coord_group_id, c.path
            FROM {TILES} c
            WHERE c.coord_user_id = p.coord_user_id AND c.parent_id = p.id
            OFFSET 0) c
        WHERE {MISPLACED}
        LIMIT 1"""

CHECK_UPDATE = f"""WITH {MOVED}
        ({FIND_MISPLACED_UNDER_MOVED})
        UNION ALL
        ({FIND_MISPLACED_UNDER_OTHERS})
        UNION ALL
        ({FIND_LEFT_BEHIND})
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
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    bad record;
    changed bigint;
    parents integer[];
    owners integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format($q${CHECK_INSERT}$q$, TG_RELID::regclass) INTO bad;
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
            EXECUTE format($q${TOUCH.format("$1", "$2")}$q$, TG_RELID::regclass)
            USING parents, owners;
        END IF;
        EXECUTE format($q${CHECK_UPDATE}$q$, TG_RELID::regclass) INTO bad;
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
