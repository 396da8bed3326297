"""The grpclib codec of the dev server's gRPC endpoint (and of tests' grpclib servers): messages
pass as bytes, because encoding and decoding happen in :mod:`aqdrant.grpc.convert` and
:mod:`aqdrant.grpc.fast`, not in grpclib."""

from __future__ import annotations

from typing import Any


class RawCodec:
    """grpclib codec that passes bytes through (``bytes(message)`` for a betterproto2 message)."""

    __content_subtype__ = "proto"

    def encode(self, message: Any, message_type: Any) -> bytes:
        return message if isinstance(message, (bytes, bytearray, memoryview)) else bytes(message)

    def decode(self, data: bytes, message_type: Any) -> bytes:
        return data
