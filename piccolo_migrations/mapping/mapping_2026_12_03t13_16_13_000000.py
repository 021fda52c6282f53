"""Each base item and version gets the map owner whose tiles show it, losing nothing.

The owner (``vde_user_mapping.mapping_user_id``) is the key every map table is
split by (docs/schema.md "Map owners"): a tile shows only its own owner's
content. Content that tiles of several owners show is split:
- content shown by one owner's tiles belongs to that owner;
- content shown by several owners stays with the owner of the lowest-id tile
  showing it; every other owner gets a copy (a new id from the items'
  sequence, the same title, content, preview, link and times) with a copy of
  each of its versions (same numbers, texts and times), and that owner's tiles
  are repointed to the copy (their ``updated_at`` kept: nobody edited them);
- content no tile shows keeps owner 0, which no map owner has (ids start at 1);
- versions take their item's owner.

Backwards clears the column (the migration before this one drops it) and
keeps the copies as items of their own: no column records which item a copy
came from, and each owner may have edited their copy since, so merging them
back would have to drop one owner's edits. Items of their own, each shown by
one owner's tiles, are a state the schema before this migration holds as
well: every tile still shows the same content and history.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

ID = "2026-12-03T13:16:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill owner_id: content shown by several owners split, one copy each"

ITEMS = "vde_base_items"
VERSIONS = "vde_base_item_versions"
TILES = "vde_map_items"

FORWARDS = [
    # Statistics first: rows just copied in (adopt, a restore) have none, and
    # without them PostgreSQL plans the joins below as loops over a whole table.
    f"ANALYZE {TILES}, {ITEMS}, {VERSIONS}",
    # The owner of the lowest-id tile showing each item, all items in one pass
    # over the tiles; then the unshown ones: 0.
    f"""UPDATE {ITEMS} b SET owner_id = lowest.coord_user_id
FROM (SELECT DISTINCT ON (ref_item_id) ref_item_id, coord_user_id FROM {TILES}
      ORDER BY ref_item_id, id) lowest
WHERE b.id = lowest.ref_item_id""",
    f"UPDATE {ITEMS} SET owner_id = 0 WHERE owner_id IS NULL",
    f"""UPDATE {VERSIONS} v SET owner_id = b.owner_id
FROM {ITEMS} b WHERE b.id = v.base_item_id""",
    # One copy, with its versions, per other owner showing an item; that
    # owner's tiles show the copy. The ids are drawn first, so one statement
    # writes items, versions and tiles (foreign keys are checked at its end).
    f"""WITH copies AS MATERIALIZED (
    SELECT pairs.item_id, pairs.owner_id,
           nextval(pg_get_serial_sequence('{ITEMS}', 'id'))::int AS copy_id
    FROM (SELECT DISTINCT m.ref_item_id AS item_id, m.coord_user_id AS owner_id
          FROM {TILES} m JOIN {ITEMS} b ON b.id = m.ref_item_id
          WHERE m.coord_user_id <> b.owner_id
          ORDER BY 1, 2) pairs
), items AS (
    INSERT INTO {ITEMS}
        (id, owner_id, title, content, preview, link, created_at, updated_at)
    SELECT c.copy_id, c.owner_id, b.title, b.content, b.preview, b.link,
           b.created_at, b.updated_at
    FROM copies c JOIN {ITEMS} b ON b.id = c.item_id
    ORDER BY c.copy_id
), versions AS (
    INSERT INTO {VERSIONS}
        (owner_id, base_item_id, title, content, preview, link, version_number,
         created_at, updated_by)
    SELECT c.owner_id, c.copy_id, v.title, v.content, v.preview, v.link,
           v.version_number, v.created_at, v.updated_by
    FROM copies c JOIN {VERSIONS} v ON v.base_item_id = c.item_id
    ORDER BY c.copy_id, v.version_number
)
UPDATE {TILES} m SET ref_item_id = c.copy_id
FROM copies c
WHERE m.ref_item_id = c.item_id AND m.coord_user_id = c.owner_id""",
]

BACKWARDS = [
    f"UPDATE {VERSIONS} SET owner_id = NULL",
    f"UPDATE {ITEMS} SET owner_id = NULL",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
