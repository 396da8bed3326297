"""The drop-in surface (issue 18): what accepting the official client's inputs costs, side by side.

    .venv/bin/python benchmarks/bench_dropin.py [--repeats N]

One run, medians of repeats (shared machine: read the ratios, not the third digit).

* ``model_dump()`` of 1,000 query hits (payload, no vector): aqdrant's msgspec models vs the
  peer's pydantic ``ScoredPoint``.
* ``model_validate(dict)`` of 1,000 points, 768-d list vectors + a small payload.
* the client-boundary walk (aqdrant/models/_coerce.py: dicts -> models, payload values ->
  JSON, numpy scalars -> numbers) over a 1,000-point ``PointsList`` of models, next to
  ``models.dump`` of the same body (the peer has no such walk: pydantic validates at
  construction; its column shows building its ``PointsList`` from the same dicts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N, DIM = 1000, 768


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    from qdrant_client import models as qm

    from aqdrant import models as am
    from aqdrant.models._coerce import coerce

    rng = np.random.default_rng(0)
    vectors = [list(map(float, v)) for v in rng.random((N, DIM))]
    payloads = [{"city": ["Berlin", "Paris"][i % 2], "n": i, "tags": ["a", "b"]} for i in range(N)]
    hits = [{"id": i, "version": 1, "score": 1.0 / (i + 1), "payload": payloads[i]} for i in range(N)]
    points = [{"id": i, "vector": vectors[i], "payload": payloads[i]} for i in range(N)]

    a_hits = [am.ScoredPoint.model_validate(h) for h in hits]
    q_hits = [qm.ScoredPoint.model_validate(h) for h in hits]
    body = am.PointsList(points=[am.PointStruct(**p) for p in points])
    rows = [
        ("model_dump(), 1,000 hits", lambda: [h.model_dump() for h in a_hits], lambda: [h.model_dump() for h in q_hits]),
        (
            "model_validate(dict), 1,000 points 768-d",
            lambda: [am.PointStruct.model_validate(p) for p in points],
            lambda: [qm.PointStruct.model_validate(p) for p in points],
        ),
        ("boundary walk, 1,000-point PointsList", lambda: coerce(body), lambda: qm.PointsList(points=points)),
        ("models.dump of that body (for scale)", lambda: am.dump(body), None),
    ]
    print("| per item | aqdrant | qdrant-client |")
    print("|---|---|---|")
    for label, ours, peer in rows:
        a = median_time(ours, args.repeats) / N * 1e6
        p = f"{median_time(peer, args.repeats) / N * 1e6:.2f} µs" if peer is not None else "-"
        print(f"| {label} | {a:.2f} µs | {p} |")


if __name__ == "__main__":
    main()
