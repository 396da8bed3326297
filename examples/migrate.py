"""Copy collections from one Qdrant to another (embedded engine <-> server), streaming.

    python examples/migrate.py SOURCE DEST [--collection NAME ...] [--recreate]

SOURCE and DEST are ``:memory:``, a directory (the embedded engine) or an ``http(s)://`` URL.
Points are scrolled page by page and written through the ingestion actor, so memory stays
bounded and every point is accounted for.
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio

from aqdrant import AsyncQdrantClient, Conflict


def open_client(where: str) -> AsyncQdrantClient:
    if where.startswith(("http://", "https://")):
        return AsyncQdrantClient(url=where)
    if where == ":memory:":
        return AsyncQdrantClient(":memory:")
    return AsyncQdrantClient(path=where)


async def migrate(
    source: AsyncQdrantClient,
    dest: AsyncQdrantClient,
    collection_names: list[str] | None = None,
    *,
    batch_size: int = 256,
    recreate_on_collision: bool = False,
) -> dict[str, Any]:
    """Copy each collection's config and points; returns {name: IngestReport}."""
    names = collection_names or [c.name for c in (await source.get_collections()).collections]
    reports: dict[str, Any] = {}
    for name in names:
        info = await source.get_collection(name)
        params = info.config.params
        if await dest.collection_exists(name):
            if not recreate_on_collision:
                raise Conflict(409, f"collection {name!r} exists at the destination", operation="migrate", collection=name)
            await dest.delete_collection(name)
        await dest.create_collection(
            name,
            vectors_config=params.vectors,
            sparse_vectors_config=params.sparse_vectors,
            on_disk_payload=params.on_disk_payload,
        )
        async with dest.ingest(name, batch_size=batch_size) as sink:
            async for record in source.scroll_all(name, batch_size=batch_size, with_vectors=True):
                await sink.send({"id": record.id, "vector": record.vector, "payload": record.payload})
        reports[name] = sink.report
        src_count = (await source.count(name)).count
        dst_count = (await dest.count(name)).count
        if src_count != dst_count:
            raise RuntimeError(f"{name}: {src_count} points at the source, {dst_count} at the destination")
        print(f"{name}: copied {dst_count} points")
    return reports


async def _main(args: argparse.Namespace) -> None:
    async with open_client(args.source) as source, open_client(args.dest) as dest:
        await migrate(source, dest, args.collection or None, recreate_on_collision=args.recreate)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("dest")
    ap.add_argument("--collection", action="append")
    ap.add_argument("--recreate", action="store_true")
    anyio.run(_main, ap.parse_args())
