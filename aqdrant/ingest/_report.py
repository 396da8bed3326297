"""What an ingestion did: :class:`IngestReport`, :class:`BatchFailure` and :class:`IngestError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import QdrantError


@dataclass
class BatchFailure:
    """Points given up on, with the last error seen for them.

    A batch the server (or the client-side validator) rejects as invalid is split until each bad
    point stands alone, so a failure of that kind holds one id; a batch that kept failing for
    other reasons (transport, 5xx, deadline) after every retry holds all of its ids.
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

    Invariant once the ingestion is over: ``sent == acknowledged + failed + len(unconfirmed_ids)``.
    ``unconfirmed_ids`` is empty unless the ingestion was cancelled (or aborted by an error in the
    producer): those points were accepted by the sink but not confirmed by the server; some may
    have been stored. Upserts with explicit ids are idempotent, so sending them again is safe.
    """

    collection_name: str
    #: points accepted by ``send``/``send_many``
    sent: int = 0
    #: points the server confirmed (``wait=True``: stored; ``wait=False``: accepted)
    acknowledged: int = 0
    #: one entry per group of points given up on
    failures: list[BatchFailure] = field(default_factory=list)
    #: extra upsert attempts made by the ingestor (on top of the pipeline's own retries)
    retries: int = 0
    #: batches cut from the stream of points
    batches: int = 0
    #: upsert calls made (first attempts, retries and the halves of split batches)
    requests: int = 0
    #: seconds from the start of the ingestion to its end (or to now, while it runs)
    elapsed: float = 0.0
    #: the ingestion was cancelled or aborted before everything was confirmed
    cancelled: bool = False
    #: accepted but neither acknowledged nor failed (only after a cancellation)
    unconfirmed_ids: list[Any] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(len(f.ids) for f in self.failures)

    @property
    def failed_ids(self) -> list[Any]:
        return [i for f in self.failures for i in f.ids]

    @property
    def pending(self) -> int:
        """Points accepted and not yet acknowledged or failed."""
        return self.sent - self.acknowledged - self.failed

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled and self.pending == 0

    def __str__(self) -> str:
        rate = self.acknowledged / self.elapsed if self.elapsed > 0 else 0.0
        text = (
            f"ingest into {self.collection_name!r}: {self.acknowledged}/{self.sent} points acknowledged, "
            f"{self.failed} failed, {self.retries} retries, {self.batches} batches, "
            f"{self.requests} requests, {self.elapsed:.2f} s ({rate:,.0f} points/s)"
        )
        if self.cancelled:
            text += f"; cancelled with {len(self.unconfirmed_ids)} points unconfirmed"
        return text


class IngestError(QdrantError):
    """Some points were not stored; ``report`` says which (``report.failures``) and why."""

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        lines = [str(report)]
        for f in report.failures[:5]:
            ids = f.ids if len(f.ids) <= 5 else [*f.ids[:5], "..."]
            lines.append(f"  {len(f.ids)} point(s) {ids}: {type(f.error).__name__}: {f.message}")
        if len(report.failures) > 5:
            lines.append(f"  ... and {len(report.failures) - 5} more failures")
        super().__init__("\n".join(lines))
