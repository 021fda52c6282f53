"""hexmap's web service: maps made with vde, tags on their tiles."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from vde.database import connection_pool
from vde.mapping import Tile, create_map
from vde.mapping.tables import MapItem
from vde.transactions import run_atomic

from hexmap.tables import TileTag


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with connection_pool(min_size=1, max_size=4):
        yield


app = FastAPI(lifespan=lifespan)


class NewMap(BaseModel):
    user_id: str
    title: str


class NewTag(BaseModel):
    tag: str


class TagRead(BaseModel):
    id: int
    tile: int
    tag: str


@app.post("/maps")
async def new_map(new: NewMap) -> Tile:
    return await run_atomic(
        lambda tx: create_map(tx, new.user_id, new.title, "Start here")
    )


@app.post("/tiles/{tile_id}/tags")
async def add_tag(tile_id: int, new: NewTag) -> TagRead:
    if not await MapItem.exists().where(MapItem.id == tile_id):
        raise HTTPException(404, f"no tile {tile_id}")
    rows = await TileTag.insert(TileTag(tile=tile_id, tag=new.tag)).returning(
        *TileTag.all_columns()
    )
    return TagRead.model_validate(rows[0])


@app.get("/tiles/{tile_id}/tags")
async def tags(tile_id: int) -> list[str]:
    rows = (
        await TileTag.select(TileTag.tag)
        .where(TileTag.tile == tile_id)
        .order_by(TileTag.tag)
    )
    return [str(row["tag"]) for row in rows]


@app.delete("/tiles/{tile_id}/tags/{tag}")
async def remove_tag(tile_id: int, tag: str) -> int:
    removed = (
        await TileTag.delete()
        .where((TileTag.tile == tile_id) & (TileTag.tag == tag))
        .returning(TileTag._meta.primary_key)
    )
    return len(removed)
