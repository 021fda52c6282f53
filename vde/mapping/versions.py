"""A base item's numbered versions: the next number, and appending one.

Versions are numbered 1, 2, 3, ... per base item. "max + 1" read by two
transactions at once gives both the same number: one then fails on
vde_base_item_versions_number_unique. So the item's row is locked first
(``FOR NO KEY UPDATE``: it queues writers of the same item one behind the
other, yet lets tiles keep pointing at the item meanwhile); the next statement
then sees every version committed before the lock was granted, so numbers come
out without gaps or errors, and no retry is needed. This relies on READ
COMMITTED (asyncpg's default); under REPEATABLE READ a late writer would still
read the old maximum and fail on the unique constraint. ``update_content``
(``vde.mapping.content``) and :func:`append_version` both number this way.
docs/usage.md ("History") tells which to use.
"""

from __future__ import annotations

from vde.mapping.arguments import (
    check_id,
    check_map_number,
    check_optional_text,
    check_text,
)
from vde.mapping.table_names import BASE_ITEM_VERSIONS, BASE_ITEMS, next_id
from vde.transactions import Executor, transaction_of

#: The number of base item $1's next version, its owner the parameter
#: ``{owner}`` (``.format`` it); its row must be locked first.
NEXT_VERSION_NUMBER = f"""(SELECT coalesce(max(v.version_number), 0) + 1
            FROM {BASE_ITEM_VERSIONS} v
            WHERE v.owner_id = {{owner}} AND v.base_item_id = $1)"""
#: The id of a new version, drawn first by a statement that reads no table: a
#: server sharded by owner draws it where the sequence lives and then runs the
#: INSERT, id in hand, on the owner's shard alone, committing in one phase.
DRAW_VERSION_ID_SQL = f"SELECT {next_id(BASE_ITEM_VERSIONS)}"

_LOCK_ITEM = (
    f"SELECT 1 FROM {BASE_ITEMS} WHERE owner_id = $1 AND id = $2 FOR NO KEY UPDATE"
)
#: A sharded server refuses a subquery in an INSERT's VALUES, so the number is
#: read on its own, after the lock.
_NEXT_NUMBER = f"""
SELECT coalesce(max(version_number), 0) + 1 FROM {BASE_ITEM_VERSIONS}
WHERE owner_id = $1 AND base_item_id = $2
"""

_APPEND = f"""
INSERT INTO {BASE_ITEM_VERSIONS}
    (id, owner_id, base_item_id, title, content, preview, link, version_number,
     updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def append_version(
    executor: Executor,
    owner_id: int,
    base_item_id: int,
    title: str,
    content: str,
    preview: str | None = None,
    link: str | None = None,
    updated_by: str | None = None,
) -> int:
    """Store the next version of base item ``base_item_id`` of map owner
    ``owner_id``; return its number.

    For imports of an existing history: the snapshot given becomes the next
    version and the item itself is left as it is (``update_content`` is the
    edit that keeps history's meaning). The owner comes first, as in the
    reads (``vde.mapping.queries.versions``). Runs in a savepoint of
    ``executor``'s transaction (a pool: a transaction of its own); the lock
    is held until the outermost transaction ends. An unknown item fails with
    PostgreSQL's ``ForeignKeyViolationError``, and so does an item of another
    owner.
    """
    check_map_number("owner_id", owner_id)
    check_id("base_item_id", base_item_id)
    check_text("title", title)
    check_text("content", content)
    check_optional_text("preview", preview)
    check_optional_text("link", link)
    check_optional_text("updated_by", updated_by)
    async with transaction_of(executor) as conn:
        await conn.execute(_LOCK_ITEM, owner_id, base_item_id)
        number: int = await conn.fetchval(_NEXT_NUMBER, owner_id, base_item_id)
        version_id = await conn.fetchval(DRAW_VERSION_ID_SQL)
        await conn.execute(
            _APPEND,
            version_id,
            owner_id,
            base_item_id,
            title,
            content,
            preview,
            link,
            number,
            updated_by,
        )
        return number
