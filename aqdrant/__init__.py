"""aqdrant: an async-first client for the Qdrant vector database, on anyio (asyncio and trio)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import models
from ._headers import request_headers
from ._retry import RetryPolicy
from .errors import (
    BadRequest,
    ClientClosedError,
    Conflict,
    DeadlineExceeded,
    NotFound,
    QdrantError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    UnsupportedOperation,
    ValidationError,
    WrongInput,
)

__version__ = "0.1.0"

# a library logs only where the application configured logging (records of the "aqdrant" loggers
# carry operation, collection and attempt as extra fields)
logging.getLogger("aqdrant").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # the exact classes for type checkers; at run time they load lazily (below)
    from .client import AsyncQdrantClient
    from .sync_shim import QdrantClient


def __getattr__(name: str) -> type:
    # The clients load their transports lazily so that `import aqdrant` stays light.
    if name == "AsyncQdrantClient":
        from .client import AsyncQdrantClient

        return AsyncQdrantClient
    if name == "QdrantClient":
        from .sync_shim import QdrantClient

        return QdrantClient
    raise AttributeError(f"module 'aqdrant' has no attribute {name!r}")


__all__ = [
    "AsyncQdrantClient",
    "QdrantClient",
    "models",
    "request_headers",
    "RetryPolicy",
    "QdrantError",
    "ValidationError",
    "WrongInput",
    "UnsupportedOperation",
    "TransportError",
    "DeadlineExceeded",
    "UnexpectedResponse",
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "Conflict",
    "RateLimited",
    "ServerError",
    "ClientClosedError",
]
