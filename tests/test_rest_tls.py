"""REST over TLS against a real HTTPS server on 127.0.0.1: a custom CA (``verify=``), mutual TLS
(``cert=``), and the typed error when the server's certificate is not trusted. The certificates
come from a throwaway CA made by ``trustme`` for each test module."""

from __future__ import annotations

import ssl

import pytest
import trustme
from fault_server import FaultServer, Reply, envelope

from aqdrant import AsyncQdrantClient, TransportError

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, require_client_cert: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    if require_client_cert:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


EXISTS = Reply(body=envelope({"exists": True}))


async def test_https_with_a_custom_ca_as_path_and_as_ssl_context(ca, tmp_path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    with FaultServer(ssl_context=_server_context(ca, require_client_cert=False)) as srv:
        srv.default = EXISTS
        for verify in (str(bundle), client_ctx):
            async with AsyncQdrantClient(url=srv.url, verify=verify, check_compatibility=False) as client:
                assert await client.collection_exists("c") is True
        assert srv.url.startswith("https://") and len(srv.requests) == 2 and not srv.tls_errors


async def test_an_untrusted_certificate_is_a_transport_error_and_nothing_is_sent(ca):
    with FaultServer(ssl_context=_server_context(ca, require_client_cert=False)) as srv:
        srv.default = EXISTS
        async with AsyncQdrantClient(url=srv.url, check_compatibility=False, timeout=5) as client:
            with pytest.raises(TransportError, match="collection_exists.*CERTIFICATE_VERIFY_FAILED"):
                await client.collection_exists("c")
        assert srv.requests == []


async def test_mutual_tls_client_certificate(ca, tmp_path):
    client_cert = ca.issue_cert("aqdrant-test-client")
    pem = tmp_path / "client.pem"  # certificate chain and key in one file, as httpx takes it
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FaultServer(ssl_context=_server_context(ca, require_client_cert=True)) as srv:
        srv.default = EXISTS
        async with AsyncQdrantClient(url=srv.url, verify=str(bundle), cert=str(pem), check_compatibility=False) as c:
            assert await c.collection_exists("c") is True
        assert len(srv.requests) == 1
        # without the client certificate the server refuses the handshake: no request is read
        async with AsyncQdrantClient(url=srv.url, verify=str(bundle), check_compatibility=False, timeout=5) as c:
            with pytest.raises(TransportError):
                await c.collection_exists("c")
        assert len(srv.requests) == 1 and srv.tls_errors


async def test_http2_flag_negotiates_over_tls_and_falls_back_to_http1(ca, tmp_path):
    # The server speaks only HTTP/1.1: with http2=True the client offers h2 by ALPN and must
    # settle on HTTP/1.1 without an error.
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with FaultServer(ssl_context=_server_context(ca, require_client_cert=False)) as srv:
        srv.default = EXISTS
        async with AsyncQdrantClient(url=srv.url, verify=str(bundle), http2=True, check_compatibility=False) as c:
            assert await c.collection_exists("c") is True
        assert len(srv.requests) == 1


def test_bad_tls_arguments_fail_at_construction(tmp_path):
    with pytest.raises(TypeError, match="verify must be"):
        AsyncQdrantClient(url="https://localhost:6333", verify=123)
    with pytest.raises(TypeError, match="inside your ssl.SSLContext"):
        AsyncQdrantClient(url="https://localhost:6333", verify=ssl.create_default_context(), cert="c.pem")
    with pytest.raises(TypeError, match="cert must be"):
        AsyncQdrantClient(url="https://localhost:6333", cert=["c.pem"])
    with pytest.raises(FileNotFoundError):
        AsyncQdrantClient(url="https://localhost:6333", verify=str(tmp_path / "missing-ca.pem"))
