"""A cheap upper bound of a point's size on the wire, so batches stay under the request limit.

Nothing is encoded twice: vectors are sized from their shape and dtype (the longest text a
number of that kind can take), payloads by encoding them once with msgspec (fast, and exact).
"""

from __future__ import annotations

import sys
from typing import Any

from .. import models

#: the server's default request body limit (``service.max_request_size_mb`` = 32)
SERVER_LIMIT = 32 * 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024

# longest JSON text of one number plus its comma: float32 shortest digits ("-1.1754944e-38"),
# float64 ("-2.2250738585072014e-308"), 64-bit integers
_F32, _F64, _INT = 16, 26, 21
_POINT_OVERHEAD = 64  # {"id":...,"vector":...,"payload":...} and a UUID id

def _number_width(arr: Any) -> int:
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "f":
        return _F32 if size <= 4 else _F64
    return _INT


def vector_bytes(v: Any) -> int:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, np.ndarray):
        return v.size * _number_width(v) + 2 * (v.ndim or 1)
    if isinstance(v, (list, tuple)):
        if v and not isinstance(v[0], (int, float)):
            return sum(vector_bytes(row) for row in v) + 2  # multivector
        return _F64 * len(v) + 2
    if isinstance(v, dict):
        return sum(len(k) + 4 + vector_bytes(x) for k, x in v.items()) + 2
    if isinstance(v, models.SparseVector):
        return _INT * len(v.indices) + _F64 * len(v.values) + 32
    if v is None:
        return 4
    try:
        return len(models.dump(v))
    except Exception:  # not encodable: the upsert will say so, naming the point
        return 0


def payload_bytes(payload: Any) -> int:
    if not payload:
        return 4
    try:
        return len(models.dump(payload))
    except Exception:  # not encodable: the upsert will say so, naming the point
        return 0


def point_bytes(point: models.PointStruct) -> int:
    """An upper bound of ``len(models.dump(point))`` (+ a comma)."""
    return _POINT_OVERHEAD + vector_bytes(point.vector) + payload_bytes(point.payload)
