"""The blocking client, ``aqdrant.QdrantClient``: generated from ``AsyncQdrantClient``.

``_generated.py`` is written by ``tools/gen_sync_shim.py`` (never edit it by hand);
``_runner.py`` is the hand-written runtime it calls (one private event loop per client, run by its callers).
"""

from __future__ import annotations

from ._generated import QdrantClient
from ._runner import ClientClosedError, ForkedClientError, SyncInAsyncContextError, SyncIterator

__all__ = [
    "QdrantClient",
    "ClientClosedError",
    "ForkedClientError",
    "SyncInAsyncContextError",
    "SyncIterator",
]
