"""The report ``piccolo vde adopt`` prints: layout, counts, repairs, decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vde.ops.adopt.findings import Finding, Plan
from vde.ops.adopt.layout import ORIGINALS_SCHEMA, TABLES, Layout
from vde.ops.adopt.trust import Distrust

#: Ids printed per finding; the rest are counted.
MAX_IDS = 25


def ids_text(ids: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:MAX_IDS])
    more = len(ids) - MAX_IDS
    return shown + (f" (and {more} more)" if more > 0 else "")


def layout_lines(layout: Layout) -> list[str]:
    """The layout; its tables only once counted (no row is read before trust)."""
    lines = [
        f"Layout: {layout.kind.value} in schema {layout.schema}, "
        f"vde_base_items.{layout.content_column} holds the content",
    ]
    if not layout.counts:
        return lines
    lines.append("Tables (rows):")
    for table, rows in layout.counts.items():
        lines.append(f"  {table:<24} {rows:>9}  -> {TABLES[table]}")
    for table in layout.leftovers:
        lines.append(f"  {table:<24} {'':>9}  no place in vde: kept with the originals")
    for table, rows in layout.partial.items():
        lines.append(
            f"  {table:<24} {rows:>9}  vde's, left by an earlier `piccolo "
            "migrations forwards all`"
        )
    if layout.drizzle:
        lines.append("  schema drizzle (Drizzle's bookkeeping): left as it is")
    return lines


def _section(title: str, findings: list[Finding]) -> list[str]:
    if not findings:
        return [f"{title}: none"]
    lines = [f"{title}:"]
    for finding in findings:
        where = f" {finding.table} {ids_text(finding.ids)}" if finding.ids else ""
        lines.append(f"  [{finding.case}]{where}")
        lines.append(f"      {finding.detail}")
    return lines


def plan_lines(plan: Plan, repair: bool) -> list[str]:
    lines = _section("Repairs (lossless, made by --apply)", plan.repairs)
    lines += _section(
        "Needs a decision (--apply --repair makes the decision shown)", plan.decided
    )
    lines += _section(
        "Refused, no safe repair (--apply refuses while any is left)", plan.refused
    )
    return lines


def verdict(plan: Plan, repair: bool) -> str:
    if plan.refused:
        return (
            f"--apply would be refused: {len(plan.refused)} case(s) have no safe "
            "repair (fix those rows, then run adopt again)."
        )
    if plan.decided and not repair:
        return (
            f"--apply would be refused: {len(plan.decided)} case(s) need a "
            "decision; --apply --repair makes the ones shown."
        )
    flag = "--apply --repair" if plan.decided else "--apply"
    return (
        f"{flag} would succeed: vde's schema is built, every row copied with its "
        f"id, the originals kept in schema {ORIGINALS_SCHEMA}."
    )


def trust_lines(findings: list[Finding]) -> list[str]:
    return _section(
        "Refused: adopt runs no code of a role it does not trust (it trusts the "
        "role running it, superusers and the roles named with --trust), and "
        "reads no row while any of these is left",
        findings,
    )


def trust_verdict(distrust: Distrust, mood: str) -> str:
    """:param mood: ``would be`` (the report) or ``is`` (``--apply``)."""
    text = (
        f"--apply {mood} refused: {len(distrust.findings)} case(s) above could "
        "let another role run its code as you. Remove them, or run adopt as the "
        "tables' owner"
    )
    if distrust.roles:
        text += (
            "; only if you would let a role run code as you, name it: "
            f"--trust={','.join(distrust.roles)}"
        )
    return text + ". Triggers, rules and policies are refused whoever owns them."
