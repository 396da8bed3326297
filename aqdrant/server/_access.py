"""What both of the dev server's endpoints (REST in :mod:`.app`, gRPC in :mod:`.grpc`) say about
themselves and whom they let read: the server's title and API version, and the read-only key's
operations."""

from __future__ import annotations

from .._optable import Operation

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
