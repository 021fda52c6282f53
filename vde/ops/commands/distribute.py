"""``piccolo vde distribute``: the map tables over a Citus cluster's workers."""

from __future__ import annotations

import sys

from vde.ops.cli import engine_or_exit
from vde.ops.distribute import DistributeRefused
from vde.ops.distribute import distribute as distribute_database


async def distribute(apply: bool = False, shard_count: int = 0) -> None:
    """Print the plan for distributing the database on Citus; --apply does it.

    On a Citus coordinator with workers: the map tables (tiles, content,
    versions) are spread over the workers by their owner and co-located, the
    other tables stay on the coordinator; the plan names each table's place
    and each key, identity and trigger it changes, and nothing is changed.
    With --apply all of it runs in one transaction (a failure changes
    nothing); a second run says it is done. Run `piccolo vde migrate` first.
    docs/scale-out.md tells why each table lives where it does.

    :param apply: do it (one transaction), instead of printing the plan only.
    :param shard_count: shards per distributed table, 1 to 64000; 0: Citus's
        citus.shard_count (32 unless the server sets it).
    """
    engine = engine_or_exit()
    try:
        lines = await distribute_database(engine.config, apply, shard_count)
    except DistributeRefused as refused:
        sys.exit(f"Nothing was changed: {refused}")
    for line in lines:
        print(line)
