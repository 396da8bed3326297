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
    """Every async test runs on both anyio backends."""
    return request.param


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
