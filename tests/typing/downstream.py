"""A repository's code, as a user of vde writes it: checked by ``mypy --strict``.

It is never run. tests/typing/test_downstream.py asserts that mypy reports
exactly one error here: the deliberate typo on the line marked below. Every
other line must type-check, so vde's public API keeps its types visible.
"""

from __future__ import annotations

from vde.auth.models import SessionRead, UserRead, UserWrite
from vde.auth.queries import api_key_by_hash, session_by_token
from vde.auth.tables import User
from vde.database import PooledEngine, connection_pool
from vde.errors import TargetOccupiedError, TreeError, VdeError
from vde.llm.models import LlmJobResultRead
from vde.llm.queries import jobs_of_user
from vde.mapping.coordinates import MapCoordinates
from vde.mapping.models import BaseItemVersionRead, Tile
from vde.mapping.moves import move_subtree
from vde.mapping.queries import descendants, tile_at, versions
from vde.mapping.tables import BaseItem
from vde.mapping.versions import append_version
from vde.transactions import Tx, atomic, run_atomic


async def rename_and_move(tile: Tile, title: str) -> int:
    async def work(tx: Tx) -> int:
        item = tile.ref_item
        await BaseItem.update({BaseItem.title: title}).where(BaseItem.id == item)
        moved: int = await move_subtree(tx, tile, MapCoordinates(1, 0, "4"))
        await append_version(tx, tile.coord_user_id, item, title, "content")
        return moved

    return await run_atomic(work)


async def titles_below(db: PooledEngine, user_id: int) -> list[str]:
    tiles: list[Tile] = await descendants(db.pool, MapCoordinates.root(user_id))
    return [tile.title for tile in tiles]


async def history(tx: Tx, owner_id: int, base_item_id: int) -> list[int]:
    rows: list[BaseItemVersionRead] = await versions(tx, owner_id, base_item_id)
    return [row.version_number for row in rows]


async def signed_in_email(token: str) -> str | None:
    async with connection_pool() as db:
        session: SessionRead | None = await session_by_token(db.pool, token)
        if session is None:
            return None
        key = await api_key_by_hash(db.pool, "hash")
        if key is not None and not key.enabled:
            return None
        row = await User.select().where(User.id == session.user).first()
        user = UserRead.model_validate(row)
        email: str = user.emial  # the deliberate typo: mypy must report this line
        return email


async def create_user(user_id: str, email: str) -> None:
    write = UserWrite(id=user_id, email=email)
    async with atomic() as tx:
        await User.insert(User(**write.model_dump()))
        tile: Tile | None = await tile_at(tx.connection, MapCoordinates(1, 0, "1"))
        if tile is not None and tile.preview is None:
            try:
                await move_subtree(tx, tile, MapCoordinates(1, 0, "2"))
            except TargetOccupiedError:
                pass
            except TreeError as error:
                raise VdeError(str(error)) from error


async def newest_job(tx: Tx, user_id: str) -> LlmJobResultRead | None:
    jobs = await jobs_of_user(tx, user_id, limit=1)
    return jobs[0] if jobs else None
