"""Quickstart: the blocking client on the embedded engine (no server needed).

    python3 tools/dev.py quickstart
"""

from __future__ import annotations

import numpy as np

from aqdrant import QdrantClient, models

CITIES = ["Berlin", "London", "Moscow", "Paris", "Lisbon"]


def main() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.random((100, 4), dtype=np.float32)
    with QdrantClient(":memory:") as client:
        client.create_collection(
            "demo", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
        )
        client.upsert(
            "demo",
            points=[
                models.PointStruct(id=i, vector=vectors[i], payload={"city": CITIES[i % len(CITIES)], "n": i})
                for i in range(len(vectors))
            ],
        )
        print("points:", client.count("demo").count)
        hits = client.query_points(
            "demo",
            query=vectors[0],
            query_filter=models.Filter(
                must=[models.FieldCondition(key="city", match=models.MatchValue(value="Berlin"))]
            ),
            limit=3,
        )
        print("nearest Berlin points to point 0:")
        for p in hits.points:
            print(f"  id={p.id} score={p.score:.4f} payload={p.payload}")


if __name__ == "__main__":
    main()
