"""The tree check reads the table by static queries, and a shard by dynamic ones.

A dynamic statement (``EXECUTE format(...)`` of ``TG_RELID::regclass``) is
planned each time it runs: what a shard of a distributed database (Citus)
needs, where a query naming ``vde_map_items`` from inside the shard's trigger
becomes a query of the whole cluster. One server paid for it too: a one-row
INSERT about 0.25 ms more, a one-tile move about 0.5 ms more (PostgreSQL 15,
EXPLAIN ANALYZE, minimum of 60-100 runs).

So the function looks at the relation it fired on. On ``vde_map_items``
itself (one server, or a Citus coordinator before ``piccolo vde distribute``)
it runs the static check of mapping_2026_12_03t10_05_46_407712, planned once
per session. On any other relation (a shard: ``vde_map_items_102008``) it runs
the shard-safe check of mapping_2026_12_03t13_16_37_000000. Both find the same
rows and raise the same errors; the same tree tests run on one server and on a
cluster (tests/mapping/test_tree.py, tests/citus/test_tree_on_shards.py).
Nothing else changes: the triggers, and ``distribute`` (the function is the one
Citus copies to the workers with the table).

The settings are those of the shard-safe check: both branches plan their
static queries once and keep them (``plan_cache_mode = force_generic_plan``).
BACKWARDS restores the shard-safe check alone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from vde.migration_steps import add_raw_steps, load_migration

ID = "2026-12-03T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tree check: static on the table, dynamic on a shard"

# The checks this function chooses between (those files never change).
ON_TABLE = load_migration(__file__, "mapping_2026_12_03t10_05_46_407712.py")
ON_SHARD = load_migration(__file__, "mapping_2026_12_03t13_16_37_000000.py")
SCHEMA: str = ON_TABLE.SCHEMA
assert SCHEMA == ON_SHARD.SCHEMA


def _between(text: str, start: str, end: str) -> str:
    """The part of ``text`` from the line starting ``start`` up to ``end``."""
    first = text.index(start)
    return text[first : text.index(end, first)]


def _body(function: str) -> str:
    """A check's statements: from its first IF up to where it raises."""
    return _between(
        function, "    IF TG_OP = 'INSERT' THEN", "    IF bad.rule = 'misplaced'"
    )


def _declarations(function: str) -> list[str]:
    """The variables a check declares, one per line."""
    block = _between(function, "DECLARE\n", "BEGIN\n")[len("DECLARE\n") :]
    return [line.strip() for line in block.splitlines() if line.strip()]


def _indented(body: str) -> str:
    return "".join(
        f"    {line}" if line.strip() else line for line in body.splitlines(True)
    )


DECLARATIONS = "\n    ".join(
    dict.fromkeys(
        _declarations(ON_TABLE.TREE_CHECK_FUNCTION)
        + _declarations(ON_SHARD.TREE_CHECK_FUNCTION)
    )
)
# The shard-safe check's head: its name and settings.
HEAD = _between(ON_SHARD.TREE_CHECK_FUNCTION, "\nCREATE OR REPLACE", "DECLARE\n")

TREE_CHECK_FUNCTION = f"""{HEAD}DECLARE
    {DECLARATIONS}
BEGIN
    -- On one server the trigger fires on the table; on Citus, on a shard.
    IF TG_TABLE_NAME = 'vde_map_items' THEN
{_indented(_body(ON_TABLE.TREE_CHECK_FUNCTION))}    ELSE
{_indented(_body(ON_SHARD.TREE_CHECK_FUNCTION))}    END IF;
{ON_SHARD.RAISE_FOUND}"""

FORWARDS = [TREE_CHECK_FUNCTION]
# Restores the shard-safe check alone.
BACKWARDS: list[str] = ON_SHARD.FORWARDS


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mapping", description=DESCRIPTION
    )
    return add_raw_steps(manager, FORWARDS, BACKWARDS, schema_placeholder=SCHEMA)
