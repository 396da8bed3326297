"""What both of the dev server's endpoints (REST in :mod:`.app`, gRPC in :mod:`.grpc`) say about
themselves and whom they let read: the server's title and API version, and the read-only key's
operations."""

from __future__ import annotations

import math

from .._optable import Operation
from ..errors import (
    QdrantError,
    RateLimited,
    TransportError,
    UnexpectedResponse,
    UnsupportedOperation,
    ValidationError,
)

TITLE = "qdrant - vector search engine"
VERSION = "1.19.0"
#: the commit Qdrant 1.19.0 was built from is not ours to claim: ``GET /`` writes null, as a
#: build without git metadata does
COMMIT: str | None = None

#: operations a read-only API key may run: every GET, and these POSTs (reads with a body)
READ_OPS = frozenset({
    "get_points", "scroll_points", "count_points", "query_points", "query_batch_points",
    "query_points_groups", "facet", "search_matrix_pairs", "search_matrix_offsets",
})  # fmt: skip
_READ_ONLY_REFUSAL = "Forbidden: Only read-only access is allowed"


def is_read(op: Operation) -> bool:
    return op.method in ("GET", "HEAD") or op.name in READ_OPS


class HttpError(Exception):
    """An error answered with Qdrant's error envelope and ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def backend_error(e: QdrantError) -> HttpError:
    """The answer to an error of the backend (the engine), as Qdrant gives it: one table for REST
    and gRPC (which takes the status through ``server.grpc._http_to_grpc``)."""
    if isinstance(e, RateLimited):
        hint = {"retry-after": str(max(1, math.ceil(e.retry_after)))} if e.retry_after is not None else None
        return HttpError(e.status_code, e.server_message, hint)
    if isinstance(e, UnexpectedResponse):
        return HttpError(e.status_code, e.server_message)
    if isinstance(e, UnsupportedOperation):
        return HttpError(501, f"Not implemented by the aqdrant dev server: {e}")
    if isinstance(e, ValidationError):
        return HttpError(400, f"Validation error: {e}")
    if isinstance(e, TransportError):  # the engine's process is down (it restarts): worth a retry
        return HttpError(503, f"Service unavailable: {e}")
    return HttpError(500, f"Service internal error: {e}")
