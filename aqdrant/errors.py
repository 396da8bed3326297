"""One error hierarchy for every backend, rooted at :class:`QdrantError`.

Messages name the operation, the collection and (for server errors) the status and the
server's own text. They never include credentials: headers are not part of any message.
"""

from __future__ import annotations

from typing import Any


class QdrantError(Exception):
    """Base of every error aqdrant raises."""


class ValidationError(QdrantError, ValueError):
    """Input or data that does not fit the model; raised before anything is sent.

    ``path`` is the JSON path of the offending value (``$.points[3].vector``) when known.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ClientClosedError(QdrantError, RuntimeError):
    """The client was closed; make a new one."""


class UnsupportedOperation(QdrantError, NotImplementedError):
    """The backend in use cannot serve this operation (e.g. cluster calls on the local engine)."""


class TransportError(QdrantError):
    """The request could not be delivered or the response not read (connect, reset, protocol)."""

    def __init__(self, message: str, *, operation: str | None = None, sent: bool = True) -> None:
        super().__init__(message)
        self.operation = operation
        #: False only when the request provably never left this process (connect failure).
        self.sent = sent
        #: every attempt's error, this one last (set by the pipeline when it gives up)
        self.attempts: list[BaseException] = []


class DeadlineExceeded(QdrantError, TimeoutError):
    """The call's total time budget (all attempts and backoff sleeps) ran out."""

    def __init__(self, message: str, *, operation: str | None = None, attempts: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.attempts = attempts or []
        self.collection: str | None = None


class UnexpectedResponse(QdrantError):
    """The server answered with an error status. Subclasses by status below."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        operation: str | None = None,
        collection: str | None = None,
        content: bytes = b"",
        headers: Any = None,
        attempts: list[BaseException] | None = None,
    ) -> None:
        self.status_code = status_code
        self.server_message = message
        self.operation = operation
        self.collection = collection
        self.content = content
        self.headers = headers
        self.attempts = attempts or []
        where = f" on collection {collection!r}" if collection else ""
        super().__init__(f"{operation or 'request'}{where} failed with status {status_code}: {message}")

    @classmethod
    def for_status(cls, status_code: int, message: str, **kw: Any) -> UnexpectedResponse:
        kind = _BY_STATUS.get(status_code)
        if kind is None:
            kind = ServerError if status_code >= 500 else UnexpectedResponse
        return kind(status_code, message, **kw)


class BadRequest(UnexpectedResponse):
    """400: the server rejected the request as invalid."""


class Unauthorized(UnexpectedResponse):
    """401/403: missing or wrong credentials."""


class NotFound(UnexpectedResponse):
    """404: e.g. the collection does not exist."""


class Conflict(UnexpectedResponse):
    """409: e.g. the collection already exists."""


class RateLimited(UnexpectedResponse):
    """429: too many requests; ``retry_after`` holds the server's hint in seconds, if any."""

    retry_after: float | None = None


class ServerError(UnexpectedResponse):
    """5xx."""


class WrongInput(ValidationError, BadRequest):
    """Input the server refuses (400, or 422 for a bound of the spec), found before sending: a
    vector name or size the collection does not have, a limit of 0, an empty json path. It is
    caught where the server's answer would be: ``except UnexpectedResponse`` (what the official
    client raises for it, with the server's words) as well as ``except ValueError`` /
    ``ValidationError``."""

    def __init__(self, message: str, path: str | None = None, *, status_code: int = 400) -> None:
        BadRequest.__init__(self, status_code, message)
        self.path = path
        self.args = (message,)


_BY_STATUS: dict[int, type[UnexpectedResponse]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
    429: RateLimited,
}
