"""Append the next version of a base item, safely under concurrent editors.

"max + 1" read by two transactions at once gives both the same number: one then
fails on vde_base_item_versions_number_unique. So the item's row is locked first
(``FOR NO KEY UPDATE``: it queues appenders of the same item one behind the
other, yet lets tiles keep pointing at the item meanwhile); the next statement
then sees every version committed before the lock was granted, so numbers come
out 1, 2, 3, ... without gaps or errors, and no retry is needed. This relies
on READ COMMITTED (asyncpg's default); under REPEATABLE READ a late appender
would still read the old maximum and fail on the unique constraint.
"""

from __future__ import annotations

from vde.mapping.arguments import check_id, check_optional_text, check_text
from vde.transactions import Executor, transaction_of

_LOCK_ITEM = "SELECT 1 FROM vde_base_items WHERE id = $1 FOR NO KEY UPDATE"

_APPEND = """
INSERT INTO vde_base_item_versions
    (base_item_id, title, content, preview, link, version_number, updated_by)
SELECT $1, $2, $3, $4, $5, coalesce(max(version_number), 0) + 1, $6
FROM vde_base_item_versions WHERE base_item_id = $1
RETURNING version_number
"""


async def append_version(
    executor: Executor,
    base_item_id: int,
    title: str,
    content: str,
    preview: str | None = None,
    link: str | None = None,
    updated_by: str | None = None,
) -> int:
    """Store the next version of ``base_item_id``; return its number.

    Runs in a savepoint of ``executor``'s transaction (a pool: a transaction of
    its own); the lock is held until the outermost transaction ends. An unknown
    item fails with PostgreSQL's ``ForeignKeyViolationError``.
    """
    check_id("base_item_id", base_item_id)
    check_text("title", title)
    check_text("content", content)
    check_optional_text("preview", preview)
    check_optional_text("link", link)
    check_optional_text("updated_by", updated_by)
    async with transaction_of(executor) as conn:
        await conn.execute(_LOCK_ITEM, base_item_id)
        number: int = await conn.fetchval(
            _APPEND, base_item_id, title, content, preview, link, updated_by
        )
        return number
