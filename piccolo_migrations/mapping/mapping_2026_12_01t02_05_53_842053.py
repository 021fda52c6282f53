"""The tree check function pins its search_path and names its table in full.

Without a pinned search_path, ``vde_map_items`` in the function's queries was
looked up along the caller's path, where ``pg_temp`` comes first: the
application's role could create a TEMP table of that name holding a fake
parent and commit a tile that breaks the tree. Now the function runs
with ``search_path = pg_catalog, pg_temp`` (built-ins first, temporary objects
last) and reads the table it fires on by schema and name (``TG_TABLE_SCHEMA``,
``TG_TABLE_NAME``). Only that changes: the checks and messages are those of
migration 2026-12-01T02:05:30:000000 (the tree migration's, with children
looked up by index), whose text BACKWARDS restores.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-01T02:05:53:842053"
VERSION = "1.38.0"
DESCRIPTION = "tree check function pins search_path"

# A tile's parent path, from the tile's own path (as in the tree migration).
PARENT_PATH = "CASE WHEN length({0}) = 1 THEN '' ELSE left({0}, -2) END"

MISPLACED = f"""(c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> {PARENT_PATH.format("c.path")})"""

MOVED = """(SELECT c.* FROM new_rows c LEFT JOIN old_rows o ON o.id = c.id
        WHERE o.id IS NULL
           OR (c.coord_user_id, c.coord_group_id, c.path, c.parent_id, c.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type))"""

# format() templates: %1$I.%2$I is the table the trigger fires on. new_rows and
# old_rows are the statement's transition tables, which no other name shadows.
FIND_MISPLACED = f"""SELECT c.id, c.coord_user_id, c.coord_group_id, c.path,
               p.id AS parent_id, p.coord_user_id AS parent_user_id,
               p.coord_group_id AS parent_group_id, p.path AS parent_path
        FROM (SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.parent_id
              FROM {{0}} c WHERE c.parent_id IS NOT NULL ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM %1$I.%2$I p WHERE p.id = c.parent_id OFFSET 0 FOR SHARE) p
        WHERE {MISPLACED}
        LIMIT 1"""

FIND_LEFT_BEHIND = f"""SELECT p.id, p.coord_user_id, p.coord_group_id, p.path,
               c.id AS child_id, c.coord_user_id AS child_user_id,
               c.coord_group_id AS child_group_id, c.path AS child_path
        FROM new_rows p
        CROSS JOIN LATERAL (
            SELECT c.id, c.coord_user_id, c.coord_group_id, c.path
            FROM %1$I.%2$I c WHERE c.parent_id = p.id OFFSET 0) c
        WHERE {MISPLACED}
        LIMIT 1"""

TABLE = "TG_TABLE_SCHEMA, TG_TABLE_NAME"

FORWARDS = f"""
CREATE OR REPLACE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off AS $function$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format($q${FIND_MISPLACED.format("new_rows")}$q$, {TABLE}) INTO bad;
    ELSE
        EXECUTE format($q${FIND_MISPLACED.format(MOVED)}$q$, {TABLE}) INTO bad;
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
        EXECUTE format($q${FIND_LEFT_BEHIND}$q$, {TABLE}) INTO bad;
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


def _previous_function() -> str:
    """The function as the migration before this one made it (that file never
    changes)."""
    module = load_migration(__file__, "mapping_2026_12_01t02_05_30_000000.py")
    (text,) = module.FORWARDS
    assert isinstance(text, str)
    return text


# CREATE OR REPLACE also replaces the SET options: search_path is unpinned again.
BACKWARDS = _previous_function()


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
