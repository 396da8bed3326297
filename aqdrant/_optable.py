"""The shape of one entry of the operation table (the table itself is generated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    type: Any
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """One server operation: read by the REST backend, the dev server, the shim and the docs."""

    name: str  # the OpenAPI operationId
    method: str
    path: str  # template, e.g. /collections/{collection_name}/points
    path_params: tuple[str, ...]
    query_params: tuple[QueryParam, ...]
    body_kind: str  # json | multipart | none
    body_type: Any
    response_kind: str  # envelope | json | binary | text
    result_type: Any
    idempotent: bool  # safe to retry after the request may have reached the server
    grpc: str | None  # Service.Method of the gRPC counterpart, if any
    summary: str = ""
    #: the operation takes a ``timeout`` query parameter (read by the pipeline on every call:
    #: computed once here, not scanned per call)
    has_timeout: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_timeout", any(q.name == "timeout" for q in self.query_params))

    def url_path(self, **path_values: Any) -> str:
        from urllib.parse import quote

        return self.path.format(**{k: quote(str(v), safe="") for k, v in path_values.items()})
