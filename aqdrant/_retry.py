"""The retry policy: which failures are retried and how long to wait between attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ._optable import Operation
from .errors import RateLimited, TransportError, UnexpectedResponse


@dataclass(frozen=True)
class RetryPolicy:
    """How a call is retried.

    * ``max_attempts``: attempts in total, the first included (1 disables retries).
    * backoff before attempt ``n+1``: ``min(backoff_max, backoff_base * 2 ** (n - 1))``, with
      "full jitter" (uniform in ``[0, that]``) when ``jitter`` is true.
    * a server's ``Retry-After`` (seconds) replaces the backoff when it is longer; a hint longer
      than ``max_retry_after`` is not waited for (the error is raised).
    * retried: connect failures (always - the request never left), and for operations the table
      marks idempotent also other transport failures (resets, read timeouts) and responses with a
      status in ``retry_statuses``. Everything else (validation errors, other 4xx, 500) is not.
    * The call's deadline bounds everything: a wait that would end past it is not started.
    """

    max_attempts: int = 3
    backoff_base: float = 0.1
    backoff_max: float = 5.0
    jitter: bool = True
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 502, 503, 504}))
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0")
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def is_retryable(self, op: Operation, error: BaseException) -> bool:
        """Whether ``error`` (from one attempt of ``op``) may be retried at all."""
        if isinstance(error, TransportError):
            return op.idempotent or error.sent is False
        if isinstance(error, UnexpectedResponse):
            return op.idempotent and error.status_code in self.retry_statuses
        return False

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), before any hint."""
        # the exponent is capped: a long wait (an ingest outlasting an outage) makes many attempts
        cap = min(self.backoff_max, self.backoff_base * (2 ** min(max(0, attempt - 1), 60)))
        return random.uniform(0, cap) if self.jitter else cap

    def delay(self, attempt: int, error: BaseException) -> float | None:
        """Seconds to wait before the next attempt, or None when the server's hint is too long."""
        wait = self.backoff(attempt)
        hint = retry_after_of(error)
        if hint is not None:
            if hint > self.max_retry_after:
                return None
            wait = max(wait, hint)
        return wait


def retry_after_of(error: BaseException) -> float | None:
    """The server's ``Retry-After`` hint (seconds) carried by ``error``, if any."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after
    if isinstance(error, UnexpectedResponse) and error.headers is not None:
        return parse_retry_after(_get_header(error.headers, "retry-after"))
    return None


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds; HTTP dates are turned into a delay from now."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _get_header(headers: object, name: str) -> str | None:
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter(name)
    if value is None:
        for key in getattr(headers, "keys", lambda: ())():
            if isinstance(key, str) and key.lower() == name:
                return getter(key)
    return value
