"""``AsyncQdrantClient``'s shard keys, cluster operations and service endpoints (telemetry,
optimizations, version, health).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import models
from .client_base import ClientBase, Headers


class ClusterOps(ClientBase):
    """Shard keys, cluster, service."""

    # ==== shard keys, cluster, service =========================================================
    async def create_shard_key(
        self,
        collection_name: str,
        shard_key: models.ShardKey,
        shards_number: int | None = None,
        replication_factor: int | None = None,
        placement: list[int] | None = None,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool:
        """Create a shard key (custom sharding)."""
        body = models.CreateShardingKey(
            shard_key=shard_key,
            shards_number=shards_number,
            replication_factor=replication_factor,
            placement=placement,
        )
        return await self._call(
            "create_shard_key",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def delete_shard_key(
        self,
        collection_name: str,
        shard_key: models.ShardKey,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> bool:
        """Delete a shard key and its data."""
        body = models.DropShardingKey(shard_key=shard_key)
        return await self._call(
            "delete_shard_key",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def list_shard_keys(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> models.ShardKeysResponse:
        """Shard keys of a collection."""
        return await self._call(
            "list_shard_keys", path={"collection_name": collection_name}, timeout=timeout, headers=headers
        )

    async def cluster_status(
        self, *, timeout: float | None = None, headers: Headers = None
    ) -> models.ClusterStatus:
        """Raft status of the cluster."""
        return await self._call("cluster_status", timeout=timeout, headers=headers)

    async def collection_cluster_info(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> models.CollectionClusterInfo:
        """Shards and replicas of a collection."""
        return await self._call(
            "collection_cluster_info",
            path={"collection_name": collection_name},
            timeout=timeout,
            headers=headers,
        )

    async def cluster_collection_update(
        self,
        collection_name: str,
        cluster_operation: models.ClusterOperations,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> bool:
        """Move, replicate or drop shards."""
        return await self._call(
            "update_collection_cluster",
            path={"collection_name": collection_name},
            body=cluster_operation,
            timeout=timeout,
            headers=headers,
        )

    async def recover_current_peer(self, *, timeout: float | None = None, headers: Headers = None) -> bool:
        """Ask this peer to recover its raft state."""
        return await self._call("recover_current_peer", timeout=timeout, headers=headers)

    async def remove_peer(
        self,
        peer_id: int,
        force: bool | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> bool:
        """Remove a peer from the cluster."""
        return await self._call(
            "remove_peer", path={"peer_id": peer_id}, query={"force": force}, timeout=timeout, headers=headers
        )

    async def cluster_telemetry(
        self, details_level: int | None = None, timeout: float | None = None, *, headers: Headers = None
    ) -> models.DistributedTelemetryData:
        """Telemetry of the whole cluster."""
        return await self._call(
            "cluster_telemetry", query={"details_level": details_level}, timeout=timeout, headers=headers
        )

    async def telemetry(
        self,
        anonymize: bool | None = None,
        details_level: int | None = None,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> models.TelemetryData:
        """Telemetry of this peer."""
        return await self._call(
            "telemetry",
            query={"anonymize": anonymize, "details_level": details_level},
            timeout=timeout,
            headers=headers,
        )

    async def get_optimizations(
        self,
        collection_name: str,
        completed_limit: int | None = None,
        with_: str | Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> models.OptimizationsResponse:
        """Running, queued and completed optimizations of a collection."""
        with_value = ",".join(with_) if isinstance(with_, (list, tuple)) else with_
        return await self._call(
            "get_optimizations",
            path={"collection_name": collection_name},
            query={"completed_limit": completed_limit, "with": with_value},
            timeout=timeout,
            headers=headers,
        )

    async def info(self, *, timeout: float | None = None, headers: Headers = None) -> models.VersionInfo:
        """Server title, version and commit."""
        return await self._call("root", timeout=timeout, headers=headers)

    async def health(self, *, timeout: float | None = None, headers: Headers = None) -> bool:
        """True when the server answers its health check."""
        text = await self._call("healthz", timeout=timeout, headers=headers)
        return bool(text)
