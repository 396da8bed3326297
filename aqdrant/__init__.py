"""aqdrant: an async-first client for the Qdrant vector database, on anyio (asyncio and trio)."""

from __future__ import annotations

from . import models
from .errors import (
    BadRequest,
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
)

__version__ = "0.1.0"

__all__ = [
    "models",
    "QdrantError",
    "ValidationError",
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
]
