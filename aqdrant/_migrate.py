"""``client.migrate(dest, ...)``: copy collections (config, payload indexes, points) between
any two clients - aqdrant's async or blocking client on any backend, or the official client.

The destination is driven through its own methods with plain JSON-shaped arguments (dicts), so
whatever models it uses accept them. A blocking destination (a ``QdrantClient``, ours or the
official one) is called from a worker thread: it runs its own event loop or sockets there and
never touches the source's loop.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from . import models
from .errors import QdrantError, ValidationError


class _Dest:
    """Calls on the destination client, awaited or run in a worker thread (blocking clients)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import anyio.to_thread

        fn = getattr(self.client, method)
        if inspect.iscoroutinefunction(fn):
            return await fn(*args, **kwargs)
        result = await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
        if inspect.isawaitable(result):  # a method returning an awaitable without being async
            return await result
        return result


def _plain(obj: Any) -> Any:
    return None if obj is None else models.to_builtins(obj)


def _extra(config: Any) -> dict[str, Any]:
    """Strict mode, metadata and payload storage, when the source has them (only then passed,
    so a destination without these arguments still works)."""
    import msgspec

    out: dict[str, Any] = {}
    strict = getattr(config, "strict_mode_config", None)
    if strict is not None:
        known = {f.encode_name for f in msgspec.structs.fields(models.StrictModeConfig)}
        out["strict_mode_config"] = {k: v for k, v in _plain(strict).items() if k in known}
    if getattr(config, "metadata", None):
        out["metadata"] = config.metadata
    payload = getattr(config.params, "payload", None)
    if payload is not None:
        out["payload"] = _plain(payload)
    return out


async def migrate(
    source: Any,
    dest_client: Any,
    collection_names: list[str] | None = None,
    batch_size: int = 100,
    recreate_on_collision: bool = False,
) -> None:
    dest = _Dest(dest_client)
    if collection_names is None:
        collection_names = [c.name for c in (await source.get_collections()).collections]
    for name in collection_names:
        if await dest("collection_exists", name):
            if not recreate_on_collision:
                raise ValidationError(
                    f"migrate: collection {name!r} exists in the destination; "
                    "pass recreate_on_collision=True to replace it"
                )
            await dest("delete_collection", name)
        info = await source.get_collection(name)
        config = info.config
        params = config.params
        vectors = params.vectors
        await dest(
            "create_collection",
            name,
            vectors_config=_plain(vectors) if vectors is not None else {},
            sparse_vectors_config=_plain(params.sparse_vectors),
            on_disk_payload=params.on_disk_payload,
            hnsw_config=_plain(config.hnsw_config),
            optimizers_config=_plain(config.optimizer_config),
            quantization_config=_plain(config.quantization_config),
            **_extra(config),
        )
        for field, schema in (info.payload_schema or {}).items():
            await dest(
                "create_payload_index",
                name,
                field_name=field,
                field_schema=_plain(schema.params) if schema.params is not None else _plain(schema.data_type),
            )
        offset: Any = None
        while True:
            records, offset = await source.scroll(
                name, limit=batch_size, offset=offset, with_payload=True, with_vectors=True
            )
            if records:
                points = [
                    {"id": r.id, "vector": _plain(r.vector) if r.vector is not None else {}, "payload": r.payload or {}}
                    for r in records
                ]
                await dest("upsert", name, points=points, wait=True)
            if offset is None:
                break
        want = (await source.count(name, exact=True)).count
        got = (await dest("count", name, exact=True)).count
        if want != got:
            raise QdrantError(f"migrate: collection {name!r} has {want} points in the source, {got} in the destination")
