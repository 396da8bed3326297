"""What an ingestion did: :class:`IngestReport`, :class:`BatchFailure` and :class:`IngestError`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from ..errors import QdrantError, UnexpectedResponse


@dataclass
class BatchFailure:
    """Points given up on, with the last error seen for them.

    A batch the server (or the client-side validator) rejects as invalid is split until each bad
    point stands alone, so a failure of that kind holds one id; a batch refused for another
    reason (404 for a missing collection, 401, a 500) holds all of its ids. Points that could not
    be delivered (no server) are never failures: see ``unconfirmed_ids`` and ``not_sent_ids``.
    """

    ids: list[Any]
    error: BaseException
    attempts: int = 1

    @property
    def message(self) -> str:
        return str(self.error)


@dataclass
class IngestReport:
    """Exact accounting of one ingestion.

    Once the ingestion is over every point accepted is in exactly one of four places:
    ``sent == acknowledged + failed + len(unconfirmed_ids) + len(not_sent_ids)``.

    * acknowledged: the server confirmed them (``wait=True``: stored).
    * failed (``failures``): the server (or the client-side check) rejected them, with the reason.
    * unconfirmed: sent, outcome unknown - the connection broke or the request timed out and
      no later attempt was confirmed. Some may be stored; sending them again is safe (an upsert
      by id writes the same point again).
    * not sent: never reached the server (still queued, or every attempt was refused).

    The last two are empty unless the server stayed unreachable for the whole outage budget
    (``outage_budget_spent``) or the ingestion was cancelled (``cancelled``). While the server is
    unreachable ``waiting_for_server`` is true and nothing is counted as lost.
    """

    collection_name: str
    #: points accepted by ``send``/``send_many``/``send_columns``
    sent: int = 0
    #: points the server confirmed (``wait=True``: stored; ``wait=False``: accepted)
    acknowledged: int = 0
    #: one entry per group of points the server rejected
    failures: list[BatchFailure] = field(default_factory=list)
    #: upsert attempts after the first of a batch (the ingestor is the only one retrying them)
    retries: int = 0
    #: points sent again after an attempt that may have stored them, each counted once (safe:
    #: an upsert by id writes the same point again)
    resent: int = 0
    #: batches cut from the stream of points
    batches: int = 0
    #: upsert calls made (first attempts, retries and the halves of split batches)
    requests: int = 0
    #: seconds from the start of the ingestion to its end (or to now, while it runs)
    elapsed: float = 0.0
    #: the ingestion was cancelled or aborted by the producer's error before everything settled
    cancelled: bool = False
    #: sent but neither acknowledged nor rejected: some may be stored
    unconfirmed_ids: list[Any] = field(default_factory=list)
    #: accepted but never delivered to the server
    not_sent_ids: list[Any] = field(default_factory=list)
    #: the server is unreachable right now and batches wait for it (live)
    waiting_for_server: bool = False
    #: times the server became unreachable, and seconds it was, in total
    outages: int = 0
    outage_seconds: float = 0.0
    #: the server stayed unreachable for the whole outage budget: the ingestion stopped
    outage_budget_spent: bool = False
    #: the last error of points given up as unconfirmed or not sent
    last_outage_error: BaseException | None = None

    @property
    def failed(self) -> int:
        return sum(len(f.ids) for f in self.failures)

    @property
    def failed_ids(self) -> list[Any]:
        return [i for f in self.failures for i in f.ids]

    @property
    def unconfirmed(self) -> int:
        return len(self.unconfirmed_ids)

    @property
    def not_sent(self) -> int:
        return len(self.not_sent_ids)

    @property
    def pending(self) -> int:
        """Points accepted and not settled yet (in a batch, in flight or waiting for the server)."""
        return self.sent - self.acknowledged - self.failed - self.unconfirmed - self.not_sent

    @property
    def ok(self) -> bool:
        """Every point accepted was acknowledged."""
        return self.acknowledged == self.sent and not self.cancelled

    def __str__(self) -> str:
        rate = self.acknowledged / self.elapsed if self.elapsed > 0 else 0.0
        text = (
            f"ingest into {self.collection_name!r}: {self.acknowledged}/{self.sent} points acknowledged, "
            f"{self.failed} failed, {self.unconfirmed} unconfirmed, {self.not_sent} not sent; "
            f"{self.retries} retries ({self.resent} points re-sent), {self.batches} batches, "
            f"{self.requests} requests, {self.elapsed:.2f} s ({rate:,.0f} points/s)"
        )
        if self.outages:
            text += f"; server unreachable {self.outages} time(s), {self.outage_seconds:.1f} s in all"
        if self.waiting_for_server:
            text += "; waiting for the server"
        if self.outage_budget_spent:
            text += "; stopped: the server stayed unreachable for the whole outage budget"
        if self.cancelled:
            text += "; cancelled"
        return text


class IngestError(QdrantError):
    """Some points were not acknowledged; ``report`` says which (``failures``,
    ``unconfirmed_ids``, ``not_sent_ids``) and why."""

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        lines = [str(report)]
        for f in report.failures[:5]:
            ids = f.ids if len(f.ids) <= 5 else [*f.ids[:5], "..."]
            lines.append(f"  {len(f.ids)} point(s) {ids}: {type(f.error).__name__}: {f.message}")
        if len(report.failures) > 5:
            lines.append(f"  ... and {len(report.failures) - 5} more failures")
        if report.last_outage_error is not None:
            e = report.last_outage_error
            lines.append(f"  not delivered (unconfirmed or not sent), last error: {type(e).__name__}: {e}")
        super().__init__("\n".join(lines))


#: what an UnexpectedResponse carries, copied from the rejection onto the IngestError
_RESPONSE_FIELDS = ("status_code", "server_message", "operation", "collection", "content", "headers", "path")


@functools.cache
def _ingest_error_also(kind: type[UnexpectedResponse]) -> type[IngestError]:
    return type("IngestError", (IngestError, kind), {"__module__": IngestError.__module__})


def ingest_error(report: IngestReport) -> IngestError:
    """The error for a report that is not ok. When every point that failed was rejected for one
    reason the server gives (``UnexpectedResponse``, e.g. a vector name the collection does not
    have) and nothing else went wrong, it is also of that reason's class, with its status: the
    official client's ``upload_points`` / ``upload_collection`` raise the server's
    ``UnexpectedResponse`` there, so code catching that keeps working."""
    error = IngestError(report)
    kinds = {type(f.error) for f in report.failures}
    only_rejected = not (report.unconfirmed_ids or report.not_sent_ids or report.cancelled)
    if len(kinds) == 1 and only_rejected and issubclass(kind := kinds.pop(), UnexpectedResponse):
        first = report.failures[0].error
        error.__class__ = _ingest_error_also(kind)
        for name in _RESPONSE_FIELDS:
            if hasattr(first, name):
                setattr(error, name, getattr(first, name))
        error.attempts = []
    return error
