"""The tree rules on a distributed database: the single server's tree tests
(tests/mapping/test_tree.py) rerun here.

On one server the tree check reads the table by static statements; on a shard
it reads the shard it fired on by dynamic ones (the function chooses by the
relation). Both must refuse the same writes with the same errors and accept
the same patterns, and each refused write leaves the shards as they were.

A worker's error reaches the client with its class and the constraint's name,
the name carrying the shard's suffix, or, from a statement the coordinator
runs in pieces (INSERT ... SELECT), as XX000 with only the message; vde reads
the rule from either (``vde.mapping.violations.broken_rule``), and so does this
module's ``rejects``.

Not rerun, each for a reason of the cluster's, not of the check's:
- an UPDATE of a tile's owner, which Citus refuses before any rule
  ("modifying the partition value of rows is not allowed"; vde never sends one);
- the raw level-by-level copy (INSERT ... SELECT joining tiles by id alone,
  which Citus refuses: vde's copies join by owner and id);
- the two tests that watch a writer wait for a row lock (on a cluster it waits
  on a worker, out of the coordinator's sight), and the concurrent writers
  taking one coordinate, which assert the raw error's class: the races run on
  the cluster in tests/citus/test_races_on_shards.py and
  test_moves_on_shards.py, through vde's operations;
- two refusals that read the error's constraint or table field, which a
  worker's error may lack (XX000): each refusal's rule is asserted here by
  the other tests, and in test_moves_on_shards.py by ``broken_rule``.
"""

from __future__ import annotations

import asyncpg
import pytest
from asyncpg.exceptions import InternalServerError

from tests.conftest import Rejects, rejecting
from tests.mapping.test_tree import (  # noqa: F401 (fixtures and tests rerun)
    branch,
    other_root,
    owner_two_root,
    test_child_of_a_tile_inserted_by_the_same_statement_is_checked,
    test_content_updates_of_every_tile_are_accepted,
    test_moving_a_tile_to_another_map_without_its_children_is_refused,
    test_moving_a_tile_without_its_children_is_refused,
    test_parent_in_another_owners_map_is_refused_by_the_parent_key,
    test_path_not_below_the_parent_is_refused,
    test_path_two_levels_below_the_parent_is_refused,
    test_reparenting_into_another_map_without_moving_is_refused,
    test_seed_one_update_move_is_accepted,
    test_tile_copied_from_itself_is_refused,
    test_user_root_off_the_centre_is_refused,
)
from vde.mapping.violations import broken_rule


def rule_on_a_shard(
    found: asyncpg.PostgresError,
    error: type[asyncpg.PostgresError],
    constraint: str | None,
    column: str | None,
) -> None:
    """The class named, or a worker's XX000, and the rule as vde reads it."""
    assert type(found) in (error, InternalServerError), found
    assert broken_rule(found) == constraint, found


@pytest.fixture
def rejects(vde_conn: asyncpg.Connection) -> Rejects:
    """tests/conftest.py's ``rejects``, reading the rule as vde does on a shard."""
    return rejecting(vde_conn, rule_on_a_shard)
