"""Server outages during an ingestion: which errors mean "no server", and the one clock the
sender tasks share to wait one out.

A restart (rolling upgrade, rescheduled pod, OOM kill) shows up as refused connections, requests
reset or timed out in flight, or a proxy's 502/503/504 (429: the server asks to slow down). None
of these says anything about the points, so a batch that meets them waits with backoff and is
sent again when the server answers. Sending again is safe: an upsert names its points by id (ids
the caller did not give are generated once, when a point is accepted), so a batch that did land
before the connection broke is only written again, never duplicated.
"""

from __future__ import annotations

import math

from ..errors import DeadlineExceeded, RateLimited, TransportError, UnexpectedResponse

#: seconds an ingestion waits for an unreachable server by default (a restart, a rescheduled pod)
DEFAULT_OUTAGE_BUDGET = 60.0


def unavailable(error: BaseException, statuses: frozenset[int]) -> bool:
    """The attempt failed for want of a server (``statuses``: the retry policy's 429/502/503/504)."""
    if isinstance(error, (TransportError, DeadlineExceeded)):
        return True
    return isinstance(error, UnexpectedResponse) and error.status_code in statuses


def may_have_landed(error: BaseException) -> bool:
    """Whether the failed attempt may still have stored its points: all but a connection that was
    never made and a 429 (the server refuses before doing anything)."""
    if isinstance(error, TransportError) and error.sent is False:
        return False
    return not isinstance(error, RateLimited)


class Outage:
    """Since when nothing has gone through, shared by the senders.

    An outage starts with the first attempt that failed for want of a server since the last
    success (at that attempt's start) and ends with the next success. Batches wait it out while
    ``budget`` seconds (None: no limit) have not passed since it started; once they have, the
    budget is spent for good and the ingestion stops.
    """

    def __init__(self, budget: float | None) -> None:
        self.budget = math.inf if budget is None else float(budget)
        #: start of the current outage, None while the server answers
        self.since: float | None = None
        #: when the last upsert succeeded
        self.last_success = -math.inf
        #: the error that spent the budget (the ingestion is over once set)
        self.spent: BaseException | None = None
        #: outages seen, and their total length in seconds (the current one not included)
        self.count = 0
        self.seconds = 0.0

    def answered_since(self, started: float) -> bool:
        """Some upsert succeeded after ``started``: the server is there, the failure was one
        request's own (a reset or a timeout), bounded by ``max_retries`` rather than by time."""
        return self.last_success > started

    def succeeded(self, now: float) -> bool:
        """Record a success; True when it ended an outage."""
        self.last_success = now
        if self.since is None:
            return False
        self.seconds += now - self.since
        self.since = None
        return True

    def failed(self, started: float, now: float, error: BaseException) -> float | None:
        """Record an attempt that found no server; the budget left, or None once it is spent."""
        if self.spent is not None:
            return None
        if self.since is None:
            self.since = started
            self.count += 1
        left = self.since + self.budget - now
        if left > 0:
            return left
        self.spent = error
        self.seconds += now - self.since
        self.since = None
        return None
