"""The embedded local engine: qdrant-edge shards in an engine process, behind the Backend protocol.

``AsyncQdrantClient(":memory:")`` and ``AsyncQdrantClient(path="db/")`` use
:class:`LocalBackend`. It runs Qdrant's own engine (``qdrant-edge-py``, pinned to 0.9.0) rather
than a re-implementation, so results follow the server's semantics: HNSW, payload indexes,
quantization and the full query API.

Layout
    ``backend.py``  LocalBackend: starts the engine process lazily (asyncio or trio, via anyio),
                    frames requests, routes replies by id, restarts a dead engine.
    ``engine.py``   the engine process: one ``EdgeShard`` per collection, dispatch per operation.
    ``catalog.py``  what the engine has no notion of (names, aliases, configs as given).
    ``sidebuild.py`` index builds of large collections in a second process, swapped in.
    ``convert.py``  Qdrant JSON shapes <-> qdrant_edge objects, engine defect workarounds.

Served (operationIds)
    root, healthz, livez, readyz; get_collections, collection_exists, create_collection,
    update_collection (optimizers, HNSW, quantization, per-vector diffs, metadata), delete_collection,
    get_collection (real counts, status, config as given); update_aliases (atomic),
    get_collection_aliases, get_collections_aliases; create_vector_name, delete_vector_name;
    upsert_points (list and batch, update_filter, update_mode), delete_points, update_vectors,
    delete_vectors, set_payload, overwrite_payload, delete_payload, clear_payload (by ids or filter),
    batch_update, create_field_index, delete_field_index; get_point, get_points, scroll_points,
    count_points, facet; query_points (nearest, by id, lookup_from, recommend, discover, context,
    order_by, fusion rrf/dbsf, formula, sample, mmr, relevance feedback, nested prefetch),
    query_batch_points, query_points_groups (with_lookup), search_matrix_pairs/offsets.
    Everything else (cluster, shard keys, snapshots, telemetry, issues, quotas, optimizations
    listing) raises :class:`aqdrant.UnsupportedOperation` without starting the engine.

Provided by the wrapper (the binding lacks them)
    collection listing/deletion, aliases, config read-back, query by point id and
    ``lookup_from`` (the vector is retrieved first; the ids used in the searched collection are
    excluded from the results, as on the server), groups (a growing query, then grouping), search matrix (a random sample,
    then one nearest query per sampled point), batch updates (sequential: **not atomic**; the
    error says which operations were applied).

Parameters without local effect (reported, never dropped)
    warnings (:class:`LocalEngineWarning`): ``consistency``, ``ordering`` (one replica that
    applies operations in order before answering), ``shard_number``, ``replication_factor``,
    ``write_consistency_factor``, ``wal_config``,
    optimizer ``memmap_threshold``/``flush_interval_sec``/``max_optimization_threads``,
    update_collection ``params`` (recorded in the config), a payload index created after the
    vector index was built. ``strict_mode_config`` is enforced as on the server (strict.py).
    errors (:class:`aqdrant.UnsupportedOperation`): ``shard_key`` anywhere, custom sharding,
    ``init_from``, inference objects (Document/Image/InferenceObject). ``wait=false`` still
    waits (status ``completed``).

Engine defects worked around (qdrant-edge-py 0.9.0, see FINDINGS.md)
    never releases the GIL (engine process; zero-copy float arrays; index builds niced in a builder process);
    ``MatchValue(True)`` never matches (numpy.bool_); datetime/date/UUID payload values rejected
    (sent as RFC 3339 / canonical text, as the REST path would); UUID ids returned as
    ``uuid.UUID`` (returned as str); bytes payload values would become lists of ints (base64
    text, as over REST); wrong stub for ``retrieve`` and ``Expression.Decay`` (all arguments
    passed); plain ``Exception`` errors (mapped to 400 BadRequest with the engine's text);
    no background indexing (the engine process builds indexes once writes are quiet:
    ``optimize_after``, a large collection off to the side while reads are served, ``sidebuild.py``; or explicitly, :meth:`LocalBackend.optimize`; payload indexes declared
    on an empty collection wait until first needed, see ``backend.py``); one open shard per
    directory (a lock file per storage path, :class:`StorageLocked` naming the holder).
    Seen here, not worked around: float payload values may change in the last digit (1 ulp).
"""

from __future__ import annotations

from .backend import (
    CollectionDamaged,
    EngineInputRejected,
    EnginePanic,
    EngineProcessError,
    LocalBackend,
    LocalEngineWarning,
    LocalStorageError,
    StorageFull,
    StorageLocked,
)

__all__ = [
    "LocalBackend",
    "LocalEngineWarning",
    "LocalStorageError",
    "StorageLocked",
    "StorageFull",
    "EngineProcessError",
    "EngineInputRejected",
    "EnginePanic",
    "CollectionDamaged",
]
