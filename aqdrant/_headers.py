"""Request headers: merging (later wins, names case-insensitive), the contextvar scope, redaction.

``request_headers({...})`` is a context manager that adds headers to every call made inside it,
including calls made from tasks started inside it (anyio and asyncio copy the context into new
tasks). Scopes nest; the inner one wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

#: header names whose values are credentials: never shown in a repr, a log line or an error
SECRET_HEADERS = frozenset({"api-key", "authorization", "proxy-authorization", "cookie", "x-api-key"})

_scope: ContextVar[Mapping[str, str]] = ContextVar("aqdrant_request_headers", default=MappingProxyType({}))


class Headers(dict):
    """Lower-case header names -> values; its repr hides credential values."""

    def __repr__(self) -> str:
        shown = {k: ("[secret]" if k in SECRET_HEADERS else v) for k, v in self.items()}
        return f"Headers({shown!r})"

    __str__ = __repr__


def normalize(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """``headers`` with lower-case names and str values; ``None`` values are dropped."""
    if not headers:
        return {}
    out: dict[str, str] = {}
    for name, value in headers.items():
        if value is None:
            continue
        if not isinstance(name, str):
            raise TypeError(f"header names must be str, not {type(name).__name__}")
        out[name.strip().lower()] = value if isinstance(value, str) else str(value)
    return out


def merge(*layers: Mapping[str, Any] | None) -> Headers:
    """Merge header layers left to right: a later layer wins, names compared case-insensitively."""
    out = Headers()
    for layer in layers:
        out.update(normalize(layer))
    return out


def scoped_headers() -> Mapping[str, str]:
    """The headers of the innermost ``request_headers`` scope (already merged and normalized)."""
    return _scope.get()


@contextmanager
def request_headers(headers: Mapping[str, Any]) -> Iterator[None]:
    """Send ``headers`` with every request made inside this ``with`` block (and its tasks).

    >>> with aqdrant.request_headers({"x-request-id": "abc"}):
    ...     await client.get_collections()
    """
    token = _scope.set(merge(_scope.get(), headers))
    try:
        yield
    finally:
        _scope.reset(token)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of a secret replaced (belt and braces for messages)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    return text
