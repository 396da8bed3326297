"""The engine's wire protocol, shared by both sides of the pipe: the engine process (engine.py,
convert.py) and its caller (backend.py). Builtins only: the engine process imports it as a
top-level module at every start.

Frame layout (both directions): a u32 big-endian length (``HEADER``) and a msgpack message;
parent to engine only, then a u64 big-endian length (``BLOB_HEAD``) and a blob. Float arrays in a
request body are not encoded at all: the message holds an extension (``EXT_F32_BLOB`` or
``EXT_F64_BLOB``: offset, rows, cols as ``BLOB_REF``; rows 0 for a 1-D array) pointing into the
blob, and the blob is the arrays' own memory. In replies, a dense vector is an extension
``EXT_F32_VECTOR`` holding its float32 bytes, and point lists come as chunk frames of up to
``CHUNK_POINTS`` points after the head frame (engine._reply_frames).

Messages (see engine.py for the fields); an error reply is ``{"kind", "status", "message"}``
with one of the ``KIND_*`` kinds below.
"""

from __future__ import annotations

import struct

# pinned in pyproject (the binding's API changes between releases); reading package metadata
# would cost 20 ms of every engine start
ENGINE_VERSION = "0.9.0"
#: the ``root`` operation's answer (title and ``ENGINE_VERSION``)
ROOT_TITLE = "aqdrant local engine (qdrant-edge)"

HEADER = struct.Struct(">I")
BLOB_HEAD = struct.Struct(">Q")
BLOB_REF = struct.Struct("<QII")

#: msgpack extension types: a float array in the request's blob (float32 / float64), and a dense
#: vector as native float32 bytes in a reply
EXT_F32_BLOB = 2
EXT_F64_BLOB = 3
EXT_F32_VECTOR = 4

#: points per chunk frame of a reply's point list
CHUNK_POINTS = 256

#: operations whose float arrays the engine decodes as ``array.array`` (see engine._ext_hook)
ARRAY_OPS = frozenset({"upsert_points", "update_vectors", "batch_update"})

#: the operations that may change collection names or aliases: their replies (success or error)
#: carry ``"catalog": Engine.names()``, and the first frame carries it too, so the parent keeps an
#: exact copy and answers catalog-only operations (collection_exists, get_collections, aliases,
#: health) without a round trip
CATALOG_CHANGING = frozenset({"create_collection", "delete_collection", "update_aliases"})

#: the health probes' texts, as Qdrant answers them
HEALTH = {
    "healthz": "healthz check passed",
    "livez": "healthz check passed",
    "readyz": "all shards are ready",
}

# error kinds (``error.kind`` of a reply). Qdrant's own errors (qerrors.py): the default
KIND_STATUS = "status"
KIND_UNSUPPORTED = "unsupported"  # 501: the engine cannot serve it
KIND_DEADLINE = "deadline"  # the caller's deadline passed while the request waited
KIND_INVALID = "invalid"  # refused by the validation boundary (guard.py)
KIND_PANIC = "panic"  # qdrant-edge panicked (containment.py)
KIND_DAMAGED = "damaged"  # the collection's shard cannot be opened
KIND_DISK_FULL = "disk_full"  # not enough free space to write safely
KIND_INTERNAL = "internal"  # a bug of the engine process (status 500)
# first frame only: the engine did not start
KIND_LOCKED = "locked"  # the storage is open elsewhere
KIND_STORAGE = "storage"  # the catalog cannot be read
