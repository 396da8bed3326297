"""Backend construction: which transport the client's location arguments make (REST, gRPC with a
REST fallback, or the embedded engine). The client façade (:mod:`aqdrant.client`) calls
:func:`make_backend` and imports no transport itself; ``AsyncQdrantClient(backend=...)`` skips
this module altogether."""

from __future__ import annotations

from typing import Any

from ._backend import Backend
from .errors import ValidationError


def make_backend(
    *,
    location: str | None,
    url: str | None,
    host: str | None,
    port: int | None,
    path: str | None,
    https: bool | None,
    prefix: str | None,
    pool_size: int | None,
    verify: Any,
    cert: Any,
    http2: bool,
    prefer_grpc: bool,
    grpc_port: int,
    grpc_options: dict[str, Any] | None,
    grpc_compression: Any,
    local_optimize: str | None,
    local_optimize_after: float | None,
) -> Backend:
    """The backend of ``AsyncQdrantClient(...)``'s location arguments (see its docstring)."""
    if location == ":memory:" or path is not None:
        from .local import LocalBackend

        options = {"optimize": local_optimize, "optimize_after": local_optimize_after}
        return LocalBackend(path, **{k: v for k, v in options.items() if v is not None})  # type: ignore[no-any-return]
    if local_optimize is not None or local_optimize_after is not None:
        raise ValidationError(
            "local_optimize and local_optimize_after apply to the embedded engine only "
            "(':memory:' or path=), not to a server"
        )
    from .rest import RestBackend

    backend: Any = RestBackend(
        url=url if url is not None else location,
        host=host,
        port=port,
        https=https,
        prefix=prefix,
        pool_size=pool_size,
        verify=verify,
        cert=cert,
        http2=http2,
    )
    if prefer_grpc:
        backend = _grpc_backend(backend, grpc_port, https, grpc_options, _compression(grpc_compression))
    elif grpc_compression is not None and _compression(grpc_compression) is not None:
        raise ValidationError("grpc_compression applies to gRPC (prefer_grpc=True)")
    return backend  # type: ignore[no-any-return]


def _compression(value: Any) -> str | None:
    """``grpc_compression``: grpc.Compression.Gzip / .Deflate / .NoCompression (the official
    client's values, read by name: grpcio is not needed), "gzip", "deflate" or None."""
    if value is None:
        return None
    name = str(getattr(value, "name", value)).lower()
    if name in ("nocompression", "none", "identity"):
        return None
    if name in ("gzip", "deflate"):
        return name
    raise ValidationError(f"grpc_compression={value!r}: use grpc.Compression.Gzip / Deflate / NoCompression, 'gzip' or None")


def _grpc_backend(
    rest: Any, grpc_port: int, https: bool | None, grpc_options: dict[str, Any] | None, compression: str | None = None
) -> Any:
    """gRPC to the same host (aqdrant's HTTP/2 channel, asyncio and trio), with REST as the
    per-call fallback (ops without a gRPC counterpart, shapes the conversion layer does not
    cover yet)."""
    from urllib.parse import urlsplit

    from .grpc.backend import GrpcBackend

    options = dict(grpc_options or {})
    tls = {k: options.pop(k) for k in ("ca_cert", "client_cert", "client_key") if k in options}
    if options:
        raise ValidationError(
            f"unsupported grpc_options {sorted(options)}; known: ca_cert, client_cert, client_key"
        )
    parts = urlsplit(rest.base_url)
    secure = parts.scheme == "https" if https is None else https
    return GrpcBackend(
        parts.hostname or "localhost", grpc_port, ssl=secure, fallback=rest, compression=compression, **tls
    )
