"""One place that turns the client's TLS arguments into an ``ssl.SSLContext``.

The official client passes ``verify`` / ``cert`` straight to httpx, whose string and tuple forms
are deprecated (httpx 0.28 wants an ``SSLContext``); users migrating keep writing them, so they
are accepted here and built into a context once per client.
"""

from __future__ import annotations

import os
import ssl
from typing import Any


def ssl_context(verify: Any = True, cert: Any = None, alpn: list[str] | None = None) -> ssl.SSLContext | bool:
    """A context from ``verify`` (True: system CAs; False: no verification; a CA bundle file or
    directory; or an ``SSLContext``) and ``cert`` (a client certificate for mutual TLS: a PEM
    path holding certificate and key, ``(cert, key)`` or ``(cert, key, password)``).

    Returns ``verify`` unchanged (True/False) when there is nothing to build, so httpx keeps its
    own cached default context.
    """
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise TypeError("give the client certificate inside your ssl.SSLContext (load_cert_chain), not as cert=")
        return verify
    if cert is None and alpn is None and isinstance(verify, bool):
        return verify
    if verify is True:
        ctx = ssl.create_default_context()
    elif verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if os.path.isdir(path):
            ctx = ssl.create_default_context(capath=path)
        else:
            ctx = ssl.create_default_context(cafile=path)
    else:
        raise TypeError(f"verify must be a bool, a CA bundle path or an ssl.SSLContext, not {type(verify).__name__}")
    if cert is not None:
        if isinstance(cert, (str, os.PathLike)):
            ctx.load_cert_chain(cert)
        elif isinstance(cert, tuple) and 2 <= len(cert) <= 3:
            ctx.load_cert_chain(*cert)
        else:
            raise TypeError("cert must be a PEM path or a (cert, key[, password]) tuple")
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx
