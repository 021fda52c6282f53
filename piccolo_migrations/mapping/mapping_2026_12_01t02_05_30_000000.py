"""The tree check's "children moved along" query stays linear in the tiles moved.

The tree check of mapping_2026_11_26t17_35_14_090003 joined the UPDATE's
new and old transition tables to find the tiles that changed place, under
``LIMIT 1``: the planner chose a nested loop over both tuplestores, so moving a
20,000-tile subtree took 36 s in the trigger (0.5 s without it; PostgreSQL 15,
bench/operations.py). The children of EVERY updated tile are now looked up by
the parent_id index instead: a child can only be left out of place by a tile
that moved, and an unmoved tile's children are where they were. Same rule, same
error (``vde_map_items_tree_children``); one index lookup per updated tile.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-01T02:05:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "tree check: children-left-behind query linear in the tiles moved"

FORWARDS = [
    # Replaces the function body only; the triggers keep calling it.
    """CREATE OR REPLACE FUNCTION vde_map_items_tree_check() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $function$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE $q$SELECT c.id, c.coord_user_id, c.coord_group_id, c.path,
               p.id AS parent_id, p.coord_user_id AS parent_user_id,
               p.coord_group_id AS parent_group_id, p.path AS parent_path
        FROM (SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.parent_id
              FROM new_rows c WHERE c.parent_id IS NOT NULL ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM vde_map_items p WHERE p.id = c.parent_id OFFSET 0 FOR SHARE) p
        WHERE (c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END)
        LIMIT 1$q$ INTO bad;
    ELSE
        EXECUTE $q$SELECT c.id, c.coord_user_id, c.coord_group_id, c.path,
               p.id AS parent_id, p.coord_user_id AS parent_user_id,
               p.coord_group_id AS parent_group_id, p.path AS parent_path
        FROM (SELECT c.id, c.coord_user_id, c.coord_group_id, c.path, c.parent_id
              FROM (SELECT c.* FROM new_rows c LEFT JOIN old_rows o ON o.id = c.id
        WHERE o.id IS NULL
           OR (c.coord_user_id, c.coord_group_id, c.path, c.parent_id, c.item_type)
              IS DISTINCT FROM
              (o.coord_user_id, o.coord_group_id, o.path, o.parent_id, o.item_type)) c WHERE c.parent_id IS NOT NULL ORDER BY c.parent_id) c
        CROSS JOIN LATERAL (
            SELECT p.id, p.coord_user_id, p.coord_group_id, p.path
            FROM vde_map_items p WHERE p.id = c.parent_id OFFSET 0 FOR SHARE) p
        WHERE (c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END)
        LIMIT 1$q$ INTO bad;
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
        EXECUTE $q$SELECT p.id, p.coord_user_id, p.coord_group_id, p.path,
               c.id AS child_id, c.coord_user_id AS child_user_id,
               c.coord_group_id AS child_group_id, c.path AS child_path
        FROM new_rows p
        CROSS JOIN LATERAL (
            SELECT c.id, c.coord_user_id, c.coord_group_id, c.path
            FROM vde_map_items c WHERE c.parent_id = p.id OFFSET 0) c
        WHERE (c.coord_user_id <> p.coord_user_id
           OR c.coord_group_id <> p.coord_group_id
           OR c.path = ''
           OR p.path <> CASE WHEN length(c.path) = 1 THEN '' ELSE left(c.path, -2) END)
        LIMIT 1$q$ INTO bad;
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
""",
]


def _tree_migration_function() -> str:
    """The function as the tree migration created it (that file never changes)."""
    module = load_migration(__file__, "mapping_2026_11_26t17_35_14_090003.py")
    text: str = module.TREE_CHECK_FUNCTION
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


BACKWARDS = [_tree_migration_function()]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
