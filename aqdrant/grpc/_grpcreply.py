"""A unary gRPC call read from its HTTP/2 stream: the reply message, or the call's status as an
error (the gRPC over HTTP/2 rules: trailers, trailers-only replies, HTTP statuses without a
grpc-status, resets, the 5-byte message prefix, gzip). The channel (:mod:`._h2channel`) moves
the bytes; this decides what they mean.
"""

from __future__ import annotations

from urllib.parse import unquote

from ._h2wire import REFUSED_STREAM, Stream, error_name

#: HTTP statuses without grpc-status -> gRPC code (the gRPC spec's "HTTP to gRPC status" table)
_HTTP_TO_GRPC = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
#: reply headers that are the protocol's, not the server's metadata (as grpclib leaves them out)
_NOT_METADATA = frozenset(
    {"content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding"}
)


class GrpcStatusError(Exception):
    """The server answered with a non-OK ``grpc-status``."""

    def __init__(self, code: int, message: str, metadata: dict[str, str]) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.metadata = metadata


class ChannelError(Exception):
    """The connection failed. ``sent`` is False when the server provably did not get the request."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def encode_timeout(seconds: float) -> str:
    """A ``grpc-timeout`` value: at most 8 digits and a unit."""
    if seconds > 10:
        return f"{min(int(seconds), 99_999_999)}S"
    if seconds > 0.01:
        return f"{int(seconds * 1e3)}m"
    if seconds > 0.00001:
        return f"{int(seconds * 1e6)}u"
    return f"{max(1, int(seconds * 1e9))}n"


_OK = ("grpc-status", "0")


def read_reply(call: Stream) -> bytes | None:
    trailers = call.trailers
    if trailers and trailers[0] == _OK and call.reset is None:  # the common case, checked first
        data = call.chunks[0] if len(call.chunks) == 1 else b"".join(call.chunks)
        if len(data) >= 5 and not data[0] & 1:
            end = 5 + int.from_bytes(data[1:5], "big")
            if len(data) >= end:
                return data[5:end]
    return _reply_in_full(call)


def _reply_in_full(call: Stream) -> bytes | None:
    headers = dict(call.headers or ())
    trailers = dict(call.trailers or ()) if call.trailers is not None else headers  # trailers-only
    metadata = {k: v for k, v in {**headers, **trailers}.items() if k not in _NOT_METADATA and k[0] != ":"}
    if call.reset is not None and "grpc-status" not in trailers:
        if call.reset == REFUSED_STREAM:
            raise ChannelError("the server refused the stream", sent=False)
        raise ChannelError(f"the server reset the stream ({error_name(call.reset)})", sent=True)
    http_status = headers.get(":status", "")
    if "grpc-status" not in trailers:
        if http_status != "200":
            code = _HTTP_TO_GRPC.get(int(http_status) if http_status.isdigit() else 0, 2)
            raise GrpcStatusError(code, f"HTTP status {http_status or 'missing'}", metadata)
        raise GrpcStatusError(13, "the reply has no grpc-status", metadata)
    code = int(trailers["grpc-status"]) if trailers["grpc-status"].isdigit() else 2
    if code != 0:
        raise GrpcStatusError(code, unquote(trailers.get("grpc-message", ""), errors="replace"), metadata)
    data = call.chunks[0] if len(call.chunks) == 1 else b"".join(call.chunks)
    if len(data) < 5:
        return None
    if data[0] & 1:
        if headers.get("grpc-encoding", "identity") != "gzip":
            raise GrpcStatusError(13, "compressed reply without a known grpc-encoding", metadata)
        import gzip

        length = int.from_bytes(data[1:5], "big")
        return gzip.decompress(data[5 : 5 + length])
    length = int.from_bytes(data[1:5], "big")
    if len(data) < 5 + length:
        raise GrpcStatusError(13, "the reply message is truncated", metadata)
    return data[5 : 5 + length]
