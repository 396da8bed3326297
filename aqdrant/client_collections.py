"""``AsyncQdrantClient``'s methods for collections, aliases and named vectors (the collection
catalog). Each builds the body of one operation and calls ``ClientBase._call``; a change of
a collection's vectors makes the vector validator fetch its schema again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import models
from .client_base import API_VERSION, ClientBase, Headers
from .errors import ValidationError


class CollectionOps(ClientBase):
    """Collections, aliases, vector names."""

    # ==== collections ==========================================================================
    async def get_collections(
        self, *, timeout: float | None = None, headers: Headers = None
    ) -> models.CollectionsResponse:
        """Names of all collections."""
        return await self._call("get_collections", timeout=timeout, headers=headers)

    async def get_collection(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> models.CollectionInfo:
        """Status, config and counts of one collection."""
        return await self._call(
            "get_collection", path={"collection_name": collection_name}, timeout=timeout, headers=headers
        )

    async def collection_exists(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> bool:
        """True when a collection (or alias) of this name exists."""
        res = await self._call(
            "collection_exists", path={"collection_name": collection_name}, timeout=timeout, headers=headers
        )
        return res.exists

    async def create_collection(
        self,
        collection_name: str,
        vectors_config: models.VectorParams | Mapping[str, models.VectorParams] | None = None,
        sparse_vectors_config: Mapping[str, models.SparseVectorParams] | None = None,
        shard_number: int | None = None,
        sharding_method: models.ShardingMethod | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        on_disk_payload: bool | None = None,
        hnsw_config: models.HnswConfigDiff | None = None,
        optimizers_config: models.OptimizersConfigDiff | None = None,
        wal_config: models.WalConfigDiff | None = None,
        quantization_config: models.QuantizationConfig | None = None,
        timeout: float | None = None,
        strict_mode_config: models.StrictModeConfig | None = None,
        metadata: dict[str, Any] | None = None,
        payload: models.PayloadStorageParams | None = None,
        id_tracker: None = None,
        *,
        headers: Headers = None,
    ) -> bool:
        """Create a collection; raises ``Conflict`` when it exists. ``id_tracker`` belongs to a
        newer server API than this client's (1.19): given, it is refused."""
        if id_tracker is not None:
            raise ValidationError(
                f"id_tracker is not part of the Qdrant {API_VERSION[0]}.{API_VERSION[1]} API this client speaks"
            )
        body = models.CreateCollection(
            vectors=dict(vectors_config) if isinstance(vectors_config, Mapping) else vectors_config,
            sparse_vectors=dict(sparse_vectors_config) if sparse_vectors_config is not None else None,
            shard_number=shard_number,
            sharding_method=sharding_method,
            replication_factor=replication_factor,
            write_consistency_factor=write_consistency_factor,
            on_disk_payload=on_disk_payload,
            hnsw_config=hnsw_config,
            optimizers_config=optimizers_config,
            wal_config=wal_config,
            quantization_config=quantization_config,
            strict_mode_config=strict_mode_config,
            metadata=metadata,
            payload=payload,
        )
        if self._validator:
            self._validator.forget(collection_name)
        return await self._call(
            "create_collection",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def recreate_collection(self, collection_name: str, *args: Any, **kwargs: Any) -> bool:
        """Delete the collection if it exists, then create it (same arguments as create)."""
        await self.delete_collection(
            collection_name, timeout=kwargs.get("timeout"), headers=kwargs.get("headers")
        )
        return await self.create_collection(collection_name, *args, **kwargs)

    async def update_collection(
        self,
        collection_name: str,
        optimizers_config: models.OptimizersConfigDiff | None = None,
        collection_params: models.CollectionParamsDiff | None = None,
        vectors_config: models.VectorsConfigDiff | None = None,
        hnsw_config: models.HnswConfigDiff | None = None,
        quantization_config: models.QuantizationConfigDiff | None = None,
        timeout: float | None = None,
        sparse_vectors_config: Mapping[str, models.SparseVectorParams] | None = None,
        strict_mode_config: models.StrictModeConfig | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        headers: Headers = None,
    ) -> bool:
        """Change parameters of an existing collection."""
        body = models.UpdateCollection(
            vectors=vectors_config,
            optimizers_config=optimizers_config,
            params=collection_params,
            hnsw_config=hnsw_config,
            quantization_config=quantization_config,
            sparse_vectors=dict(sparse_vectors_config) if sparse_vectors_config is not None else None,
            strict_mode_config=strict_mode_config,
            metadata=metadata,
        )
        if self._validator:
            self._validator.forget(collection_name)
        return await self._call(
            "update_collection",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def delete_collection(
        self, collection_name: str, timeout: float | None = None, *, headers: Headers = None
    ) -> bool:
        """Delete a collection; True if it existed."""
        if self._validator:
            self._validator.forget(collection_name)
        return await self._call(
            "delete_collection", path={"collection_name": collection_name}, timeout=timeout, headers=headers
        )

    async def get_aliases(
        self, *, timeout: float | None = None, headers: Headers = None
    ) -> models.CollectionsAliasesResponse:
        """Every alias of every collection."""
        return await self._call("get_collections_aliases", timeout=timeout, headers=headers)

    async def get_collection_aliases(
        self, collection_name: str, *, timeout: float | None = None, headers: Headers = None
    ) -> models.CollectionsAliasesResponse:
        """The aliases of one collection."""
        return await self._call(
            "get_collection_aliases",
            path={"collection_name": collection_name},
            timeout=timeout,
            headers=headers,
        )

    async def update_collection_aliases(
        self,
        change_aliases_operations: Sequence[
            models.CreateAliasOperation | models.RenameAliasOperation | models.DeleteAliasOperation
        ],
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> bool:
        """Create, rename and delete aliases in one atomic step."""
        body = models.ChangeAliasesOperation(actions=list(change_aliases_operations))
        return await self._call("update_aliases", body=body, timeout=timeout, headers=headers)

    async def create_vector_name(
        self,
        collection_name: str,
        vector_name: str,
        vector_name_config: models.VectorNameConfig,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Add a named vector to an existing collection."""
        if self._validator:
            self._validator.forget(collection_name)
        return await self._call(
            "create_vector_name",
            path={"collection_name": collection_name, "vector_name": vector_name},
            query={"wait": wait, "ordering": ordering},
            body=vector_name_config,
            timeout=timeout,
            headers=headers,
        )

    async def delete_vector_name(
        self,
        collection_name: str,
        vector_name: str,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Remove a named vector from a collection."""
        if self._validator:
            self._validator.forget(collection_name)
        return await self._call(
            "delete_vector_name",
            path={"collection_name": collection_name, "vector_name": vector_name},
            query={"wait": wait, "ordering": ordering},
            timeout=timeout,
            headers=headers,
        )
