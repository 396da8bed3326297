"""No logger sees a credential: a filter on the loggers of the libraries under the transports.

hpack (under h2 and grpclib, and the reply decoder of aqdrant's gRPC channel) writes every header
it encodes or decodes at DEBUG - ``Adding b'api-key'=b'...' to the header table`` - and httpcore/httpx may
log request details. The client cannot stop a user from turning DEBUG on for everything, so each
record of those loggers has the secrets of every live client (API keys and the tokens a provider
handed out) replaced by ``[secret]`` before any handler sees it.
"""

from __future__ import annotations

import logging
import threading

#: loggers that see headers or requests: the libraries under the REST and gRPC transports
#: (a logger's filters apply to the records created on it, so each one is named)
LOGGERS = (
    "hpack", "hpack.hpack", "hpack.table", "hpack.huffman",
    "h2", "h2.connection", "h2.stream", "h2.config",
    "grpclib", "grpclib.protocol", "grpclib.client", "grpclib.server", "grpclib.stream",
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
    "httpcore.proxy", "httpcore.connection_pool",
    "aqdrant", "aqdrant.server", "aqdrant.server.grpc",
)  # fmt: skip

_lock = threading.Lock()
_secrets: dict[str, int] = {}  # secret -> number of clients holding it
_installed = False

REDACTED = "[secret]"


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = tuple(_secrets)
        if not secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's business
            return True
        hit = False
        for s in secrets:
            if s in text:
                text, hit = text.replace(s, REDACTED), True
        if hit:
            record.msg, record.args = text, ()
        return True


_FILTER = _Redact()


def remember(secret: str | None) -> None:
    """Keep ``secret`` out of every record of :data:`LOGGERS` (installs the filter once)."""
    global _installed
    if not secret:
        return
    with _lock:
        _secrets[secret] = _secrets.get(secret, 0) + 1
        if not _installed:
            for name in LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True


def forget(secret: str | None) -> None:
    """One client holding ``secret`` was closed."""
    if not secret:
        return
    with _lock:
        n = _secrets.get(secret, 0) - 1
        if n > 0:
            _secrets[secret] = n
        else:
            _secrets.pop(secret, None)
