"""A Qdrant-compatible dev server over the embedded engine: ``aqdrant serve`` /
``python -m aqdrant.server``.

It speaks Qdrant's REST API (routes from the operation table) and, on ``--grpc-port`` (default
6334), Qdrant's gRPC API (:mod:`aqdrant.server.grpc`) over :class:`aqdrant.local.LocalBackend`,
served by uvicorn (install ``aqdrant[server]``). Meant for
tests and CI where no Qdrant binary or Docker is available.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

from .._extras import MissingExtraError, require_extra

require_extra("server", "the dev server (aqdrant serve, aqdrant.server)")

from ._thread import ServerThread  # noqa: E402 - after the check: they import uvicorn/starlette
from .app import TITLE, VERSION, create_app  # noqa: E402

__all__ = ["create_app", "main", "make_server", "ServerThread", "TITLE", "VERSION"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aqdrant serve", description="Qdrant-compatible dev server over the embedded engine"
    )
    p.add_argument("--path", default=None, help="storage directory (default: in memory, lost on exit)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=6333, help="port (default 6333; 0 picks a free one)")
    p.add_argument("--grpc-port", type=int, default=6334, help="gRPC port (default 6334; 0 picks a free one)")
    p.add_argument("--no-grpc", action="store_true", help="serve REST only")
    p.add_argument(
        "--api-key",
        default=os.environ.get("QDRANT__SERVICE__API_KEY") or None,
        help="require this API key (api-key header or Bearer token); default: $QDRANT__SERVICE__API_KEY,"
        " which keeps it out of the process list",
    )
    p.add_argument(
        "--read-only-api-key",
        default=os.environ.get("QDRANT__SERVICE__READ_ONLY_API_KEY") or None,
        help="a key that gives read-only access; default: $QDRANT__SERVICE__READ_ONLY_API_KEY",
    )
    p.add_argument(
        "--max-request-size-mb",
        type=float,
        default=float(os.environ.get("QDRANT__SERVICE__MAX_REQUEST_SIZE_MB") or 32),
        help="refuse larger request bodies and gRPC messages (413 / RESOURCE_EXHAUSTED); default 32,"
        " or $QDRANT__SERVICE__MAX_REQUEST_SIZE_MB",
    )
    p.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn log level (default warning)",
    )
    return p


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on (host, port); port 0 picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and without
    # it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def make_server(
    app: Any,
    *,
    log_level: str = "warning",
    on_started: Any = None,
) -> Any:
    """A ``uvicorn.Server`` for ``app`` whose ``on_started()`` runs once it accepts connections."""
    try:
        import uvicorn
    except ImportError as e:  # pragma: no cover - checked at import of this package
        raise SystemExit(str(MissingExtraError("server", "the dev server", "uvicorn"))) from e

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and on_started is not None:
                on_started()

    config = uvicorn.Config(
        app, log_level=log_level, lifespan="on", access_log=log_level in ("debug", "trace")
    )
    return _Server(config)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        print(f"aqdrant serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    grpc_sock = None
    if not args.no_grpc:
        try:
            grpc_sock = bind(args.host, args.grpc_port)
        except OSError as e:
            sock.close()
            print(
                f"aqdrant serve: cannot listen on {args.host}:{args.grpc_port} (gRPC): {e}", file=sys.stderr
            )
            return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    storage = args.path if args.path else "in memory"
    grpc_note = f" (gRPC on port {grpc_sock.getsockname()[1]})" if grpc_sock is not None else ""

    def announce() -> None:
        print(
            f"aqdrant dev server ({TITLE} {VERSION} API) listening on http://{shown}:{port}{grpc_note}"
            f" - storage: {storage}",
            flush=True,
        )

    app = create_app(
        args.path,
        api_key=args.api_key,
        grpc_sock=grpc_sock,
        read_only_api_key=args.read_only_api_key,
        max_request_size_mb=args.max_request_size_mb,
    )
    server = make_server(app, log_level=args.log_level, on_started=announce)
    server.run(sockets=[sock])
    return 0 if server.started else 1
