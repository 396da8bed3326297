"""The contract between the request pipeline and a backend (REST, gRPC, local engine).

The pipeline (aqdrant/_pipeline.py) owns headers, auth, the deadline, retries and error typing;
a backend only carries one attempt of one operation and returns the decoded ``result``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._optable import Operation


@dataclass(slots=True)
class Request:
    """One call of one operation, as the pipeline hands it to a backend."""

    op: Operation
    path_params: dict[str, Any] = field(default_factory=dict)
    #: query parameters with None values already dropped; ``timeout`` (whole seconds) is set by
    #: the pipeline from the remaining budget when the operation has it
    query: dict[str, Any] = field(default_factory=dict)
    #: a model instance, builtins, or None; for multipart operations a path or binary file object
    body: Any = None
    #: final headers (client defaults, contextvar scope, per-call, auth) - lower-case names
    headers: dict[str, str] = field(default_factory=dict)
    #: absolute deadline on anyio's clock (``anyio.current_time()``), or None
    deadline: float | None = None

    @property
    def collection(self) -> str | None:
        return self.path_params.get("collection_name")


class Backend(Protocol):
    """One transport to one Qdrant (or the embedded engine)."""

    async def execute(self, request: Request) -> Any:
        """Run one attempt; return the decoded result (typed as ``request.op.result_type``).

        Raises a :class:`aqdrant.errors.QdrantError` subclass: ``UnexpectedResponse`` (by status)
        for server errors, ``TransportError`` for delivery failures (``sent=False`` only when the
        request provably never left), ``UnsupportedOperation`` when the backend cannot serve it.
        """
        ...

    def stream(self, request: Request) -> AsyncIterator[bytes]:
        """Run a binary-response operation (snapshot download) as a stream of chunks."""
        ...

    async def aclose(self) -> None: ...
