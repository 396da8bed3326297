"""The ingestion actor: producers -> bounded buffer of batches -> N senders -> acknowledgements.

``async with client.ingest("coll") as sink:`` starts a task group owning ``concurrency`` sender
tasks. ``await sink.send(point)`` appends to the batch being filled; a full batch (by count or
by estimated encoded size) goes into a memory object stream holding at most ``buffer_batches``
batches, so a producer faster than the server waits there (backpressure) and memory stays
bounded by ``batch_size * (buffer_batches + concurrency + 1)`` points.

Each sender upserts one batch at a time through ``client.upsert`` (validation, deadline). The
actor is the one retry authority: its upserts run under ``RetryPolicy.none()``, so every attempt
is made - and counted - here. A batch rejected as invalid (``BadRequest`` from the server,
``ValidationError`` from the client-side check) is split until the bad points stand alone - the
good ones land, the bad ones are reported as failed with their ids and the message. A batch that
finds no server (refused, reset, timed out, 429/502/503/504) waits with backoff and is sent again
when the server answers, for up to ``outage_budget`` seconds of outage (:mod:`._outage`); once
that is spent the ingestion stops and reports what did not land as unconfirmed (sent, outcome
unknown) or not sent. Leaving the block flushes, waits for every batch and raises
:class:`IngestError` unless every point was acknowledged (``raise_on_failure=False`` to only
report).
"""

from __future__ import annotations

import inspect
import itertools
import logging
import re
import uuid
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Protocol

import anyio
import msgspec
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .. import _telemetry, models
from .._pipeline import retry_policy
from .._retry import RetryPolicy, retry_after_of
from ..errors import BadRequest, QdrantError, ValidationError
from ._batch import ColumnBatch, column_arrays, fit, ids_source, take
from ._outage import DEFAULT_OUTAGE_BUDGET, Outage, may_have_landed, unavailable
from ._report import BatchFailure, IngestReport, ingest_error
from ._size import DEFAULT_MAX_BATCH_BYTES, point_bytes


class Upserter(Protocol):
    """What the ingest actor needs of a client (``AsyncQdrantClient`` is one): its ``upsert``.
    A protocol rather than the class, so ingest does not import the client that imports it."""

    async def upsert(self, collection_name: str, points: Any, **kwargs: Any) -> Any: ...

logger = logging.getLogger("aqdrant.ingest")

ProgressCallback = Callable[[IngestReport], Any]

#: the point a client-side ValidationError names, in a list body or a Batch body
_POINT_INDEX = re.compile(r"^\$\.(?:points|batch\.vectors(?:\.[^\[]+)?)\[(\d+)\]")
_END = object()


def _ids_of(unit: Any) -> list[Any]:
    return list(unit.ids) if isinstance(unit, ColumnBatch) else [p.id for p in unit]
_tokens = itertools.count()


def as_point(obj: Any) -> models.PointStruct:
    """A ``PointStruct`` from a ``PointStruct``, a dict ``{"id", "vector", "payload"}`` or a record."""
    if isinstance(obj, models.PointStruct):
        if isinstance(obj.id, uuid.UUID):
            obj.id = str(obj.id)
        return obj
    if isinstance(obj, Mapping):
        try:
            pid = obj["id"]
        except KeyError:
            raise ValidationError(f"a point given as a dict needs an 'id' (got keys {sorted(obj)})") from None
        vector, payload = obj.get("vector", {}), obj.get("payload")
    elif hasattr(obj, "id") and hasattr(obj, "vector"):  # Record / ScoredPoint-like
        pid, vector, payload = obj.id, obj.vector, getattr(obj, "payload", None)
    else:
        raise ValidationError(f"cannot ingest {type(obj).__name__}: give PointStruct or dict points")
    if isinstance(pid, uuid.UUID):
        pid = str(pid)
    return models.PointStruct(id=pid, vector=vector if vector is not None else {}, payload=payload)


#: the pipeline does not retry the actor's upserts: the actor is their one retry authority
_NO_RETRY = RetryPolicy.none()


class _OutageOver(QdrantError):
    """Raised to the producer once the outage budget is spent; the block turns it into the
    final :class:`IngestError` (or the report alone with ``raise_on_failure=False``)."""


# Errors that mean "something in this batch is invalid": the server's 400/422, the client-side
# validator, and what encoding raises for a value it cannot write (e.g. an object in a payload).
_INVALID_INPUT = (
    BadRequest,
    ValidationError,
    TypeError,
    ValueError,
    NotImplementedError,
    msgspec.MsgspecError,
)


def _splittable(error: BaseException) -> bool:
    return isinstance(error, _INVALID_INPUT)


class _Tries:
    """The attempts at one batch (or part of one)."""

    __slots__ = ("count", "started", "landed", "resent", "own_failures", "waits", "last_error")

    def __init__(self, landed: bool = False) -> None:
        self.count = 0
        self.started = 0.0
        #: an attempt may have stored the points (a reset or timed-out request, a 502/503/504)
        self.landed = landed
        self.resent = False
        #: failures while other batches went through, and waits during an outage
        self.own_failures = 0
        self.waits = 0
        self.last_error: BaseException | None = None


class Ingestor:
    """Concurrent, backpressured, exactly accounted upserts into one collection.

    Use as ``async with client.ingest(collection_name, ...) as sink``; see the module docstring.

    :param batch_size: points per upsert (at most).
    :param concurrency: sender tasks, i.e. upserts in flight at once.
    :param max_batch_bytes: a batch is also cut before its estimated encoded size passes this
        (default 16 MiB; the server refuses bodies over 32 MB by default). A single point larger
        than this is sent alone.
    :param outage_budget: seconds an ingestion waits for an unreachable server (refused
        connections, requests reset or timed out, 429/502/503/504) before it stops; None waits
        as long as it takes. Batches wait with backoff and are delivered when the server is back;
        the report and the progress bar say "waiting for the server" meanwhile.
    :param max_retries: retries of one batch that fails that way while other batches go through
        (a request of its own reset or timed out); then its points are reported unconfirmed (or
        not sent, if no attempt reached the server) and the ingestion goes on.
    :param wait: upsert with ``wait=True`` (default): acknowledged means stored, errors are seen.
    :param batch_timeout: time limit of one upsert attempt; None uses the client's default.
    :param buffer_batches: full batches waiting for a sender (default: ``concurrency``).
    :param backoff_base, backoff_max: exponential backoff with full jitter between retries (a
        server's ``Retry-After`` is honoured); the :class:`RetryPolicy` rule.
    :param on_progress: ``on_progress(report)`` (sync or async) after each batch settles, when
        the server goes away and when it is back, and at the end.
    :param progress: show a tqdm progress bar (``pip install tqdm``).
    :param total: expected number of points, for the progress bar.
    :param raise_on_failure: raise :class:`IngestError` on exit unless every point was
        acknowledged (some failed, or were unconfirmed or not sent when the budget ran out).
    :param flush_interval: for long-lived sinks fed slowly: a partly filled batch is sent once
        its first point has waited this many seconds (None: only full batches and the exit flush).
    """

    def __init__(
        self,
        client: Upserter,
        collection_name: str,
        *,
        batch_size: int = 256,
        concurrency: int = 4,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        max_retries: int = 3,
        outage_budget: float | None = DEFAULT_OUTAGE_BUDGET,
        wait: bool = True,
        ordering: models.WriteOrdering | None = None,
        shard_key_selector: models.ShardKeySelector | None = None,
        update_filter: models.Filter | None = None,
        update_mode: models.UpdateMode | None = None,
        batch_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        buffer_batches: int | None = None,
        backoff_base: float = 0.2,
        backoff_max: float = 5.0,
        on_progress: ProgressCallback | None = None,
        progress: bool = False,
        total: int | None = None,
        raise_on_failure: bool = True,
        flush_interval: float | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if max_batch_bytes < 1:
            raise ValueError("max_batch_bytes must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if outage_budget is not None and not outage_budget >= 0:
            raise ValueError("outage_budget must be >= 0 seconds (or None: no limit)")
        self.client = client
        self.collection_name = collection_name
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_batch_bytes = max_batch_bytes
        self.max_retries = max_retries
        self.buffer_batches = concurrency if buffer_batches is None else buffer_batches
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        #: the actor's backoff (full jitter, Retry-After) and which statuses mean "no server"
        self._policy = RetryPolicy(
            max_attempts=max_retries + 1, backoff_base=backoff_base, backoff_max=backoff_max
        )
        self._outage = Outage(outage_budget)
        self.raise_on_failure = raise_on_failure
        if flush_interval is not None and flush_interval <= 0:
            raise ValueError("flush_interval must be > 0")
        self.flush_interval = flush_interval
        self._ticker = anyio.CancelScope()
        self._current_since = 0.0
        self._upsert_kwargs: dict[str, Any] = {
            "wait": wait,
            "ordering": ordering,
            "shard_key_selector": shard_key_selector,
            "update_filter": update_filter,
            "update_mode": update_mode,
            "timeout": batch_timeout,
            "headers": headers,
        }
        self._on_progress = on_progress
        self._progress = progress
        self._total = total
        self._bar: Any = None

        self._report = IngestReport(collection_name)
        self._current: list[models.PointStruct] = []
        self._current_bytes = 0
        #: work items (batches or parts of split batches) not yet settled, by token
        self._unsettled: dict[int, list[models.PointStruct]] = {}
        #: tokens of unsettled work that may have reached the server (unconfirmed, not "not sent")
        self._in_doubt: set[int] = set()
        self._tg: TaskGroup | None = None
        self._send_stream: MemoryObjectSendStream[tuple[int, list[models.PointStruct]]] | None = None
        self._recv_stream: MemoryObjectReceiveStream[tuple[int, list[models.PointStruct]]] | None = None
        self._started_at = 0.0
        self._state = "new"  # new -> open -> closing -> done
        #: observed peaks, for tuning (and tests): points accepted but not settled; upserts in flight
        self.max_pending = 0
        self.max_in_flight = 0
        self._in_flight = 0

    # ---- lifecycle ------------------------------------------------------------------------------
    async def __aenter__(self) -> Ingestor:
        if self._state != "new":
            raise RuntimeError("an Ingestor can be used once")
        self._state = "open"
        self._started_at = anyio.current_time()
        if self._progress:
            self._bar = _make_bar(self._total, self.collection_name)
        self._send_stream, self._recv_stream = anyio.create_memory_object_stream[
            tuple[int, list[models.PointStruct]]
        ](self.buffer_batches)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        for _ in range(self.concurrency):
            tg.start_soon(self._sender)
        if self.flush_interval is not None:
            tg.start_soon(self._tick, self.flush_interval)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._tg is not None and self._send_stream is not None
        self._state = "closing"
        self._ticker.cancel()
        own_error: BaseException | None = None
        if exc is None:
            try:
                await self.flush()
            except _OutageOver:
                pass  # the partial batch stays behind: reported as not sent
            except BaseException as e:  # cancelled while flushing
                own_error = exc = e
                exc_type, tb = type(e), e.__traceback__
        stopped = isinstance(exc, _OutageOver)  # the budget ran out: an end, not an abort
        if stopped:
            exc = exc_type = tb = None
        self._send_stream.close()
        if exc is not None:
            self._report.cancelled = True
            self._tg.cancel_scope.cancel()
        try:
            if exc is None or isinstance(exc, anyio.get_cancelled_exc_class()):
                suppressed = await self._tg.__aexit__(exc_type, exc, tb)
            else:  # the producer's own error: stop the senders, let it propagate unwrapped
                await self._tg.__aexit__(None, None, None)
                suppressed = False
        finally:
            if self._recv_stream is not None:  # the senders are done: else a ResourceWarning at GC
                self._recv_stream.close()
            self._finish()
        if own_error is not None:
            raise own_error
        if exc is None:
            await self._notify()  # the final report
        if exc is None and self.raise_on_failure and not self._report.ok:
            raise ingest_error(self._report) from None
        return True if stopped else suppressed

    # ---- producers --------------------------------------------------------------------------------
    async def send(self, point: models.PointStruct | Mapping[str, Any]) -> None:
        """Queue one point; waits only when the buffer is full (or while the server is away)."""
        self._require_open("send")
        self._require_server()
        p = as_point(point)
        size = point_bytes(p)
        if self._current and self._current_bytes + size > self.max_batch_bytes:
            await self._cut()
        if not self._current:
            self._current_since = anyio.current_time()
        self._current.append(p)
        self._current_bytes += size
        self._count_sent(1)
        if len(self._current) >= self.batch_size:
            await self._cut()

    async def send_columns(
        self, vectors: Any, payload: Iterable[Any] | None = None, ids: Iterable[Any] | None = None
    ) -> int:
        """Queue points given as columns; returns how many.

        ``vectors``: a 2-D numpy array, or ``{name: 2-D array}`` for named vectors; ``payload``
        and ``ids``: iterables of the same length (ids None: random UUIDs). Each batch goes out
        as one ``Batch`` body of row views - no per-point objects, one vectorised check and one
        encoder call per batch. Other vector shapes: use :meth:`send_many` with
        :func:`aqdrant.ingest.points_from_columns`.
        """
        self._require_open("send_columns")
        self._require_server()
        arrays = column_arrays(vectors)
        if arrays is None:
            raise ValidationError("send_columns() takes a 2-D numpy array or a dict of them; use send_many()")
        n = len(next(iter(arrays.values())))
        sizes = {k: len(x) for k, x in (("ids", ids), ("payload", payload)) if hasattr(x, "__len__")}
        if any(size != n for size in sizes.values()):
            raise ValidationError(f"columns differ in length: vectors {n}, " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
        await self.flush()  # points sent before go first
        id_it = ids_source(ids)
        payload_it = None if payload is None else iter(payload)
        for start in range(0, n, self.batch_size):
            stop = min(n, start + self.batch_size)
            window = {k: a[start:stop] for k, a in arrays.items()}
            unit = ColumnBatch(
                take(id_it, stop - start, "ids", start),
                window if isinstance(vectors, Mapping) else window[""],
                None if payload_it is None else take(payload_it, stop - start, "payloads", start),
            )
            while len(unit):  # a batch over max_batch_bytes (large payloads) goes in parts
                m = fit(unit, self.max_batch_bytes)
                await self._enqueue(unit[:m])
                unit = unit[m:]
        if ids is not None and next(id_it, _END) is not _END:
            raise ValidationError(f"more ids than vectors ({n} vectors)")
        if payload_it is not None and next(payload_it, _END) is not _END:
            raise ValidationError(f"more payloads than vectors ({n} vectors)")
        return n

    async def send_many(
        self, points: Iterable[models.PointStruct | Mapping[str, Any]] | AsyncIterable[Any]
    ) -> int:
        """Queue every point of an iterable or async iterable; returns how many."""
        n = 0
        if isinstance(points, AsyncIterable):
            async for p in points:
                await self.send(p)
                n += 1
        else:
            for p in points:
                await self.send(p)
                n += 1
        return n

    async def flush(self) -> None:
        """Hand the partly filled batch to the senders now (does not wait for its upsert)."""
        if self._current:
            await self._cut()

    @property
    def report(self) -> IngestReport:
        """The report so far (final after the ``async with`` block)."""
        if self._state in ("open", "closing"):
            self._report.elapsed = anyio.current_time() - self._started_at
        return self._report

    # ---- internals --------------------------------------------------------------------------------
    def _require_open(self, method: str) -> None:
        if self._state not in ("open", "closing"):
            raise RuntimeError(f"{method}() outside of `async with client.ingest(...)`")

    def _require_server(self) -> None:
        """Once the outage budget is spent the sink takes no more points: the producer stops."""
        if self._outage.spent is not None:
            raise _OutageOver(
                f"ingest into {self.collection_name!r} stopped: the server stayed unreachable for "
                f"the whole outage budget ({self._outage.budget:g} s); last error: {self._outage.spent}"
            )

    def _count_sent(self, n: int) -> None:
        rep = self._report
        rep.sent += n
        pending = rep.sent - rep.acknowledged - rep.failed
        if pending > self.max_pending:
            self.max_pending = pending

    async def _enqueue(self, unit: ColumnBatch) -> None:
        assert self._send_stream is not None
        self._require_server()
        self._count_sent(len(unit))
        token = next(_tokens)
        self._unsettled[token] = unit  # from here on a cancellation reports it as unconfirmed
        self._report.batches += 1
        await self._send_stream.send((token, unit))

    async def _cut(self) -> None:
        assert self._send_stream is not None
        self._require_server()
        batch, self._current, self._current_bytes = self._current, [], 0
        token = next(_tokens)
        self._unsettled[token] = batch  # from here on a cancellation reports it as unconfirmed
        self._report.batches += 1
        embedded = await self._embed(token, batch)
        if embedded is None:
            return
        for part_token, part in self._refit(token, batch, embedded):
            await self._send_stream.send((part_token, part))

    async def _tick(self, interval: float) -> None:
        with self._ticker:
            while True:
                due = self._current_since + interval if self._current else anyio.current_time() + interval
                await anyio.sleep(max(0.0, due - anyio.current_time()))
                if self._current and anyio.current_time() >= self._current_since + interval:
                    try:
                        await self._cut()
                    except _OutageOver:
                        return  # the producer learns it from its next send

    async def _sender(self) -> None:
        assert self._recv_stream is not None
        async for token, batch in self._recv_stream:
            await self._deliver(token, batch)

    async def _embed(self, token: int, batch: list[models.PointStruct]) -> list[models.PointStruct] | None:
        """Embed the batch's Documents / Images once, as it is cut (aqdrant.inference, in worker
        threads): the producer embeds batch k+1 while the senders upsert batch k, and retries and
        splits reuse the vectors. None: embedding failed and the batch is settled as failed."""
        embed = getattr(self.client, "_embed_inputs", None)
        if embed is None:
            return batch
        try:
            out = await embed(self.collection_name, batch)
        except Exception as error:  # noqa: BLE001 - an unknown model, a bad image...: reported, not raised
            await self._settle(token, batch, error, 1)
            return None
        if out is not batch:
            self._unsettled[token] = out
        return out

    def _refit(
        self, token: int, batch: list[models.PointStruct], embedded: list[models.PointStruct]
    ) -> list[tuple[int, list[models.PointStruct]]]:
        """Embedding can make a batch far larger than its Documents were (a ColBERT multivector
        per point): cut an embedded batch again by ``max_batch_bytes``."""
        if embedded is batch:
            return [(token, batch)]
        parts: list[list[models.PointStruct]] = [[]]
        size = 0
        for p in embedded:
            n = point_bytes(p)
            if parts[-1] and size + n > self.max_batch_bytes:
                parts.append([])
                size = 0
            parts[-1].append(p)
            size += n
        if len(parts) == 1:
            return [(token, embedded)]
        del self._unsettled[token]
        out = []
        for part in parts:
            t = next(_tokens)
            self._unsettled[t] = part
            out.append((t, part))
        self._report.batches += len(parts) - 1
        return out

    async def _deliver(self, token: int, batch: list[models.PointStruct]) -> None:
        """Upsert ``batch``: split it on invalid-input errors, wait out a missing server."""
        work: list[tuple[int, list[models.PointStruct], _Tries]] = [(token, batch, _Tries())]
        while work:
            token, points, tries = work.pop()
            while True:
                if self._outage.spent is not None:  # the ingestion is over: nothing more is sent
                    await self._give_up(token, points, tries)
                    break
                error = await self._attempt(token, points, tries)
                if error is None:
                    await self._settle(token, points, None, tries.count)
                    break
                if _splittable(error):
                    parts = self._split(points, error)
                    if parts is None:
                        await self._settle(token, points, error, tries.count)
                    else:
                        del self._unsettled[token]
                        doubt = token in self._in_doubt
                        self._in_doubt.discard(token)
                        for part in reversed(parts):
                            t = next(_tokens)
                            self._unsettled[t] = part
                            if doubt:
                                self._in_doubt.add(t)
                            work.append((t, part, _Tries(landed=tries.landed)))
                    break
                if not unavailable(error, self._policy.retry_statuses):
                    await self._settle(token, points, error, tries.count)  # the server said no
                    break
                delay = await self._retry_delay(points, tries, error)
                if delay is None:
                    await self._give_up(token, points, tries)
                    break
                await anyio.sleep(delay)

    async def _attempt(self, token: int, points: list[models.PointStruct], tries: _Tries) -> BaseException | None:
        """One upsert of ``points``; the error it failed with, or None."""
        rep = self._report
        tries.count += 1
        rep.requests += 1
        if tries.count > 1:
            rep.retries += 1
            if tries.landed and not tries.resent:  # an earlier attempt may have stored them:
                tries.resent = True  # safe to send again, upserts go by id (counted once)
                rep.resent += len(points)
        self._in_doubt.add(token)  # in flight: its outcome is unknown until it settles
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        tries.started = anyio.current_time()
        try:
            body = points.as_batch() if isinstance(points, ColumnBatch) else points
            with retry_policy(_NO_RETRY):
                await self.client.upsert(self.collection_name, body, **self._upsert_kwargs)
        except (QdrantError, *_INVALID_INPUT) as error:
            tries.last_error = error
            if unavailable(error, self._policy.retry_statuses) and may_have_landed(error):
                tries.landed = True
            if not tries.landed:
                self._in_doubt.discard(token)
            return error
        finally:
            self._in_flight -= 1
        if self._outage.succeeded(anyio.current_time()):
            await self._server_back()
        return None

    async def _retry_delay(self, points: list[models.PointStruct], tries: _Tries, error: BaseException) -> float | None:
        """Seconds to wait before sending ``points`` again, or None to give them up."""
        now = anyio.current_time()
        if self._outage.answered_since(tries.started):
            # other batches went through meanwhile: this request's own trouble, bounded by count
            tries.own_failures += 1
            if tries.own_failures > self.max_retries:
                return None
            attempt = tries.own_failures
        else:
            waiting = self._outage.since is not None
            left = self._outage.failed(tries.started, now, error)
            if left is None:
                self._budget_spent()
                return None
            if not waiting:
                await self._server_gone(error)
            tries.waits += 1
            attempt = tries.waits
        delay = self._policy.delay(attempt, error)
        if delay is None:  # a Retry-After longer than the policy's limit: the budget decides
            delay = retry_after_of(error) or self.backoff_max
        if self._outage.since is not None:  # never past the end of the budget
            delay = min(delay, max(0.0, self._outage.since + self._outage.budget - now))
        logger.debug(
            "aqdrant ingest: %d points into %r: attempt %d failed (%s: %s); again in %.2f s",
            len(points),
            self.collection_name,
            tries.count,
            type(error).__name__,
            error,
            delay,
        )
        return delay

    # ---- the server's comings and goings, as the report and the progress bar show them ----------
    async def _server_gone(self, error: BaseException) -> None:
        logger.warning(
            "aqdrant ingest into %r: waiting for the server (%s: %s); giving up after %g s",
            self.collection_name,
            type(error).__name__,
            error,
            self._outage.budget,
        )
        self._report.waiting_for_server = True
        self._report.outages = self._outage.count
        if self._bar is not None:
            self._bar.set_postfix_str("waiting for the server", refresh=True)
        await self._notify()

    async def _server_back(self) -> None:
        logger.info("aqdrant ingest into %r: the server is back", self.collection_name)
        self._report.waiting_for_server = False
        self._report.outage_seconds = self._outage.seconds
        if self._bar is not None:
            self._bar.set_postfix_str("", refresh=True)
        await self._notify()

    def _budget_spent(self) -> None:
        if self._report.outage_budget_spent:
            return
        logger.warning(
            "aqdrant ingest into %r: the server stayed unreachable for the whole outage budget "
            "(%g s); stopping (last error: %s)",
            self.collection_name,
            self._outage.budget,
            self._outage.spent,
        )
        rep = self._report
        rep.waiting_for_server = False
        rep.outage_budget_spent = True
        rep.outage_seconds = self._outage.seconds
        if self._bar is not None:
            self._bar.set_postfix_str("server unreachable: stopped", refresh=True)

    def _split(
        self, points: list[models.PointStruct], error: BaseException
    ) -> list[list[models.PointStruct]] | None:
        """Parts to try again, or None when ``points`` is one point (it is the bad one).

        A client-side ValidationError names the offending point's index: it is split off alone
        (and fails again at once, cheaply, with its own message); otherwise the batch is halved.
        """
        if len(points) == 1:
            return None
        path = getattr(error, "path", None)
        m = _POINT_INDEX.match(path) if isinstance(error, ValidationError) and path else None
        if m is not None:
            i = int(m.group(1))
            if i < len(points):
                rest = points[:i] + points[i + 1 :]
                return [p for p in (points[i : i + 1], rest) if len(p)]
        mid = len(points) // 2
        return [points[:mid], points[mid:]]

    async def _settle(
        self, token: int, points: list[models.PointStruct], error: BaseException | None, attempts: int
    ) -> None:
        del self._unsettled[token]
        self._count("acknowledged" if error is None else "failed", len(points))
        if error is None:
            self._report.acknowledged += len(points)
        else:
            logger.warning(
                "aqdrant ingest: %d point(s) into %r failed after %d attempt(s): %s: %s",
                len(points),
                self.collection_name,
                attempts,
                type(error).__name__,
                error,
            )
            self._report.failures.append(BatchFailure(_ids_of(points), error, attempts))
        if self._bar is not None:
            self._bar.update(len(points))
            if error is not None:
                self._bar.set_postfix(failed=self._report.failed, refresh=False)
        await self._notify()

    async def _give_up(self, token: int, points: list[models.PointStruct], tries: _Tries) -> None:
        """Points not delivered when waiting is over: unconfirmed if an attempt may have stored
        them, else not sent. Never "failed": the server did not reject them."""
        del self._unsettled[token]
        self._in_doubt.discard(token)
        rep = self._report
        ids = _ids_of(points)
        (rep.unconfirmed_ids if tries.landed else rep.not_sent_ids).extend(ids)
        self._count("unconfirmed" if tries.landed else "not_sent", len(ids))
        if tries.last_error is not None:
            rep.last_outage_error = tries.last_error
            logger.warning(
                "aqdrant ingest: %d point(s) into %r %s after %d attempt(s): %s: %s",
                len(points),
                self.collection_name,
                "unconfirmed" if tries.landed else "not sent",
                tries.count,
                type(tries.last_error).__name__,
                tries.last_error,
            )
        if self._bar is not None:
            self._bar.update(len(points))
        await self._notify()

    def _count(self, outcome: str, n: int) -> None:
        """Settled points to the ``aqdrant.ingest.points`` metric (a no-op without the [otel] extra)."""
        _telemetry.ingest_points(outcome, n, {"db.collection.name": self.collection_name})

    async def _notify(self) -> None:
        if self._on_progress is None:
            return
        try:
            result = self._on_progress(self.report)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a progress hook must not lose points
            logger.exception("aqdrant ingest: the on_progress callback raised")

    def _finish(self) -> None:
        self._state = "done"
        rep = self._report
        rep.elapsed = anyio.current_time() - self._started_at
        # left over by a cancellation (or the producer's error): in flight or sent before and
        # not confirmed -> unconfirmed; still queued or in the partial batch -> not sent
        before = len(rep.unconfirmed_ids), len(rep.not_sent_ids)
        for token, part in self._unsettled.items():
            (rep.unconfirmed_ids if token in self._in_doubt else rep.not_sent_ids).extend(_ids_of(part))
        rep.not_sent_ids += [p.id for p in self._current]
        self._count("unconfirmed", len(rep.unconfirmed_ids) - before[0])
        self._count("not_sent", len(rep.not_sent_ids) - before[1])
        self._unsettled.clear()
        self._in_doubt.clear()
        self._current = []
        if self._outage.since is not None:  # ended while waiting
            rep.outage_seconds = self._outage.seconds + anyio.current_time() - self._outage.since
        rep.waiting_for_server = False
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _make_bar(total: int | None, collection_name: str) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        logger.warning("aqdrant ingest: progress=True needs tqdm (pip install tqdm)")
        return None
    return tqdm(total=total, unit="pt", desc=f"upsert {collection_name}", dynamic_ncols=True)
