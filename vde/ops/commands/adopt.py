"""``piccolo vde adopt``: take over a database of the original app, losing nothing."""

from __future__ import annotations

import sys

from vde.ops.adopt import run
from vde.ops.cli import engine_or_exit


async def adopt(apply: bool = False, repair: bool = False, trust: str = "") -> None:
    """Report how a database of the original app becomes vde's; with --apply, do it.

    Without --apply it changes nothing: it prints the layout found, each table's
    rows, every repair (ids, before -> after) and every row that needs a
    decision, and exits 0 if --apply would succeed, 1 if not. --apply does it
    in one transaction under `piccolo vde migrate`'s lock: the original tables
    move to schema vde_adopt_original (kept until you drop it), vde's
    migrations build and record its schema, every row is copied with its id and
    checked before the commit. It runs no code of a role it does not trust:
    it refuses tables it reads or writes that such a role owns or that have
    triggers, rules or policies, and functions or operators such a role owns
    or may create in the schema (each named with its owner).

    :param apply: make the changes (default: report only).
    :param repair: also make the documented decisions: move each tile with a
        step outside 0-6 (or a trailing comma), with its subtree, to the lowest
        free direction under the same parent; give a tile whose parent is in
        another map the tile at its coordinates' parent; renumber versions 0 or
        duplicated; keep a duplicated sign-in identity with its oldest account.
    :param trust: roles (comma-separated) whose tables, types, functions and
        operators adopt may use as its own, as it does the running role's and
        superusers'; name only a role you would let run code as you. Triggers,
        rules and policies on the tables adopt reads or writes are refused
        whoever owns them.
    """
    if not isinstance(trust, str):
        sys.exit("--trust needs role names: --trust=ROLE[,ROLE...]")
    trusting = [name.strip() for name in trust.split(",") if name.strip()]
    engine = engine_or_exit()
    if apply:
        status = await run.apply(engine, repair, trusting)
    else:
        status = await run.report(engine, repair, trusting)
    if status:
        sys.exit(status)
