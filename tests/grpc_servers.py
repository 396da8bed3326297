"""A grpclib server in a thread of its own with its own asyncio loop, so a test on any event
loop (trio included) can call it; shared by the gRPC test files."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from typing import Any

from aqdrant.grpc._raw import RawCodec


@contextlib.contextmanager
def grpclib_thread(
    handlers: list[Any], *, ssl_context: ssl.SSLContext | None = None, raw: bool = True, **config: Any
) -> Iterator[int]:
    """A grpclib server with ``handlers`` on 127.0.0.1 in a thread with its own asyncio loop
    (so any test loop, trio included, can call it); yields its port. ``raw``: handlers get and
    give bytes (else grpclib's codec with the generated messages); ``config``: grpclib settings."""
    from grpclib.config import Configuration
    from grpclib.server import Server

    loop = asyncio.new_event_loop()
    server: Any = None
    ready = threading.Event()

    def run() -> None:
        nonlocal server
        asyncio.set_event_loop(loop)
        codec = RawCodec() if raw else None
        server = Server(handlers, codec=codec, config=Configuration(**config))  # type: ignore[arg-type]
        loop.run_until_complete(server.start("127.0.0.1", 0, ssl=ssl_context))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
