"""Containment in the engine process: engine panics, damaged shards, a disk running full.

- A qdrant-edge panic arrives as ``pyo3_runtime.PanicException``, a ``BaseException`` (not an
  ``Exception``): :func:`is_panic` recognises it so the engine catches it per operation instead
  of letting it end the process (and, for ``:memory:``, its store with it).
- A shard that panics or fails while it is opened (e.g. its WAL replays an operation the engine
  cannot apply) is reported, with what to do, for that collection alone: :func:`damaged_message`.
- The engine maps its write-ahead log in 32 MiB segments; a write past the disk's end would kill
  it with SIGBUS. :func:`check_space` refuses a write up front when there is not room for two
  segments (three when a shard is created or reopened).

Imported by engine.py as a top-level module (builtins only).
"""

from __future__ import annotations

import os

#: qdrant-edge's write-ahead log segment size (each is mapped whole)
WAL_SEGMENT = 32 << 20

#: operations that write to a shard (its WAL) or create one, and the WAL segments they may need
#: free: a new shard starts with two segments, a write may open the next one
SPACE_NEEDED: dict[str, int] = {
    **dict.fromkeys(
        """upsert_points delete_points update_vectors delete_vectors set_payload overwrite_payload
        delete_payload clear_payload batch_update create_field_index delete_field_index
        create_vector_name delete_vector_name""".split(),
        2,
    ),
    "create_collection": 3,
    "update_collection": 3,  # the shard is closed and reopened with the new config
}


class DiskFull(Exception):
    """Not enough free space to write safely; nothing was written."""


def is_panic(e: BaseException) -> bool:
    """Whether ``e`` is a Rust panic surfaced by PyO3 (``pyo3_runtime.PanicException``)."""
    cls = type(e)
    return cls.__name__ == "PanicException" and cls.__module__ == "pyo3_runtime"


def free_bytes(path: str) -> int:
    """Bytes available to this (unprivileged) process on the file system holding ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def check_space(op: str, root: str) -> None:
    """Raise :class:`DiskFull` if ``op`` could need more space than ``root``'s disk has."""
    segments = SPACE_NEEDED.get(op)
    if segments is None:
        return
    need = segments * WAL_SEGMENT
    try:
        free = free_bytes(root)
    except OSError:
        return  # no answer from the file system: let the engine try (and report)
    if free < need:
        raise DiskFull(
            f"{op}: not enough free disk space for the embedded engine at {root}: {free >> 20} MiB free, "
            f"{need >> 20} MiB needed (the engine maps its write-ahead log in {WAL_SEGMENT >> 20} MiB "
            "segments, and a write beyond the disk's end would kill it). Nothing was written; free some "
            "space (or move the store) and retry - every acknowledged write is kept"
        )


def damaged_message(name: str, error: BaseException) -> str:
    """What the caller of any operation on a collection whose shard cannot be opened reads."""
    what = "panicked" if is_panic(error) else "failed"
    return (
        f"collection `{name}` cannot be opened: the embedded engine {what} while recovering its shard "
        f"({type(error).__name__}: {error}). Its write-ahead log holds an operation the engine cannot "
        f"apply. Other collections are not affected. Delete the collection (delete_collection "
        f"`{name}`) and recreate it from your source data"
    )
