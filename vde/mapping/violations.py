"""Which of vde's rules a database error broke, on one server and on Citus.

vde turns some refusals into its own errors (a taken coordinate into
``TargetOccupiedError``) or retries them (a tile that joined a moving subtree),
by the rule's name. On a distributed database (Citus) the name comes back as the
shard's copy of the constraint, the rule's name with ``_<shard id>`` appended
(``vde_map_items_coordinates_unique_102017``), and on some paths (a COPY,
SQLSTATE XX000) the error carries no constraint name at all, only a message
that quotes it. :func:`broken_rule` reads all three. No name in vde's schema
ends in ``_<digits>`` (tests/mapping/test_violations.py checks), so stripping
such a suffix never changes a name given on one server.
"""

from __future__ import annotations

import re

#: Appended by Citus to the names of a shard's constraints and indexes.
_SHARD_SUFFIX = re.compile(r"_\d+$")
#: How PostgreSQL's messages quote a constraint: ``... constraint "name"``.
_QUOTED = re.compile(r'constraint "([^"]+)"')
#: How the tree check's messages start: ``vde_map_items_tree_path: tile ...``.
_LEADING = re.compile(r"^(vde_[a-z0-9_]+): ")


def rule_name(name: str) -> str:
    """``name`` without the shard suffix Citus appends."""
    return _SHARD_SUFFIX.sub("", name)


def broken_rule(error: BaseException) -> str | None:
    """The name of the vde rule ``error`` reports as broken, if it names one.

    From the error's constraint name, else from its message (a constraint
    quoted in it, or the rule leading a trigger's message); None when neither
    names a rule.
    """
    name = getattr(error, "constraint_name", None)
    if isinstance(name, str) and name:
        return rule_name(name)
    message = getattr(error, "message", None)
    if not isinstance(message, str):
        message = str(error)
    found = _QUOTED.search(message) or _LEADING.match(message)
    return rule_name(found.group(1)) if found else None
