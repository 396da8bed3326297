"""``AsyncQdrantClient``'s snapshots: of a collection, of a shard and of the whole storage;
create, list, delete, recover, and stream a snapshot file down or up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import models
from .client_base import ClientBase, Headers


class SnapshotOps(ClientBase):
    """Snapshots."""

    # ==== snapshots ============================================================================
    async def create_snapshot(
        self,
        collection_name: str,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> models.SnapshotDescription | None:
        """Snapshot one collection."""
        return await self._call(
            "create_snapshot",
            path={"collection_name": collection_name},
            query={"wait": wait},
            timeout=timeout,
            headers=headers,
        )

    async def list_snapshots(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> list[models.SnapshotDescription]:
        """Snapshots of one collection."""
        return await self._call(
            "list_snapshots", path={"collection_name": collection_name}, timeout=timeout, headers=headers
        )

    async def delete_snapshot(
        self,
        collection_name: str,
        snapshot_name: str,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool | None:
        """Delete a collection snapshot."""
        return await self._call(
            "delete_snapshot",
            path={"collection_name": collection_name, "snapshot_name": snapshot_name},
            query={"wait": wait},
            timeout=timeout,
            headers=headers,
        )

    async def create_full_snapshot(
        self, wait: bool = True, *, timeout: float | None = None, headers: Headers = None
    ) -> models.SnapshotDescription | None:
        """Snapshot the whole storage."""
        return await self._call(
            "create_full_snapshot", query={"wait": wait}, timeout=timeout, headers=headers
        )

    async def list_full_snapshots(
        self, *, timeout: float | None = None, headers: Headers = None
    ) -> list[models.SnapshotDescription]:
        """Full-storage snapshots."""
        return await self._call("list_full_snapshots", timeout=timeout, headers=headers)

    async def delete_full_snapshot(
        self, snapshot_name: str, wait: bool = True, *, timeout: float | None = None, headers: Headers = None
    ) -> bool | None:
        """Delete a full-storage snapshot."""
        return await self._call(
            "delete_full_snapshot",
            path={"snapshot_name": snapshot_name},
            query={"wait": wait},
            timeout=timeout,
            headers=headers,
        )

    async def recover_snapshot(
        self,
        collection_name: str,
        location: str,
        api_key: str | None = None,
        checksum: str | None = None,
        priority: models.SnapshotPriority | None = None,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool | None:
        """Recover a collection from a snapshot URL or server-side file."""
        body = models.SnapshotRecover(
            location=location, priority=priority, checksum=checksum, api_key=api_key
        )
        return await self._call(
            "recover_from_snapshot",
            path={"collection_name": collection_name},
            query={"wait": wait},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def create_shard_snapshot(
        self,
        collection_name: str,
        shard_id: int,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> models.SnapshotDescription | None:
        """Snapshot one shard."""
        return await self._call(
            "create_shard_snapshot",
            path={"collection_name": collection_name, "shard_id": shard_id},
            query={"wait": wait},
            timeout=timeout,
            headers=headers,
        )

    async def list_shard_snapshots(
        self, collection_name: str, shard_id: int, *, timeout: float | None = None, headers: Headers = None
    ) -> list[models.SnapshotDescription]:
        """Snapshots of one shard."""
        return await self._call(
            "list_shard_snapshots",
            path={"collection_name": collection_name, "shard_id": shard_id},
            timeout=timeout,
            headers=headers,
        )

    async def delete_shard_snapshot(
        self,
        collection_name: str,
        shard_id: int,
        snapshot_name: str,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool | None:
        """Delete a shard snapshot."""
        return await self._call(
            "delete_shard_snapshot",
            path={"collection_name": collection_name, "shard_id": shard_id, "snapshot_name": snapshot_name},
            query={"wait": wait},
            timeout=timeout,
            headers=headers,
        )

    async def recover_shard_snapshot(
        self,
        collection_name: str,
        shard_id: int,
        location: str,
        api_key: str | None = None,
        checksum: str | None = None,
        priority: models.SnapshotPriority | None = None,
        wait: bool = True,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool | None:
        """Recover a shard from a snapshot URL or server-side file."""
        body = models.ShardSnapshotRecover(
            location=location, priority=priority, checksum=checksum, api_key=api_key
        )
        return await self._call(
            "recover_shard_from_snapshot",
            path={"collection_name": collection_name, "shard_id": shard_id},
            query={"wait": wait},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def download_snapshot(
        self,
        collection_name: str,
        snapshot_name: str,
        destination: str | Path,
        *,
        shard_id: int | None = None,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> Path:
        """Stream a collection (or shard) snapshot file to ``destination`` without buffering it whole."""
        import anyio

        path = {"collection_name": collection_name, "snapshot_name": snapshot_name}
        op = "get_snapshot"
        if shard_id is not None:
            path["shard_id"] = shard_id
            op = "get_shard_snapshot"
        dest = Path(destination)
        async with self._pipeline.stream(op, path_params=path, timeout=timeout, headers=headers) as chunks:
            async with await anyio.open_file(dest, "wb") as f:
                async for chunk in chunks:
                    await f.write(chunk)
        return dest

    async def upload_snapshot(
        self,
        collection_name: str,
        snapshot: str | Path,
        *,
        shard_id: int | None = None,
        priority: models.SnapshotPriority | None = None,
        checksum: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool | None:
        """Upload a snapshot file (streamed from disk) and recover the collection or shard from it."""
        path: dict[str, Any] = {"collection_name": collection_name}
        op = "recover_from_uploaded_snapshot"
        if shard_id is not None:
            path["shard_id"] = shard_id
            op = "recover_shard_from_uploaded_snapshot"
        return await self._call(
            op,
            path=path,
            query={"wait": wait, "priority": priority, "checksum": checksum},
            body=Path(snapshot),
            timeout=timeout,
            headers=headers,
        )
