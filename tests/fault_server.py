"""A fault-injecting fake HTTP/1.1 server on 127.0.0.1 for transport tests.

It runs in threads on raw sockets (so it can do what an ASGI app cannot: reset a connection,
stall mid-response) and records every request it reads. Each request takes the next scripted
action (``push``), or ``default`` when the script is empty::

    server.push(Reply(503), Reply(429, headers={"retry-after": "1"}), Reset(), Stall(5))

An action may also be a callable ``(Recorded) -> action``.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # bytes, str, or JSON-able (default: a Qdrant envelope with result true)
    headers: dict[str, str] = field(default_factory=dict)
    #: send the body in these parts, waiting for ``gate`` (if set) after the first part
    parts: list[bytes] | None = None
    gate: threading.Event | None = None


@dataclass
class Reset:
    """Read the request, then drop the connection with a TCP reset (no response)."""


@dataclass
class Stall:
    """Read the request, then say nothing for ``seconds`` and close."""

    seconds: float = 30.0


def envelope(result: Any = True) -> dict[str, Any]:
    return {"result": result, "status": "ok", "time": 0.001}


def error_body(message: str) -> dict[str, Any]:
    return {"status": {"error": message}, "time": 0.0}


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class FaultServer:
    """``ssl_context``: serve HTTPS with it (handshake failures are kept in ``tls_errors``)."""

    def __init__(self, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.tls_errors: list[str] = []
        self.requests: list[Recorded] = []
        self.default: Any = Reply()
        self.connections = 0
        self._script: deque[Any] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(128)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="fault-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    def push(self, *actions: Any) -> None:
        with self._lock:
            self._script.extend(actions)

    def close(self) -> None:
        self._stop.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next_action(self, rec: Recorded) -> Any:
        with self._lock:
            action = self._script.popleft() if self._script else self.default
        while callable(action) and not isinstance(action, (Reply, Reset, Stall)):
            action = action(rec)
        return action

    def _serve(self, conn: socket.socket) -> None:
        if self.ssl_context is not None:
            try:  # the handshake runs here, not in the accept loop, so one bad client blocks nothing
                conn = self.ssl_context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.tls_errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                return
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                rec = _read_request(reader)
                if rec is None:
                    return
                with self._lock:
                    self.requests.append(rec)
                action = self._next_action(rec)
                if isinstance(action, Reset):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if isinstance(action, Stall):
                    self._stop.wait(action.seconds)
                    return
                _send_reply(conn, action)
                if rec.headers.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                reader.close()
                conn.close()
            except OSError:
                pass


def _read_request(reader: Any) -> Recorded | None:
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        h = reader.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(reader.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += reader.read(size)
            reader.readline()
        data = bytes(body)
    else:
        data = reader.read(int(headers.get("content-length", "0") or 0))
    parts = urlsplit(target)
    return Recorded(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), headers, data)


def _send_reply(conn: socket.socket, reply: Reply) -> None:
    body = reply.body
    if body is None:
        body = envelope(True)
    if reply.parts is not None:
        payload_parts = list(reply.parts)
    else:
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        payload_parts = [bytes(body)]
    headers = {"content-type": "application/json", **{k.lower(): v for k, v in reply.headers.items()}}
    headers["content-length"] = str(sum(len(p) for p in payload_parts))
    head = f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    for i, part in enumerate(payload_parts):
        conn.sendall(head.encode("latin-1") + part if i == 0 else part)
        if i == 0 and reply.gate is not None:
            reply.gate.wait(10)


Action = Callable[[Recorded], Any]


def unused_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
