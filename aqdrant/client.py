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

Layout: this module builds the client (constructor, lifecycle, the first call's version check);
the methods live by concern in the mixins it is composed of (``client_collections``,
``client_points``, ``client_queries``, ``client_snapshots``, ``client_cluster``,
``client_inference``, ``client_ingest``), over what they share in ``client_base``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from . import models
from ._backend import Backend
from ._connect import make_backend
from ._retry import RetryPolicy

# MigrationTarget, PointId, QueryLike, UploadVectors, Headers, PointsSelectorLike: not used here,
# imported so that the names of the public signatures stay importable from aqdrant.client (the
# generated blocking client imports them from here), as when every method was written here
from ._types import (  # noqa: F401
    CertTypes,
    CompressionLike,
    MigrationTarget,
    PointId,
    QueryLike,
    UploadVectors,
    VerifyTypes,
)
from ._validate import VectorValidator
from ._warn import warn
from .client_base import API_VERSION, Headers, PointsSelectorLike  # noqa: F401
from .client_cluster import ClusterOps
from .client_collections import CollectionOps
from .client_inference import InferenceOps
from .client_ingest import IngestOps
from .client_points import PointOps
from .client_queries import QueryOps
from .client_snapshots import SnapshotOps
from .errors import NotFound, ValidationError

#: longest the first call spends on the server-version check (always within the call's deadline)
COMPAT_CHECK_TIMEOUT = 5.0


class AsyncQdrantClient(CollectionOps, PointOps, QueryOps, SnapshotOps, ClusterOps, InferenceOps, IngestOps):
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

    # ---- what the constructor wires in: the first call's version check, the validator's schemas
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


class _Secret(str):
    """A credential kept as a ``str`` that shows as ``[secret]`` in reprs."""

    def __repr__(self) -> str:
        return "'[secret]'"


class _InitOptions(dict):
    def __init__(self, **options: Any) -> None:
        if options.get("api_key"):
            options["api_key"] = _Secret(options["api_key"])
        super().__init__(options)


__all__ = ["AsyncQdrantClient", "NotFound"]
