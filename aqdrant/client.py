"""``AsyncQdrantClient``: the official client's methods, each one call through the pipeline.

Every method builds the request model for one operation of the table (aqdrant/_operations.py)
and hands it to :class:`aqdrant._pipeline.Pipeline`, which owns headers, auth, the deadline,
retries and typed errors. The backend (REST, gRPC or the embedded engine) is picked once, from
the constructor arguments, exactly as the official client does.

Differences from the official client, on purpose:
- ``timeout=`` (float seconds) is one total budget for the whole call, retries included; the
  remaining budget is forwarded to the server's own ``timeout`` parameter.
- every method takes ``headers=`` (merged over the client's and ``aqdrant.request_headers``).
- unknown keyword arguments raise ``TypeError`` instead of being ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import models
from ._backend import Backend
from ._connect import make_backend
from ._retry import RetryPolicy
from ._types import (
    CertTypes,
    CompressionLike,
    MigrationTarget,
    PointId,
    QueryLike,
    UploadVectors,
    VerifyTypes,
)
from ._validate import VectorValidator, check_query_vectors
from ._warn import warn
from .errors import BadRequest, ClientClosedError, NotFound, ValidationError
from .models._coerce import coerce as coerce_body
from .models._coerce import from_official

if TYPE_CHECKING:
    from .ingest import Ingestor

Headers = Mapping[str, str] | None
PointsSelectorLike = Sequence[PointId] | models.Filter | models.PointIdsList | models.FilterSelector

# The server API version the models were generated from (qdrant-api/v1.19 in the repository).
API_VERSION = (1, 19)
#: longest the first call spends on the server-version check (always within the call's deadline)
COMPAT_CHECK_TIMEOUT = 5.0


class AsyncQdrantClient:
    """Async client for Qdrant: REST (``url=``/``host=``), gRPC (``prefer_grpc=True``) or the
    embedded engine (``":memory:"`` / ``path=``). Use ``async with`` or call :meth:`close`.

    Beyond the official client's arguments (keyword-only): ``retry`` (a :class:`RetryPolicy`),
    ``validate_vectors`` (check sizes/names/NaN before sending), and the REST transport's TLS
    and HTTP version: ``verify`` (True, False, a CA bundle path or an ``ssl.SSLContext``),
    ``cert`` (client certificate for mutual TLS: a path, or ``(cert, key)``), ``http2``
    (needs the ``h2`` package). gRPC takes its certificates in ``grpc_options``.

    The embedded engine's index builds (``":memory:"`` / ``path=`` only): ``local_optimize``
    ``"idle"`` (the default: payload indexes, then HNSW/quantization, are built once writes have
    been quiet for ``local_optimize_after`` seconds, default 1.0) or ``"never"`` (only when
    asked; payload indexes are then created as soon as declared). See :mod:`aqdrant.local`.

    ``backend``: a :class:`aqdrant._backend.Backend` to send every request through instead of
    the one the location arguments would make (tests, custom transports); the client still runs
    its pipeline (headers, auth, deadline, retries) in front of it and closes it on close.
    """

    def __init__(
        self,
        location: str | None = None,
        url: str | None = None,
        port: int | None = 6333,
        grpc_port: int = 6334,
        prefer_grpc: bool = False,
        https: bool | None = None,
        api_key: str | None = None,
        prefix: str | None = None,
        timeout: float | None = None,
        host: str | None = None,
        path: str | None = None,
        grpc_options: dict[str, Any] | None = None,
        auth_token_provider: Callable[[], str] | Callable[[], Any] | None = None,
        cloud_inference: bool = False,
        local_inference_batch_size: int | None = None,
        check_compatibility: bool = True,
        pool_size: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        retry: RetryPolicy | None = None,
        validate_vectors: bool = True,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        http2: bool = False,
        local_optimize: str | None = None,
        local_optimize_after: float | None = None,
        grpc_compression: CompressionLike = None,
        force_disable_check_same_thread: bool = False,
        backend: Backend | None = None,
    ) -> None:
        # force_disable_check_same_thread: the official client's local mode (SQLite) needs it;
        # aqdrant's engine runs in its own process and any thread may call, so it is accepted as is
        from ._pipeline import Pipeline

        self._init_options = _InitOptions(
            location=location, url=url, port=port, grpc_port=grpc_port, prefer_grpc=prefer_grpc,
            https=https, api_key=api_key, prefix=prefix, timeout=timeout, host=host, path=path,
            grpc_options=grpc_options, auth_token_provider=auth_token_provider,
            cloud_inference=cloud_inference, local_inference_batch_size=local_inference_batch_size,
            check_compatibility=check_compatibility, pool_size=pool_size, headers=headers,
            retry=retry, validate_vectors=validate_vectors, verify=verify, cert=cert, http2=http2,
            local_optimize=local_optimize, local_optimize_after=local_optimize_after,
            grpc_compression=grpc_compression,
        )  # fmt: skip
        given = [x for x in (location, url, host, path) if x is not None]
        if len(given) > 1:
            raise ValidationError("give only one of location, url, host or path")
        self._local = location == ":memory:" or path is not None
        self.cloud_inference = cloud_inference
        self.local_inference_batch_size = local_inference_batch_size
        self._prefer_grpc = prefer_grpc
        if backend is not None:  # a caller's transport (tests, custom transports): used as given
            if given:
                raise ValidationError("give either backend= or one of location, url, host or path")
            self._local = False
        else:
            backend = make_backend(
                location=location, url=url, host=host, port=port, path=path, https=https, prefix=prefix,
                pool_size=pool_size, verify=verify, cert=cert, http2=http2, prefer_grpc=prefer_grpc,
                grpc_port=grpc_port, grpc_options=grpc_options, grpc_compression=grpc_compression,
                local_optimize=local_optimize, local_optimize_after=local_optimize_after,
            )  # fmt: skip
        self._backend = backend
        self._pipeline = Pipeline(
            backend,
            headers=headers,
            api_key=api_key,
            auth_token_provider=auth_token_provider,
            timeout=timeout,
            retry=retry,
        )
        if check_compatibility and not self._local:
            self._pipeline.preflight = self._check_server_version
        self._validator = VectorValidator(self._get_vectors_config) if validate_vectors else None
        self._embedder: Any = None  # aqdrant.inference.Embedder, made on first local inference
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncQdrantClient backend={self._backend!r}>"

    @property
    def init_options(self) -> dict[str, Any]:
        """The constructor's arguments (``AsyncQdrantClient(**client.init_options)`` makes a twin);
        the API key is kept but shown as ``[secret]`` in reprs."""
        return dict(self._init_options)

    async def migrate(
        self,
        dest_client: MigrationTarget,
        collection_names: list[str] | None = None,
        batch_size: int = 100,
        recreate_on_collision: bool = False,
    ) -> None:
        """Copy collections (config, payload indexes, points) to ``dest_client``: any client,
        awaited or blocking, aqdrant's or the official one. Raises ``ValidationError`` when a
        collection exists there (unless ``recreate_on_collision``) and ``QdrantError`` when the
        point counts differ afterwards."""
        from ._migrate import migrate

        await migrate(self, dest_client, collection_names, batch_size, recreate_on_collision)

    # ---- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> AsyncQdrantClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self, grpc_grace: float | None = None) -> None:
        """Release connections (and stop the embedded engine). Safe to call twice."""
        if not self._closed:
            self._closed = True
            if self._embedder is not None:
                self._embedder.close()
            await self._pipeline.aclose()

    aclose = close

    # ---- the one way every method reaches the server ----------------------------------------
    async def _call(
        self,
        op: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        headers: Headers = None,
        coerced: bool = False,
    ) -> Any:
        if self._closed:
            raise ClientClosedError("this AsyncQdrantClient is closed")
        if not coerced:
            body = _coerce(op, body)
        query = {k: v for k, v in (query or {}).items() if v is not None}
        return await self._pipeline.execute(
            op, path_params=path or {}, query=query, body=body, timeout=timeout, headers=headers
        )

    async def _write(
        self,
        op: str,
        collection_name: str,
        body: Any,
        wait: bool,
        ordering: Any,
        timeout: float | None,
        headers: Headers,
        coerced: bool = False,
    ) -> Any:
        """A point/index write: ``wait`` and ``ordering`` go to the query string."""
        return await self._call(
            op,
            path={"collection_name": collection_name},
            query={"wait": wait, "ordering": ordering},
            body=body,
            timeout=timeout,
            headers=headers,
            coerced=coerced,
        )

    async def _read(
        self,
        op: str,
        collection_name: str,
        body: Any,
        consistency: Any,
        timeout: float | None,
        headers: Headers,
        coerced: bool = False,
    ) -> Any:
        """A point read: ``consistency`` goes to the query string. ``coerced``: the body already
        went through ``_coerce`` (``_embed_inputs`` does it), so it is not walked again."""
        return await self._call(
            op,
            path={"collection_name": collection_name},
            query={"consistency": consistency},
            body=body,
            timeout=timeout,
            headers=headers,
            coerced=coerced,
        )

    async def _check_server_version(self, pipeline: Any, headers: Any, deadline: float | None) -> None:
        """The first call's server-version check (``check_compatibility``): inside that call's
        deadline, with its headers (a token provider is asked once), at most COMPAT_CHECK_TIMEOUT."""
        import anyio

        limit = anyio.current_time() + COMPAT_CHECK_TIMEOUT
        with anyio.move_on_after(COMPAT_CHECK_TIMEOUT):
            try:
                version = (await pipeline.probe("root", headers, min(limit, deadline or limit))).version
                major, minor = (int(x) for x in version.split(".")[:2])
            except Exception:  # noqa: BLE001 - an unreachable server is reported by the real call
                return
            if major != API_VERSION[0] or abs(minor - API_VERSION[1]) > 1:
                warn(
                    f"Qdrant server version {version} may be incompatible with this client "
                    f"(made for {API_VERSION[0]}.{API_VERSION[1]}); pass check_compatibility=False to silence",
                    UserWarning,
                )

    async def _get_vectors_config(self, collection_name: str) -> models.CollectionParams:
        info = await self.get_collection(collection_name)
        return info.config.params

    async def _embed_inputs(self, collection_name: str, body: Any, *, is_query: bool = False, op: str = "request") -> Any:
        """``body`` with Documents / Images / InferenceObjects embedded locally (aqdrant.inference),
        or as it is with ``cloud_inference=True`` (the server embeds). Dicts given for models are
        made models first (``_coerce``), so the inference walk and the validator see models."""
        body = _coerce(op, body)
        if self.cloud_inference:
            return body
        from .inference import DEFAULT_BATCH_SIZE, Embedder, embed_request

        if self._embedder is None:
            self._embedder = Embedder()
        return await embed_request(
            body,
            embedder=self._embedder,
            collection_name=collection_name,
            is_query=is_query,
            batch_size=self.local_inference_batch_size or DEFAULT_BATCH_SIZE,
            get_schema=self._validator._schema if self._validator else None,
        )

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

    # ==== points: writes =======================================================================
    async def upsert(
        self,
        collection_name: str,
        points: models.Batch | Sequence[models.PointStruct],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Insert or replace points. Vectors are checked against the collection first."""
        points = from_official(points)
        if isinstance(points, models.Batch):
            body: Any = models.PointsBatch(
                batch=points,
                shard_key=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
            )
        else:
            body = models.PointsList(
                points=list(points),
                shard_key=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
            )
        body = await self._embed_inputs(collection_name, body, op="upsert_points")
        if self._validator:
            await self._validator.check_upsert(collection_name, body)
        try:
            return await self._call(
                "upsert_points",
                path={"collection_name": collection_name},
                query={"wait": wait, "ordering": ordering},
                body=body,
                timeout=timeout,
                headers=headers,
                coerced=True,
            )
        except (BadRequest, NotFound):
            if self._validator:  # the collection may have changed or gone: refetch next time
                self._validator.forget(collection_name)
            raise

    async def update_vectors(
        self,
        collection_name: str,
        points: Sequence[models.PointVectors],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Replace some vectors of existing points."""
        body = models.UpdateVectors(
            points=list(points), shard_key=shard_key_selector, update_filter=update_filter
        )
        body = await self._embed_inputs(collection_name, body, op="update_vectors")
        if self._validator:
            await self._validator.check_update_vectors(collection_name, body)
        return await self._write("update_vectors", collection_name, body, wait, ordering, timeout, headers, coerced=True)

    async def delete_vectors(
        self,
        collection_name: str,
        vectors: Sequence[str],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Delete named vectors of the selected points."""
        ids, flt = _split_selector(points)
        body = models.DeleteVectors(
            points=ids, filter=flt, vector=list(vectors), shard_key=shard_key_selector
        )
        return await self._write("delete_vectors", collection_name, body, wait, ordering, timeout, headers)

    async def delete(
        self,
        collection_name: str,
        points_selector: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Delete points by ids or by filter."""
        return await self._write(
            "delete_points",
            collection_name,
            _points_selector(points_selector, shard_key_selector),
            wait,
            ordering,
            timeout,
            headers,
        )

    async def set_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: PointsSelectorLike,
        key: str | None = None,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Merge ``payload`` into the selected points' payload (at ``key`` if given)."""
        ids, flt = _split_selector(points)
        body = models.SetPayload(
            payload=payload, points=ids, filter=flt, shard_key=shard_key_selector, key=key
        )
        return await self._write("set_payload", collection_name, body, wait, ordering, timeout, headers)

    async def overwrite_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Replace the selected points' whole payload."""
        ids, flt = _split_selector(points)
        body = models.SetPayload(payload=payload, points=ids, filter=flt, shard_key=shard_key_selector)
        return await self._write("overwrite_payload", collection_name, body, wait, ordering, timeout, headers)

    async def delete_payload(
        self,
        collection_name: str,
        keys: Sequence[str],
        points: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Remove payload keys from the selected points."""
        ids, flt = _split_selector(points)
        body = models.DeletePayload(keys=list(keys), points=ids, filter=flt, shard_key=shard_key_selector)
        return await self._write("delete_payload", collection_name, body, wait, ordering, timeout, headers)

    async def clear_payload(
        self,
        collection_name: str,
        points_selector: PointsSelectorLike,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Remove the whole payload of the selected points."""
        return await self._write(
            "clear_payload",
            collection_name,
            _points_selector(points_selector, shard_key_selector),
            wait,
            ordering,
            timeout,
            headers,
        )

    async def batch_update_points(
        self,
        collection_name: str,
        update_operations: Sequence[models.UpdateOperation],
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.UpdateResult]:
        """Several point updates in one request, applied in order."""
        body = models.UpdateOperations(operations=list(update_operations))
        body = await self._embed_inputs(collection_name, body, op="batch_update")
        return await self._write("batch_update", collection_name, body, wait, ordering, timeout, headers, coerced=True)

    async def create_payload_index(
        self,
        collection_name: str,
        field_name: str,
        field_schema: models.PayloadFieldSchema | None = None,
        field_type: models.PayloadSchemaType | None = None,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Index a payload field (``field_type`` is the old name of ``field_schema``)."""
        if field_schema is not None and field_type is not None:
            raise ValidationError("give field_schema or field_type, not both")
        body = models.CreateFieldIndex(field_name=field_name, field_schema=field_schema or field_type)
        return await self._write(
            "create_field_index", collection_name, body, wait, ordering, timeout, headers
        )

    async def delete_payload_index(
        self,
        collection_name: str,
        field_name: str,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.UpdateResult:
        """Drop a payload index."""
        return await self._call(
            "delete_field_index",
            path={"collection_name": collection_name, "field_name": field_name},
            query={"wait": wait, "ordering": ordering},
            timeout=timeout,
            headers=headers,
        )

    # ==== points: reads ========================================================================
    async def retrieve(
        self,
        collection_name: str,
        ids: Sequence[PointId],
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.Record]:
        """Points by id (missing ids are left out)."""
        body = models.PointRequest(
            ids=[_point_id(i) for i in ids],
            with_payload=with_payload,
            with_vector=with_vectors,
            shard_key=shard_key_selector,
        )
        return await self._read("get_points", collection_name, body, consistency, timeout, headers)

    async def scroll(
        self,
        collection_name: str,
        scroll_filter: models.Filter | None = None,
        limit: int = 10,
        order_by: str | models.OrderBy | None = None,
        offset: PointId | None = None,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> tuple[list[models.Record], models.ExtendedPointId | None]:
        """One page of points and the offset of the next page (None at the end)."""
        body = models.ScrollRequest(
            filter=scroll_filter,
            limit=limit,
            order_by=order_by,
            offset=_point_id(offset) if offset is not None else None,
            with_payload=with_payload,
            with_vector=with_vectors,
            shard_key=shard_key_selector,
        )
        res = await self._call(
            "scroll_points",
            path={"collection_name": collection_name},
            query={"consistency": consistency},
            body=body,
            timeout=timeout,
            headers=headers,
        )
        return res.points, res.next_page_offset

    async def scroll_all(
        self,
        collection_name: str,
        scroll_filter: models.Filter | None = None,
        batch_size: int = 256,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        *,
        timeout: float | None = None,
        headers: Headers = None,
    ) -> AsyncIterator[models.Record]:
        """Every point (matching the filter), page by page; ``timeout`` applies per page."""
        offset: Any = None
        while True:
            page, offset = await self.scroll(
                collection_name,
                scroll_filter=scroll_filter,
                limit=batch_size,
                offset=offset,
                with_payload=with_payload,
                with_vectors=with_vectors,
                timeout=timeout,
                headers=headers,
            )
            for rec in page:
                yield rec
            if offset is None:
                return

    async def count(
        self,
        collection_name: str,
        count_filter: models.Filter | None = None,
        exact: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.CountResult:
        """Number of points (matching the filter)."""
        body = models.CountRequest(filter=count_filter, exact=exact, shard_key=shard_key_selector)
        return await self._call(
            "count_points",
            path={"collection_name": collection_name},
            body=body,
            timeout=timeout,
            headers=headers,
        )

    async def facet(
        self,
        collection_name: str,
        key: str,
        facet_filter: models.Filter | None = None,
        limit: int = 10,
        exact: bool = False,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.FacetResponse:
        """Counts of the distinct values of a payload key."""
        body = models.FacetRequest(
            key=key, filter=facet_filter, limit=limit, exact=exact, shard_key=shard_key_selector
        )
        return await self._read("facet", collection_name, body, consistency, timeout, headers)

    async def query_points(
        self,
        collection_name: str,
        query: QueryLike | None = None,
        using: str | None = None,
        prefetch: models.Prefetch | Sequence[models.Prefetch] | None = None,
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        limit: int = 10,
        offset: int | None = None,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        score_threshold: float | None = None,
        lookup_from: models.LookupLocation | None = None,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.QueryResponse:
        """The universal query: nearest, recommend, discover, fusion, order by, formula, ...

        ``query`` may be a vector (list or numpy), a point id, a sparse vector or a query model.
        """
        body = _query_request(
            query=query,
            using=using,
            prefetch=prefetch,
            filter=query_filter,
            params=search_params,
            limit=limit,
            offset=offset,
            with_payload=with_payload,
            with_vector=with_vectors,
            score_threshold=score_threshold,
            lookup_from=lookup_from,
            shard_key=shard_key_selector,
        )
        body = await self._embed_inputs(collection_name, body, is_query=True, op="query_points")
        return await self._read(
            "query_points", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def query_batch_points(
        self,
        collection_name: str,
        requests: Sequence[models.QueryRequest],
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> list[models.QueryResponse]:
        """Several queries in one request."""
        body = await self._embed_inputs(
            collection_name, models.QueryRequestBatch(searches=list(requests)), is_query=True, op="query_batch_points"
        )
        return await self._read(
            "query_batch_points", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def query_points_groups(
        self,
        collection_name: str,
        group_by: str,
        query: QueryLike | None = None,
        using: str | None = None,
        prefetch: models.Prefetch | Sequence[models.Prefetch] | None = None,
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        limit: int = 10,
        group_size: int = 3,
        with_payload: models.WithPayloadInterface = True,
        with_vectors: models.WithVector = False,
        score_threshold: float | None = None,
        with_lookup: models.WithLookupInterface | None = None,
        lookup_from: models.LookupLocation | None = None,
        consistency: models.ReadConsistency | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        timeout: float | None = None,
        *,
        headers: Headers = None,
    ) -> models.GroupsResult:
        """Query, grouping hits by a payload key."""
        body = models.QueryGroupsRequest(
            group_by=group_by,
            query=_as_query(query),
            using=using,
            prefetch=_as_list(prefetch),
            filter=query_filter,
            params=search_params,
            limit=limit,
            group_size=group_size,
            with_payload=with_payload,
            with_vector=with_vectors,
            score_threshold=score_threshold,
            with_lookup=with_lookup,
            lookup_from=lookup_from,
            shard_key=shard_key_selector,
        )
        body = await self._embed_inputs(collection_name, body, is_query=True, op="query_points_groups")
        return await self._read(
            "query_points_groups", collection_name, body, consistency, timeout, headers, coerced=True
        )

    async def search_matrix_pairs(
        self,
        collection_name: str,
        query_filter: models.Filter | None = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.SearchMatrixPairsResponse:
        """Distance matrix of a sample of points, as pairs."""
        body = models.SearchMatrixRequest(
            filter=query_filter, limit=limit, sample=sample, using=using, shard_key=shard_key_selector
        )
        return await self._read("search_matrix_pairs", collection_name, body, consistency, timeout, headers)

    async def search_matrix_offsets(
        self,
        collection_name: str,
        query_filter: models.Filter | None = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: models.ReadConsistency | None = None,
        timeout: float | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        *,
        headers: Headers = None,
    ) -> models.SearchMatrixOffsetsResponse:
        """Distance matrix of a sample of points, as a sparse matrix."""
        body = models.SearchMatrixRequest(
            filter=query_filter, limit=limit, sample=sample, using=using, shard_key=shard_key_selector
        )
        return await self._read("search_matrix_offsets", collection_name, body, consistency, timeout, headers)

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

    # ==== local inference (fastembed) ==========================================================
    async def get_embedding_size(self, model_name: str) -> int:
        """Size of the vectors of a fastembed dense / late-interaction model (UnknownModelError if none)."""
        from .inference import embedding_size, ensure_fastembed

        await ensure_fastembed()
        return embedding_size(model_name)

    async def list_text_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's dense text models: ``{name: (dim, distance)}`` (custom models included)."""
        from .inference import ensure_fastembed, list_text_models

        await ensure_fastembed()
        return list_text_models()

    async def list_image_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's dense image models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_image_models

        await ensure_fastembed()
        return list_image_models()

    async def list_late_interaction_text_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late-interaction (multivector) text models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_late_interaction_text_models

        await ensure_fastembed()
        return list_late_interaction_text_models()

    async def list_late_interaction_multimodal_models(self) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late-interaction multimodal models: ``{name: (dim, distance)}``."""
        from .inference import ensure_fastembed, list_late_interaction_multimodal_models

        await ensure_fastembed()
        return list_late_interaction_multimodal_models()

    async def list_sparse_models(self) -> dict[str, dict[str, Any]]:
        """fastembed's sparse models: ``{name: description}``."""
        from .inference import ensure_fastembed, list_sparse_models

        await ensure_fastembed()
        return list_sparse_models()

    # ==== ingestion ============================================================================
    def ingest(self, collection_name: str, **options: Any) -> Ingestor:
        """A concurrent, backpressured upsert actor: ``async with client.ingest("c") as sink:``.

        ``await sink.send(point)`` / ``await sink.send_many(points)``; leaving the block flushes
        and raises :class:`aqdrant.ingest.IngestError` if points failed; ``sink.report`` holds the
        exact accounting. Options: see :class:`aqdrant.ingest.Ingestor`.
        """
        from .ingest import Ingestor

        return Ingestor(self, collection_name, **options)

    async def upload_points(
        self,
        collection_name: str,
        points: Iterable[models.PointStruct],
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        *,
        headers: Headers = None,
        outage_budget: float | None = 60.0,
    ) -> None:
        """Upload points in batches (``parallel`` batches in flight). Default ``wait=True``.

        An unreachable server is waited for up to ``outage_budget`` seconds (None: no limit);
        see :class:`aqdrant.ingest.Ingestor`."""
        from .ingest import upload_points

        await upload_points(
            self,
            collection_name,
            points,
            batch_size=batch_size,
            parallel=parallel,
            max_retries=max_retries,
            wait=wait,
            shard_key_selector=shard_key_selector,
            update_filter=update_filter,
            update_mode=update_mode,
            headers=headers,
            outage_budget=outage_budget,
        )

    async def upload_collection(
        self,
        collection_name: str,
        vectors: UploadVectors,
        payload: Iterable[dict[str, Any]] | None = None,
        ids: Iterable[PointId] | None = None,
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = True,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        *,
        headers: Headers = None,
        outage_budget: float | None = 60.0,
    ) -> None:
        """Upload vectors (2-D numpy array, lists, dict of named arrays, iterables) with payloads.

        numpy arrays go out as ``Batch`` bodies of row views (no per-point objects). ``ids`` may
        be longer than ``vectors`` when it is an iterator (``itertools.count()``): as many are
        taken as there are vectors. An unreachable server is waited for up to ``outage_budget``
        seconds, as ``upload_points``."""
        from .ingest import upload_columns

        ids = _bounded_ids(vectors, ids)
        if ids is not None and not hasattr(ids, "__len__") and not hasattr(ids, "__aiter__") and not hasattr(vectors, "__aiter__"):
            import itertools

            payloads = itertools.repeat(None) if payload is None else payload
            points = (
                models.PointStruct(id=_point_id(i), vector=v, payload=p)
                for v, i, p in zip(vectors, ids, payloads, strict=False)  # ids may go on
            )
            return await self.upload_points(
                collection_name,
                points,
                batch_size=batch_size,
                parallel=parallel,
                max_retries=max_retries,
                wait=wait,
                shard_key_selector=shard_key_selector,
                update_filter=update_filter,
                update_mode=update_mode,
                outage_budget=outage_budget,
                headers=headers,
            )
        await upload_columns(
            self,
            collection_name,
            vectors,
            payload,
            ids,
            batch_size=batch_size,
            parallel=parallel,
            max_retries=max_retries,
            wait=wait,
            shard_key_selector=shard_key_selector,
            update_filter=update_filter,
            update_mode=update_mode,
            headers=headers,
            outage_budget=outage_budget,
        )


#: client arguments by the body field they become, where the names differ (for error messages)
_ARGUMENT_OF = {
    "params": "search_params",
    "with_vector": "with_vectors",
    "shard_key": "shard_key_selector",
    "searches": "requests",
    "operations": "update_operations",
    "vectors": "vectors_config",
}


_FILTER_ARGUMENT = {
    "query_points": "query_filter",
    "query_points_groups": "query_filter",
    "search_matrix_pairs": "query_filter",
    "search_matrix_offsets": "query_filter",
    "scroll_points": "scroll_filter",
    "count_points": "count_filter",
    "facet": "facet_filter",
    "delete_points": "points_selector",
    "clear_payload": "points_selector",
}


def _coerce(op: str, body: Any) -> Any:
    """The body with dicts made models and payload values made JSON (aqdrant/models/_coerce.py);
    a refusal names the argument it came from."""
    if body is None or body.__class__ is bytes or isinstance(body, Path):
        return body
    try:
        body = coerce_body(body)
        check_query_vectors(body)
        return body
    except ValidationError as e:
        path = e.path or "$"
        field = path[2:].split(".")[0].split("[")[0]
        arg = _FILTER_ARGUMENT.get(op, "points") if field == "filter" else _ARGUMENT_OF.get(field, field or "body")
        raise ValidationError(f"{op}: invalid argument `{arg}`: {e}", path=path) from None


class _Secret(str):
    """A credential kept as a ``str`` that shows as ``[secret]`` in reprs."""

    def __repr__(self) -> str:
        return "'[secret]'"


class _InitOptions(dict):
    def __init__(self, **options: Any) -> None:
        if options.get("api_key"):
            options["api_key"] = _Secret(options["api_key"])
        super().__init__(options)


# ---- request building helpers -----------------------------------------------------------------


def _bounded_ids(vectors: Any, ids: Any) -> Any:
    """An id iterator without a length (``itertools.count()``, a generator) taken only as far
    as the vectors go, as the official client does; ids with a length are checked downstream."""
    import itertools

    if ids is None or hasattr(ids, "__len__") or hasattr(ids, "__aiter__"):
        return ids
    if isinstance(vectors, Mapping):
        n = len(next(iter(vectors.values()))) if vectors and hasattr(next(iter(vectors.values())), "__len__") else None
    else:
        n = len(vectors) if hasattr(vectors, "__len__") else None
    if n is not None:
        return list(itertools.islice(ids, n))
    return ids  # vectors of unknown length too: zipped in upload_collection


def _point_id(value: Any) -> Any:
    """Point ids are unsigned ints or UUID strings; UUID objects become strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _split_selector(selector: PointsSelectorLike) -> tuple[list[Any] | None, models.Filter | None]:
    selector = from_official(selector)
    if isinstance(selector, Mapping):  # a selector or a filter given as a dict
        if "points" in selector:
            selector = models.parse(models.PointIdsList, selector)
        elif "filter" in selector:
            selector = models.parse(models.FilterSelector, selector)
        else:
            selector = models.parse(models.Filter, selector)
    if isinstance(selector, models.Filter):
        return None, selector
    if isinstance(selector, models.FilterSelector):
        return None, selector.filter
    if isinstance(selector, models.PointIdsList):
        return list(selector.points), None
    if isinstance(selector, (str, bytes, int, uuid.UUID)):
        raise ValidationError("points selector must be a list of ids or a Filter, not a single id")
    return [_point_id(i) for i in selector], None


def _points_selector(selector: PointsSelectorLike, shard_key: Any) -> models.PointsSelector:
    ids, flt = _split_selector(selector)
    if ids is not None:
        return models.PointIdsList(points=ids, shard_key=shard_key)
    return models.FilterSelector(filter=flt, shard_key=shard_key)


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _as_query(query: Any) -> Any:
    """Accept what the official client accepts as ``query``: ids, vectors, models."""
    if isinstance(query, uuid.UUID):
        return str(query)
    return query


def _query_request(*, query: Any, prefetch: Any, **fields: Any) -> models.QueryRequest:
    return models.QueryRequest(query=_as_query(query), prefetch=_as_list(prefetch), **fields)


__all__ = ["AsyncQdrantClient", "NotFound"]
