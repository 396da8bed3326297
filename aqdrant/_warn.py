"""Warnings that point at the caller's line, whatever path the call took to get here.

A warning raised deep in a backend (the embedded engine's "no local effect" notes, the server
version check) is about the caller's line, not aqdrant's. A fixed ``stacklevel`` cannot say
where that is: the same warning is reached through the awaited client, the blocking client
(whose call runs as a task on the caller's thread, under the event loop's frames) and the
ingestion actor. :func:`warn` walks out of every library frame instead.
"""

from __future__ import annotations

import sys
import warnings

#: top-level packages whose frames are never "the caller"
_LIBRARY = frozenset({"aqdrant", "anyio", "asyncio", "trio", "sniffio", "outcome", "contextvars", "concurrent", "threading", "selectors"})


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside aqdrant and the event loop."""
    frame = sys._getframe(1)
    level = 2  # stacklevel 2: the function that called warn()
    while frame is not None and _is_library(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level if frame is not None else 2)


def _is_library(frame: object) -> bool:
    name = frame.f_globals.get("__name__", "")  # type: ignore[attr-defined]
    return name.partition(".")[0] in _LIBRARY
