"""Run the dev server in a background thread of this process (for test fixtures)."""

from __future__ import annotations

import threading
from typing import Any


class ServerThread:
    """The dev server on ``host`` and a free port, in a daemon thread with its own event loop.

    ``with ServerThread() as srv: srv.url`` - started when the block is entered (the engine is
    up and the socket accepts connections), stopped and joined when it is left::

        with ServerThread(api_key="secret") as srv:
            client = AsyncQdrantClient(url=srv.url, api_key="secret")
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        api_key: str | None = None,
        read_only_api_key: str | None = None,
        max_request_size_mb: float = 32,
        host: str = "127.0.0.1",
        port: int = 0,
        backend: Any = None,
        grpc_port: int | None = None,
        log_level: str = "warning",
        start_timeout: float = 60.0,
    ) -> None:
        from . import bind, create_app, make_server

        self._sock = bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        #: with ``grpc_port`` (0: a free port) Qdrant's gRPC API is served there too (asyncio only)
        self._grpc_sock = bind(host, grpc_port) if grpc_port is not None else None
        self.grpc_port: int | None = self._grpc_sock.getsockname()[1] if self._grpc_sock is not None else None
        self.app = create_app(
            path,
            api_key=api_key,
            backend=backend,
            grpc_sock=self._grpc_sock,
            read_only_api_key=read_only_api_key,
            max_request_size_mb=max_request_size_mb,
        )
        self._ready = threading.Event()
        self._server = make_server(self.app, log_level=log_level, on_started=self._ready.set)
        self._thread = threading.Thread(target=self._run, name=f"aqdrant-server-{self.port}", daemon=True)
        self._start_timeout = start_timeout
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as e:  # reported by start()
            self._error = e
        finally:
            self._ready.set()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            self.stop()
            raise RuntimeError(f"the dev server did not start within {self._start_timeout} s")
        if self._error is not None or not self._server.started:
            raise RuntimeError(f"the dev server failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(30)
        self._sock.close()
        if self._grpc_sock is not None:
            self._grpc_sock.close()

    @property
    def grpc(self) -> Any:
        """The running gRPC endpoint (``.calls`` counts handled calls per method), or None."""
        return self.app.state.server.grpc

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
