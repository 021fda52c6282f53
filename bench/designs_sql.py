"""The three other tree designs, built from vde's rows in the same database.

- ``free_map_items``: vde's table exactly (columns, checks, indexes, foreign
  keys, the deferrable coordinates unique) without the tree trigger: what the
  trigger costs is the difference.
- ``plain_map_items``: the same copy without the depth-order index:
  what that index costs writes.
- ``cl_map_items`` + ``cl_closure``: the tiles (same rows, vde's indexes but the
  depth-order one) and a closure table, one row per (ancestor, descendant,
  depth) with the tile itself at depth 0, keyed (ancestor, depth, descendant).
- ``adj_map_items``: an adjacency list: each tile knows its parent and its
  direction from it, not its path; a subtree is found by a recursive query.

Each statement returns what vde's query returns (the tile and its base item's
title, content, preview and link), in the same order (depth, then path).
"""

from __future__ import annotations

from vde.mapping import queries
from vde.mapping.tables import MapItem
from vde.sql import select_list

#: Rows of vde's table that the others copy (ids kept, so cases are shared).
TILE_COLUMNS = (
    "id, coord_user_id, coord_group_id, path, item_type, origin_id, parent_id, "
    "ref_item_id, created_at, updated_at"
)
_CONTENT = "b.title, b.content, b.preview, b.link"
#: A tile's content is its own owner's: vde's key (docs/schema.md "Keys").
CONTENT_KEY = "(coord_user_id, ref_item_id) REFERENCES vde_base_items (owner_id, id)"


def foreign_keys(table: str) -> list[str]:
    """vde's three foreign keys on a copy of its tiles, pointing into the copy.

    ``LIKE ... INCLUDING ALL`` copies the keys they reference (the primary key
    (coord_user_id, id) and UNIQUE (id)) but no foreign key.
    """
    return [
        f"ALTER TABLE {table} "
        f"ADD FOREIGN KEY (origin_id) REFERENCES {table} (id) ON DELETE SET NULL, "
        f"ADD FOREIGN KEY (coord_user_id, parent_id) "
        f"REFERENCES {table} (coord_user_id, id) ON DELETE CASCADE, "
        f"ADD FOREIGN KEY {CONTENT_KEY} ON DELETE RESTRICT"
    ]


BUILD: list[str] = [
    # -- trigger-free copy -------------------------------------------------------
    "CREATE TABLE free_map_items (LIKE vde_map_items INCLUDING ALL)",
    f"INSERT INTO free_map_items OVERRIDING SYSTEM VALUE "
    f"SELECT {TILE_COLUMNS} FROM vde_map_items ORDER BY id",
    *foreign_keys("free_map_items"),
    # The same without the depth-order index: what that index costs writes.
    "CREATE TABLE plain_map_items (LIKE free_map_items INCLUDING ALL)",
    f"INSERT INTO plain_map_items OVERRIDING SYSTEM VALUE "
    f"SELECT {TILE_COLUMNS} FROM vde_map_items ORDER BY id",
    *foreign_keys("plain_map_items"),
    # -- closure table ------------------------------------------------------------
    "CREATE TABLE cl_map_items (LIKE vde_map_items INCLUDING ALL)",
    f"INSERT INTO cl_map_items OVERRIDING SYSTEM VALUE "
    f"SELECT {TILE_COLUMNS} FROM vde_map_items ORDER BY id",
    *foreign_keys("cl_map_items"),
    # The closure design orders by its own depth column: no depth-order index.
    """DO $$ DECLARE i text; BEGIN
        FOR i IN SELECT indexname FROM pg_indexes
                 WHERE tablename IN ('cl_map_items', 'plain_map_items')
                 AND indexdef LIKE '%pattern_ops%' LOOP
            EXECUTE format('DROP INDEX %I', i);
        END LOOP; END $$""",
    "CREATE TABLE cl_closure (ancestor_id integer NOT NULL, "
    "descendant_id integer NOT NULL, depth integer NOT NULL)",
    # Every tile with itself, then each generation from its parent's links.
    """INSERT INTO cl_closure (ancestor_id, descendant_id, depth)
        WITH RECURSIVE links(ancestor_id, descendant_id, depth) AS (
            SELECT id, id, 0 FROM cl_map_items
            UNION ALL
            SELECT l.ancestor_id, t.id, l.depth + 1
            FROM links l JOIN cl_map_items t ON t.parent_id = l.descendant_id
        )
        SELECT ancestor_id, descendant_id, depth FROM links""",
    "ALTER TABLE cl_closure ADD PRIMARY KEY (ancestor_id, depth, descendant_id), "
    "ADD FOREIGN KEY (ancestor_id) REFERENCES cl_map_items (id) ON DELETE CASCADE, "
    "ADD FOREIGN KEY (descendant_id) REFERENCES cl_map_items (id) ON DELETE CASCADE",
    "CREATE INDEX cl_closure_descendant ON cl_closure (descendant_id, depth)",
    # -- adjacency list -----------------------------------------------------------
    """CREATE TABLE adj_map_items (
        id integer PRIMARY KEY,
        coord_user_id integer NOT NULL,
        coord_group_id integer NOT NULL DEFAULT 0,
        direction smallint CHECK (direction BETWEEN 0 AND 6),
        item_type varchar(50) NOT NULL,
        origin_id integer,
        parent_id integer,
        ref_item_id integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT adj_slot UNIQUE (parent_id, direction)
    )""",
    """INSERT INTO adj_map_items
        SELECT id, coord_user_id, coord_group_id,
               CASE WHEN path = '' THEN NULL ELSE right(path, 1)::smallint END,
               item_type, origin_id, parent_id, ref_item_id, created_at, updated_at
        FROM vde_map_items ORDER BY id""",
    "ALTER TABLE adj_map_items "
    "ADD FOREIGN KEY (origin_id) REFERENCES adj_map_items (id) ON DELETE SET NULL, "
    "ADD FOREIGN KEY (parent_id) REFERENCES adj_map_items (id) ON DELETE CASCADE, "
    f"ADD FOREIGN KEY {CONTENT_KEY} ON DELETE RESTRICT",
    "CREATE INDEX adj_map_items_origin_id ON adj_map_items (origin_id)",
    "CREATE INDEX adj_map_items_ref_item_id ON adj_map_items (ref_item_id)",
    "CREATE INDEX adj_map_items_roots ON adj_map_items (coord_user_id, coord_group_id) "
    "WHERE parent_id IS NULL",
    # The same state for all: indexes built once over the rows (vde's table also
    # holds the dead rows of the original-schema comparison's rolled-back writes), heap
    # vacuumed, fresh statistics.
    *(f"REINDEX TABLE {table}" for table in (
        "vde_map_items", "free_map_items", "plain_map_items", "cl_map_items",
        "cl_closure", "adj_map_items",
    )),
    "VACUUM (ANALYZE) vde_map_items, free_map_items, plain_map_items, cl_map_items, "
    "cl_closure, adj_map_items",
]

DROP = (
    "DROP TABLE IF EXISTS free_map_items, plain_map_items, cl_closure, cl_map_items, "
    "adj_map_items"
)


def on_free(sql: str, table: str = "free_map_items") -> str:
    """vde's statement on the trigger-free copy (or on ``table``)."""
    return sql.replace("vde_map_items", table)


# -- vde's statements (reads: vde.mapping.queries; writes: the workload's) --------
VDE_ANCESTORS = f"""SELECT {select_list(MapItem, "m")}, {_CONTENT}
FROM vde_map_items m JOIN vde_base_items b
    ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
WHERE m.coord_user_id = $1 AND m.coord_group_id = $2 AND m.path = ANY ($3::varchar[])
ORDER BY length(m.path) DESC"""
VDE_MOVE = """UPDATE vde_map_items
SET path = $4 || substr(path, length($3) + 1),
    parent_id = CASE WHEN path = $3 THEN $5 ELSE parent_id END,
    updated_at = now()
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $3 || '-'"""
VDE_DELETE = """DELETE FROM vde_map_items
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $3 || '-'"""
VDE_TOUCH = """UPDATE vde_map_items SET updated_at = now()
WHERE coord_user_id = $1 AND coord_group_id = $2 AND path >= $3 AND path < $3 || '-'"""

# -- closure table -----------------------------------------------------------------
_CL_COLUMNS = select_list(MapItem, "m")
#: $1: the ancestor's id; $2: LIMIT (NULL: all).
CL_DESCENDANTS = f"""WITH page AS MATERIALIZED (
    SELECT {_CL_COLUMNS}, c.depth
    FROM cl_closure c JOIN cl_map_items m ON m.id = c.descendant_id
    WHERE c.ancestor_id = $1 AND c.depth >= 1
    ORDER BY c.depth, m.path
    LIMIT $2
)
SELECT page.*, {_CONTENT}
FROM page JOIN vde_base_items b
    ON b.owner_id = page.coord_user_id AND b.id = page.ref_item_id
ORDER BY page.depth, page.path"""
CL_ANCESTORS = f"""SELECT {_CL_COLUMNS}, {_CONTENT}
FROM cl_closure c JOIN cl_map_items m ON m.id = c.ancestor_id
JOIN vde_base_items b
    ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
WHERE c.descendant_id = $1 AND c.depth >= 1
ORDER BY c.depth"""
CL_CHILDREN = queries.CHILDREN_SQL.replace("vde_map_items", "cl_map_items")
#: $1 subtree root, $2 new parent, $3 old path, $4 new path: the tiles' new
#: coordinates, then the closure's links to the old ancestors out and to the
#: new ones in.
CL_MOVE = [
    """UPDATE cl_map_items
    SET path = $4 || substr(path, length($3) + 1),
        parent_id = CASE WHEN id = $1 THEN $2 ELSE parent_id END,
        updated_at = now()
    WHERE id IN (SELECT descendant_id FROM cl_closure WHERE ancestor_id = $1)""",
    """DELETE FROM cl_closure
    WHERE descendant_id IN (SELECT descendant_id FROM cl_closure WHERE ancestor_id = $1)
      AND ancestor_id NOT IN (SELECT descendant_id FROM cl_closure
                              WHERE ancestor_id = $1)""",
    """INSERT INTO cl_closure (ancestor_id, descendant_id, depth)
    SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1
    FROM cl_closure a JOIN cl_closure d ON d.ancestor_id = $1
    WHERE a.descendant_id = $2""",
]
CL_DELETE = """DELETE FROM cl_map_items
WHERE id IN (SELECT descendant_id FROM cl_closure WHERE ancestor_id = $1)"""

# -- adjacency list ----------------------------------------------------------------
_ADJ_COLUMNS = (
    "m.id, m.coord_user_id, m.coord_group_id, {path} AS path, m.item_type, "
    "m.origin_id, m.parent_id, m.ref_item_id, m.created_at, m.updated_at"
)
#: $1: the subtree's root; $2: LIMIT (NULL: all). Paths are rebuilt from the
#: directions on the way down (relative to $1: same order as vde's).
ADJ_DESCENDANTS = f"""WITH RECURSIVE sub(id, depth, path) AS (
    SELECT id, 0, ''::text COLLATE "C" FROM adj_map_items WHERE id = $1
    UNION ALL
    SELECT c.id, s.depth + 1,
           CASE WHEN s.depth = 0 THEN c.direction::text
                ELSE s.path || ',' || c.direction END
    FROM sub s JOIN adj_map_items c ON c.parent_id = s.id
), page AS MATERIALIZED (
    SELECT id, depth, path FROM sub WHERE depth >= 1 ORDER BY depth, path LIMIT $2
)
SELECT {_ADJ_COLUMNS.format(path="page.path")}, {_CONTENT}
FROM page JOIN adj_map_items m ON m.id = page.id
JOIN vde_base_items b
    ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
ORDER BY page.depth, page.path"""
ADJ_ANCESTORS = f"""WITH RECURSIVE up(id, parent_id, steps) AS (
    SELECT id, parent_id, 0 FROM adj_map_items WHERE id = $1
    UNION ALL
    SELECT p.id, p.parent_id, up.steps + 1
    FROM up JOIN adj_map_items p ON p.id = up.parent_id
)
SELECT {_ADJ_COLUMNS.format(path="m.direction::text")}, {_CONTENT}
FROM up JOIN adj_map_items m ON m.id = up.id
JOIN vde_base_items b
    ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
WHERE up.steps >= 1
ORDER BY up.steps"""
ADJ_CHILDREN = f"""SELECT {_ADJ_COLUMNS.format(path="m.direction::text")}, {_CONTENT}
FROM adj_map_items m JOIN vde_base_items b
    ON b.owner_id = m.coord_user_id AND b.id = m.ref_item_id
WHERE m.parent_id = $1
ORDER BY m.direction"""
#: A subtree moves with its root: one row.
ADJ_MOVE = """UPDATE adj_map_items
SET parent_id = $2, direction = $3, updated_at = now()
WHERE id = $1"""
ADJ_DELETE = "DELETE FROM adj_map_items WHERE id = $1"
