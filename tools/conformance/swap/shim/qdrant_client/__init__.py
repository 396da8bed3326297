"""Swap shim: ``import qdrant_client`` resolves to aqdrant (tools/conformance/README.md, part 3).

Put tools/conformance/swap first on PYTHONPATH and a test written for the official client runs
against aqdrant with no edit. Every name below is an alias of an aqdrant object; nothing here
adds behaviour, so a failure is aqdrant's (or a name aqdrant does not have: an ImportError or
AttributeError at the test's import line, reported as "not mapped").

Mapped modules (official name -> aqdrant):
  qdrant_client                           QdrantClient, AsyncQdrantClient, models
  qdrant_client.qdrant_client             QdrantClient (the module the official class lives in)
  qdrant_client.async_qdrant_client       AsyncQdrantClient (likewise)
  qdrant_client.models, .http.models      aqdrant.models
  qdrant_client.http.exceptions           UnexpectedResponse -> aqdrant.UnexpectedResponse,
                                          ResponseHandlingException -> aqdrant.TransportError
  qdrant_client.common.client_exceptions  ResourceExhaustedResponse -> aqdrant.RateLimited
  qdrant_client.conversions.common_types  a name of aqdrant.models, else of aqdrant._types
                                          (PointId, ...); anything else is not mapped
Test helpers (_test_support.py, NOT aqdrant API): _pydantic_compat.construct/to_dict,
client_base.QdrantBase, local.sparse.validate_sparse_vector, local.datetime_utils, which the
official tests' fixtures import from internals to build their data.
Not mapped on purpose: the official client's internals (qdrant_remote, local.qdrant_local,
grpc stubs, conversions.conversion, uploader, _pydantic_compat, embed): a test importing them
tests the official implementation, not its API.
"""

import sys
import types

import aqdrant
from aqdrant import models
from aqdrant.errors import RateLimited, TransportError, UnexpectedResponse

QdrantClient = aqdrant.QdrantClient
AsyncQdrantClient = aqdrant.AsyncQdrantClient
__version__ = aqdrant.__version__


def _module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


def _common_types_getattr(name):
    for source in (models, sys.modules["aqdrant._types"]):
        if hasattr(source, name):
            return getattr(source, name)
    raise AttributeError(f"qdrant_client.conversions.common_types.{name}: not mapped to aqdrant")


import aqdrant._types  # noqa: E402  (common_types reads it)

sys.modules[__name__ + ".models"] = models
qdrant_client = _module(__name__ + ".qdrant_client", QdrantClient=QdrantClient)
async_qdrant_client = _module(__name__ + ".async_qdrant_client", AsyncQdrantClient=AsyncQdrantClient)
http = _module(__name__ + ".http", models=models)
sys.modules[__name__ + ".http.models"] = models
http.exceptions = _module(
    __name__ + ".http.exceptions",
    UnexpectedResponse=UnexpectedResponse,
    ResponseHandlingException=TransportError,
)
common = _module(__name__ + ".common")
common.client_exceptions = _module(
    __name__ + ".common.client_exceptions", ResourceExhaustedResponse=RateLimited
)
conversions = _module(__name__ + ".conversions")
conversions.common_types = _module(__name__ + ".conversions.common_types", __getattr__=_common_types_getattr)

from . import _test_support  # noqa: E402

_test_support.install(sys.modules[__name__])
