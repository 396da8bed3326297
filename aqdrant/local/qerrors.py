"""Qdrant's error texts and statuses: the one table the engine wrapper answers errors from.

Runs inside the engine process (imported as a top-level sibling of engine.py, like convert.py).
Qdrant 1.19 answers with a ``StorageError`` whose text starts with its kind's prefix and whose
kind decides the REST status (lib/storage/src/content_manager/errors.rs, src/actix/helpers.rs):

==================  ========================  ======  ===================
kind                text                      status  gRPC
==================  ========================  ======  ===================
BadInput            ``Wrong input: ...``      400     INVALID_ARGUMENT
AlreadyExists       ``Wrong input: ...``      409     ALREADY_EXISTS
NotFound            ``Not found: ...``        404     NOT_FOUND
BadRequest          ``Bad request: ...``      400     INVALID_ARGUMENT
(strict mode)       ``Bad request: E. Help: S``  400  INVALID_ARGUMENT
RateLimitExceeded   ``Rate limiting exceeded: ...``  429  RESOURCE_EXHAUSTED
ServiceError        ``Service internal error: ...``  500  INTERNAL
==================  ========================  ======  ===================

The dev server writes ``status``/``message`` as they are (REST status and ``{"status": {"error":
message}}``; gRPC maps the status, aqdrant/server/grpc.py); local mode raises the
``UnexpectedResponse`` subclass of the status carrying the same text.

qdrant-edge raises a plain ``Exception`` whose text is the segment's ``OperationError`` without
the collection layer's prefix; :func:`from_engine` adds it as the server's ``From<OperationError>
for CollectionError`` does (:data:`ENGINE_MESSAGES`).
"""

from __future__ import annotations

import re


class QdrantFault(Exception):
    """An error answered to the caller exactly as Qdrant would (``status``, full ``message``)."""

    def __init__(self, status: int, message: str, kind: str = "status") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        #: seconds until a rate-limited request may succeed (Qdrant's ``Retry-After``), if known
        self.retry_after: float | None = None

    def reply(self) -> dict:
        """The error as the engine's reply frame carries it."""
        out: dict = {"kind": self.kind, "status": self.status, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


# -- the kinds ---------------------------------------------------------------------------------


def wrong_input(description: str) -> QdrantFault:
    return QdrantFault(400, f"Wrong input: {description}")


def already_exists(description: str) -> QdrantFault:
    return QdrantFault(409, f"Wrong input: {description}")


def not_found(description: str) -> QdrantFault:
    return QdrantFault(404, f"Not found: {description}")


def bad_request(description: str) -> QdrantFault:
    return QdrantFault(400, f"Bad request: {description}")


def strict_mode(error: str, solution: str) -> QdrantFault:
    """A strict-mode refusal (CollectionError::strict_mode, answered as StorageError::BadRequest)."""
    return bad_request(f"{error}. Help: {solution}")


def rate_limited(description: str, retry_after: float | None = None) -> QdrantFault:
    fault = QdrantFault(429, f"Rate limiting exceeded: {description}")
    fault.retry_after = retry_after
    return fault


def service_error(description: str) -> QdrantFault:
    return QdrantFault(500, f"Service internal error: {description}")


# -- the texts the wrapper itself raises ----------------------------------------------------------


def collection_not_found(name: str) -> QdrantFault:
    return not_found(f"Collection `{name}` doesn't exist!")


def collection_exists(name: str) -> QdrantFault:
    return already_exists(f"Collection `{name}` already exists!")


def alias_name_taken(name: str) -> QdrantFault:
    return wrong_input(f"Can't create collection with name {name}. Alias with the same name already exists")


def alias_not_found(name: str) -> QdrantFault:
    return not_found(f"Alias {name} does not exists!")


def lookup_collection_not_found(name: str) -> QdrantFault:
    """``with_lookup`` names a collection that does not exist (lookup/mod.rs: CollectionError::NotFound)."""
    return not_found(f"Collection {name} not found")


def vector_name_not_exists(name: str) -> QdrantFault:
    """A vector read from a collection that has no vector of that name (segment's
    OperationError::VectorNameNotExists, answered as BadInput)."""
    return wrong_input(f"Not existing vector name error: {name}")


def point_not_found(pid: object) -> QdrantFault:
    return not_found(f"No point with id {pid} found")


def vector_not_configured(name: str, dense: list[str], sparse: list[str]) -> QdrantFault:
    """A query names a vector the collection does not have (CollectionParams::missing_vector_error;
    ``dense``: the dense names, ``[""]`` for one unnamed vector)."""
    available = sorted(dense) + sorted(sparse)
    if not available:
        return wrong_input("Vectors are not configured in this collection")
    if available == [""]:
        return wrong_input(f"Vector with name {name} is not configured in this collection")
    names = ", ".join(available)
    if name == "":
        return wrong_input(
            f"Collection requires specified vector name in the request, available names: {names}"
        )
    return wrong_input(
        f"Vector with name `{name}` is not configured in this collection, available names: {names}"
    )


def vector_params_not_found(name: str) -> QdrantFault:
    """PATCH of a dense vector's params the collection does not have (get_vector_params_mut)."""
    if name == "":
        return wrong_input("Default vector params are not specified in config")
    return wrong_input(f"Vector params for {name} are not specified in config")


def sparse_params_not_found(name: str) -> QdrantFault:
    """PATCH of a sparse vector the collection does not have (get_sparse_vector_params_mut)."""
    return wrong_input(f"Sparse vector `{name}` is not specified in collection config")


def referenced_vector_not_found(name: str) -> QdrantFault:
    """A point used as a query example has no vector of that name (collection_query.rs)."""
    return not_found(f'Vector with name "{name}" for point not found')


# the query planner's own checks (lib/collection/src/operations/universal_query/collection_query.rs)
PREFETCH_WITHOUT_QUERY = (
    "A query is needed to merge the prefetches. Can't have prefetches without defining a query."
)
THRESHOLD_WITH_ORDER_BY = "Can't use score_threshold with an order_by query."
THRESHOLD_WITHOUT_QUERY = (
    "A query is needed to use the score_threshold. Can't have score_threshold without defining a query."
)
FUSION_WITH_USING = "Fusion queries cannot be combined with the 'using' field."
AVERAGE_WITHOUT_POSITIVES = "Positive vectors should not be empty with `average` strategy"
AVERAGE_MIXED_KINDS = "Can't average vectors with different types"
AVERAGE_POS_NEG_KINDS = (
    "Positive and negative vectors should be of the same type, either all dense or all sparse or all multi"
)


def validation_failed(description: str) -> QdrantFault:
    """OperationError::ValidationError, as the collection layer answers it (BadInput)."""
    return wrong_input(f"Validation failed: {description}")


# -- engine messages -----------------------------------------------------------------------------

#: qdrant-edge's messages (segment ``OperationError`` texts) -> the fault Qdrant answers; first
#: match wins. Unlisted messages are answered as BadInput: every OperationError a request can
#: cause is one (service errors are what the engine process reports as ``internal``).
ENGINE_MESSAGES: list[tuple[re.Pattern[str], object]] = [
    # PointIdError -> CollectionError::PointNotFound -> StorageError::NotFound
    (re.compile(r"^No point with id (?P<id>\S+?)(?: found)?$"), lambda m: point_not_found(m["id"])),
    (re.compile(r"^Vector dimension error: "), wrong_input),
    (re.compile(r"^Not existing vector name error: "), wrong_input),
    (re.compile(r"^Validation failed: "), wrong_input),
    (re.compile(r"^No range index for `order_by` key"), wrong_input),
    (re.compile(r"^No appropriate index for faceting"), wrong_input),
    (re.compile(r"^Conversion between "), wrong_input),
    (re.compile(r"^(Wrong input|Not found|Bad request|Service internal error): "), None),
    (re.compile(r"^Operation timed out|^Timeout"), lambda m: QdrantFault(408, f"Timeout error: {m.string}")),
    (re.compile(r"^Service internal error|^Service runtime error"), service_error),
]


def format_error(description: str) -> QdrantFault:
    """A value Qdrant cannot deserialize (actix's JSON extractor: 400 ``Format error in JSON body``)."""
    return QdrantFault(400, f"Format error in JSON body: {description}")


#: ValueErrors of qdrant-edge's Python binding (it checks some values while building its request
#: objects, where Qdrant checks them while deserializing) -> Qdrant's fault; first match wins
BINDING_MESSAGES: list[tuple[re.Pattern[str], object]] = [
    # segment::json_path's Deserialize: `Invalid json path: '<path>'`
    (re.compile(r"^invalid JSON path (?P<path>.*)$", re.S), lambda m: format_error(f"Invalid json path: '{m['path']}'")),
]


def from_binding(error: ValueError) -> QdrantFault | None:
    """Qdrant's fault for a ValueError the binding raised (:data:`BINDING_MESSAGES`), or None."""
    text = str(error)
    for pattern, make in BINDING_MESSAGES:
        m = pattern.search(text)
        if m is not None:
            return make(m)  # type: ignore[operator]
    return None


def missing_field(name: object) -> QdrantFault:
    """A request without a field the operation needs (serde's ``missing field `x```)."""
    return format_error(f"missing field `{name}`")


def from_engine(message: str) -> QdrantFault:
    """The fault Qdrant answers for an engine error text (:data:`ENGINE_MESSAGES`)."""
    text = message.rstrip("\n")  # keep a trailing space: "Not existing vector name error: " names ""
    for pattern, make in ENGINE_MESSAGES:
        m = pattern.search(text)
        if m is None:
            continue
        if make is None:  # already carries Qdrant's prefix
            status = 404 if text.startswith("Not found") else 500 if text.startswith("Service") else 400
            return QdrantFault(status, text)
        if make in (wrong_input, service_error):
            return make(text)  # type: ignore[operator]
        return make(m)  # type: ignore[operator]
    return wrong_input(text)
