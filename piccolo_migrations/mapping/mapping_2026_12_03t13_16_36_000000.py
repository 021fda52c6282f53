"""The map owner in every key of the map tables.

A map's tiles, content and history are read and written together, by owner:
with the owner leading each key, a distributed database (Citus, split by
owner) keeps every key and foreign key inside one node, and one server finds
rows by the same keys (docs/schema.md "Keys"):
- primary keys (coord_user_id, id) on tiles, (owner_id, id) on base items and
  versions;
- UNIQUE (id) on tiles, for the origin foreign key (a copy may point into
  another owner's map; ``piccolo vde distribute`` drops both);
- parent (coord_user_id, parent_id) -> tiles (coord_user_id, id) CASCADE and
  content (coord_user_id, ref_item_id) -> base items (owner_id, id) RESTRICT:
  a tile's parent and content are its own owner's;
- versions (owner_id, base_item_id) -> base items (owner_id, id) CASCADE, and
  UNIQUE (owner_id, base_item_id, version_number), which also indexes that
  key.
The foreign keys and the unique constraint keep their names (a violation names
the same rule as before). The indexes of the parent and content keys keep
their names too (Piccolo's snapshot knows them by name) and hold both columns
of their key, the owner second: a tile's children and the tiles showing an
item are found by (parent_id, coord_user_id) and (ref_item_id, coord_user_id),
and a query of an owner's tiles keeps the coordinates index (with the owner
first, PostgreSQL read a whole owner's tiles through these smaller indexes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps

ID = "2026-12-03T13:16:36:000000"
VERSION = "1.38.0"
DESCRIPTION = "keys lead with the map owner: primary, parent, content, versions"

ITEMS = "vde_base_items"
VERSIONS = "vde_base_item_versions"
TILES = "vde_map_items"

# squawk (`piccolo vde lint`) reads the "-- squawk-ignore" lines; each has its
# reason on the line above it.
REBUILT = (
    "-- the key is rebuilt in this transaction: clients see the table before or after\n"
)
# CONCURRENTLY cannot run inside the migration's transaction.
INDEX = (
    "-- CONCURRENTLY cannot run inside the migration's transaction\n"
    "-- squawk-ignore require-concurrent-index-creation\n"
)
CONSTRAINT = (
    f"{REBUILT}-- squawk-ignore constraint-missing-not-valid, "
    "disallowed-unique-constraint, adding-serial-primary-key-field\n"
)


def add_key(table: str, name: str, columns: str, kind: str = "PRIMARY KEY") -> str:
    return f"{CONSTRAINT}ALTER TABLE {table} ADD CONSTRAINT {name} {kind} ({columns})"


def add_fk(table: str, name: str, columns: str, target: str, action: str) -> str:
    return (
        f"{REBUILT}-- squawk-ignore constraint-missing-not-valid, "
        "adding-foreign-key-constraint\n"
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
        f"REFERENCES {target} ON UPDATE NO ACTION ON DELETE {action}"
    )


def drop(table: str, name: str) -> str:
    return (
        f"{REBUILT}-- squawk-ignore ban-drop-constraint\n"
        f"ALTER TABLE {table} DROP CONSTRAINT {name}"
    )


def reindex(name: str, table: str, columns: str) -> list[str]:
    return [
        "-- CONCURRENTLY cannot run inside the migration's transaction\n"
        f"-- squawk-ignore require-concurrent-index-deletion\nDROP INDEX {name}",
        f"{INDEX}CREATE INDEX {name} ON {table} ({columns})",
    ]


# Foreign keys first: each depends on the key it references.
FOREIGN_KEYS = [
    (VERSIONS, "vde_base_item_versions_base_item_id_fkey"),
    (TILES, "vde_map_items_ref_item_id_fkey"),
    (TILES, "vde_map_items_parent_id_fkey"),
    (TILES, "vde_map_items_origin_id_fkey"),
]
PRIMARY_KEYS = [
    (ITEMS, "vde_base_items_pkey"),
    (VERSIONS, "vde_base_item_versions_pkey"),
    (TILES, "vde_map_items_pkey"),
]
NUMBER_UNIQUE = "vde_base_item_versions_number_unique"

FORWARDS = [
    *(drop(table, name) for table, name in FOREIGN_KEYS),
    *(drop(table, name) for table, name in PRIMARY_KEYS),
    drop(VERSIONS, NUMBER_UNIQUE),
    add_key(ITEMS, "vde_base_items_pkey", "owner_id, id"),
    add_key(VERSIONS, "vde_base_item_versions_pkey", "owner_id, id"),
    add_key(TILES, "vde_map_items_pkey", "coord_user_id, id"),
    add_key(TILES, "vde_map_items_id_unique", "id", "UNIQUE"),
    add_key(
        VERSIONS, NUMBER_UNIQUE, "owner_id, base_item_id, version_number", "UNIQUE"
    ),
    *reindex("vde_map_items_parent_id", TILES, "parent_id, coord_user_id"),
    *reindex("vde_map_items_ref_item_id", TILES, "ref_item_id, coord_user_id"),
    add_fk(
        VERSIONS,
        "vde_base_item_versions_base_item_id_fkey",
        "owner_id, base_item_id",
        f"{ITEMS} (owner_id, id)",
        "CASCADE",
    ),
    add_fk(
        TILES,
        "vde_map_items_ref_item_id_fkey",
        "coord_user_id, ref_item_id",
        f"{ITEMS} (owner_id, id)",
        "RESTRICT",
    ),
    add_fk(
        TILES,
        "vde_map_items_parent_id_fkey",
        "coord_user_id, parent_id",
        f"{TILES} (coord_user_id, id)",
        "CASCADE",
    ),
    add_fk(
        TILES, "vde_map_items_origin_id_fkey", "origin_id", f"{TILES} (id)", "SET NULL"
    ),
]

BACKWARDS = [
    *(drop(table, name) for table, name in FOREIGN_KEYS),
    *(drop(table, name) for table, name in PRIMARY_KEYS),
    drop(TILES, "vde_map_items_id_unique"),
    drop(VERSIONS, NUMBER_UNIQUE),
    add_key(ITEMS, "vde_base_items_pkey", "id"),
    add_key(VERSIONS, "vde_base_item_versions_pkey", "id"),
    add_key(TILES, "vde_map_items_pkey", "id"),
    add_key(VERSIONS, NUMBER_UNIQUE, "base_item_id, version_number", "UNIQUE"),
    *reindex("vde_map_items_parent_id", TILES, "parent_id"),
    *reindex("vde_map_items_ref_item_id", TILES, "ref_item_id"),
    add_fk(
        VERSIONS,
        "vde_base_item_versions_base_item_id_fkey",
        "base_item_id",
        f"{ITEMS} (id)",
        "CASCADE",
    ),
    add_fk(
        TILES,
        "vde_map_items_ref_item_id_fkey",
        "ref_item_id",
        f"{ITEMS} (id)",
        "RESTRICT",
    ),
    add_fk(
        TILES, "vde_map_items_parent_id_fkey", "parent_id", f"{TILES} (id)", "CASCADE"
    ),
    add_fk(
        TILES, "vde_map_items_origin_id_fkey", "origin_id", f"{TILES} (id)", "SET NULL"
    ),
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS)
