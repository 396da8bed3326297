"""A FastAPI service holding one AsyncQdrantClient for its lifetime.

    QDRANT_URL=http://127.0.0.1:6333 uvicorn examples.fastapi_app:app     # a server
    uvicorn examples.fastapi_app:app                                     # the embedded engine

Every request's ``x-request-id`` is carried to Qdrant with ``aqdrant.request_headers`` (a
contextvar), so the id shows up in the server's logs next to the query it caused.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import aqdrant
from aqdrant import AsyncQdrantClient, models

COLLECTION = os.environ.get("QDRANT_COLLECTION", "items")
DIM = int(os.environ.get("QDRANT_DIM", "4"))


class Item(BaseModel):
    id: int
    vector: list[float]
    payload: dict[str, Any] = {}


class SearchIn(BaseModel):
    vector: list[float]
    limit: int = 5
    tag: str | None = None


def make_app(location: str | None = None, url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = AsyncQdrantClient(url=url) if url else AsyncQdrantClient(location or ":memory:")
        async with client:
            if not await client.collection_exists(COLLECTION):
                await client.create_collection(
                    COLLECTION, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE)
                )
            app.state.qdrant = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        with aqdrant.request_headers({"x-request-id": rid}):
            response = await call_next(request)
        response.headers["x-request-id"] = rid
        return response

    @app.exception_handler(aqdrant.ValidationError)
    async def invalid(request: Request, exc: aqdrant.ValidationError) -> JSONResponse:
        # Caught before anything was sent: the caller's fault, and the message says which point.
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(aqdrant.UnexpectedResponse)
    async def upstream(request: Request, exc: aqdrant.UnexpectedResponse) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=502)

    @app.put("/items")
    async def upsert(items: list[Item], request: Request) -> dict[str, Any]:
        client: AsyncQdrantClient = request.app.state.qdrant
        res = await client.upsert(
            COLLECTION,
            points=[models.PointStruct(id=i.id, vector=i.vector, payload=i.payload) for i in items],
            timeout=5.0,
        )
        return {"status": str(res.status), "count": len(items)}

    @app.post("/search")
    async def search(body: SearchIn, request: Request) -> list[dict[str, Any]]:
        client: AsyncQdrantClient = request.app.state.qdrant
        flt = None
        if body.tag is not None:
            flt = models.Filter(must=[models.FieldCondition(key="tag", match=models.MatchValue(value=body.tag))])
        res = await client.query_points(
            COLLECTION, query=body.vector, query_filter=flt, limit=body.limit, timeout=2.0
        )
        return [{"id": p.id, "score": p.score, "payload": p.payload} for p in res.points]

    return app


app = make_app(url=os.environ.get("QDRANT_URL"))
