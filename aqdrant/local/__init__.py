"""The embedded local engine: qdrant-edge shards in an engine process, behind the Backend protocol.

See :mod:`aqdrant.local.backend` for what is supported, what warns and what is refused.
"""

from __future__ import annotations

from .backend import EngineProcessError, LocalBackend, LocalEngineWarning, LocalStorageError, StorageLocked

__all__ = ["LocalBackend", "LocalEngineWarning", "LocalStorageError", "StorageLocked", "EngineProcessError"]
