import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples on every run (a red build is then reproducible
# and not a dice roll); locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    """Every async test runs on both anyio backends.

    A test marked ``virtual_time`` runs on trio with ``MockClock(autojump_threshold=0)``: time
    jumps to the next deadline whenever every task waits, so its timing assertions are exact and
    no busy machine can break them (only for tests without real I/O: a jump would cut a reply).
    asyncio has no virtual clock; there such a test checks lower bounds and behaviour only.
    """
    if request.param == "trio" and request.node.get_closest_marker("virtual_time"):
        from trio.testing import MockClock

        return ("trio", {"clock": MockClock(autojump_threshold=0)})
    return request.param


def on_virtual_time(anyio_backend: Any) -> bool:
    """Whether a test runs on trio's virtual clock (see ``anyio_backend``)."""
    return isinstance(anyio_backend, tuple)


# ---- the dev server ---------------------------------------------------------------------------
# One definition for every test module that talks to a real server. Ports are always free ones
# (0), REST and gRPC; never a fixed port: other programs (and other test runs) may hold 6333/6334.


def dev_server_thread(*, middleware: tuple[Any, ...] = (), **kwargs: Any) -> Any:
    """A not-yet-started ``ServerThread`` (free REST and gRPC ports, in-memory engine unless a
    path is given); ``middleware`` (Starlette middleware classes, or ``(cls, options)`` pairs)
    is added before it starts. Use it with ``with``; fixtures below cover the common case."""
    from aqdrant.server import ServerThread

    kwargs.setdefault("grpc_port", 0)
    srv = ServerThread(**kwargs)
    for m in middleware:
        cls, options = m if isinstance(m, tuple) else (m, {})
        srv.app.add_middleware(cls, **options)
    return srv


@pytest.fixture(scope="module")
def dev_server() -> Iterator[Any]:
    """The dev server (REST ``.url``, gRPC ``.grpc_port``) shared by the tests of one module."""
    with dev_server_thread() as srv:
        yield srv


# Names the test modules used for their own copies of this fixture; kept so that tests written
# against them keep working. A module may still define its own fixture of the same name.
@pytest.fixture(scope="module")
def srv(dev_server: Any) -> Any:
    return dev_server


@pytest.fixture(scope="module")
def server(dev_server: Any) -> Any:
    return dev_server
