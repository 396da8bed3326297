"""The lock on a ``path=`` store: one client (and its engine process) at a time.

``LocalBackend`` takes it when it is constructed (a second client on the same folder fails at
once, not at its first call) and hands the locked descriptor to every engine process it starts
(``--lock-fd``), so the store stays locked across engine restarts; an engine started on its own
takes it itself. ``flock`` locks belong to the open file: they end when the last process holding
the descriptor closes it or dies.

Imported by engine.py as a top-level module (builtins only).
"""

from __future__ import annotations

import os

LOCK_FILE = ".lock"


class StorageLockedError(Exception):
    """The store is locked by another client (this or another process)."""


def lock(root: str) -> int:
    """Lock ``root`` (created if missing) and return the descriptor holding the lock."""
    import fcntl

    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        raise StorageLockedError(
            # "already accessed by another instance": the official client's words, which callers match
            f"storage folder {root} is already accessed by another instance of an aqdrant local client "
            f"(process {holder or '?'}, in this or another program); close that client first, use a "
            "different path, or use a server (`aqdrant serve`) for concurrent access"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def unlock(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
