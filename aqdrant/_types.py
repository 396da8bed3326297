"""The shapes the client's public methods accept, named once for their signatures (the async
client's and the generated blocking client's).

Each alias is what the method's code path takes at run time: the generated models, plain
Python values (lists, ids), numpy arrays and lists of numpy numbers, and a ``Mapping`` where a
model is expected (the client makes dicts into models, aqdrant/models/_coerce.py).

numpy is imported for type checkers only, so ``import aqdrant.client`` stays free of numpy; at
run time (``typing.get_type_hints``) an array's place in these unions is shown as ``Any``.
"""

from __future__ import annotations

import enum
import os
import ssl
import uuid
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Union

from . import models

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy as np
    from numpy.typing import NDArray

    #: a numpy array of numbers: one vector, or one vector per row
    NumericArray: TypeAlias = NDArray[np.number[Any]]
    #: a number, also as numpy gives it (``list(array)`` holds numpy scalars)
    Number: TypeAlias = Union[float, np.number[Any]]
else:
    NumericArray = Any
    Number = float

#: a point id: an unsigned int or a UUID (as a string or a ``uuid.UUID``)
PointId = Union[int, str, uuid.UUID]

#: one dense vector
DenseVector = Union[Sequence[Number], NumericArray]

#: one point's vector: dense, multi-vector (rows), sparse, an inference object (Document,
#: Image, InferenceObject), or a dict (named vectors ``{name: vector}``, or a model as a dict)
VectorLike = Union[
    DenseVector,
    Sequence[Sequence[Number]],
    Sequence[NumericArray],
    models.SparseVector,
    models.Document,
    models.Image,
    models.InferenceObject,
    Mapping[str, Any],
]

#: ``query=`` of ``query_points`` / ``query_points_groups``: a vector (nearest), a point id
#: (nearest to that point), a query model (``NearestQuery``, ``RecommendQuery``, ``FusionQuery``,
#: ``FormulaQuery``, ...) or any of these models as a dict
QueryLike = Union[VectorLike, PointId, models.Query]

#: ``vectors=`` of ``upload_collection``: a 2-D array (one row per point), named columns
#: ``{name: 2-D array or list of vectors}``, or an (async) iterable of one vector per point
UploadVectors = Union[
    NumericArray,
    Mapping[str, Union[NumericArray, Sequence[VectorLike]]],
    Iterable[VectorLike],
    AsyncIterable[VectorLike],
]

#: ``verify=``: check the server's certificate (True), don't (False), against a CA bundle file
#: or directory, or by a ready ``ssl.SSLContext``
VerifyTypes = Union[bool, str, os.PathLike[str], ssl.SSLContext]

#: ``cert=``: a client certificate for mutual TLS: one PEM path (certificate and key),
#: ``(cert, key)`` or ``(cert, key, password)``
CertTypes = Union[str, os.PathLike[str], tuple[str, str], tuple[str, str, str]]

#: ``grpc_compression=``: the official client's ``grpc.Compression`` members (read by name),
#: ``"gzip"``, ``"deflate"``, or None
CompressionLike = Union[enum.Enum, str, None]


class MigrationTarget(Protocol):
    """``migrate``'s ``dest_client``: any client, awaited or blocking, aqdrant's or the official
    one; these are the methods migration calls (each result is awaited when it is awaitable)."""

    def collection_exists(self, *args: Any, **kwargs: Any) -> Any: ...
    def delete_collection(self, *args: Any, **kwargs: Any) -> Any: ...
    def create_collection(self, *args: Any, **kwargs: Any) -> Any: ...
    def create_payload_index(self, *args: Any, **kwargs: Any) -> Any: ...
    def upsert(self, *args: Any, **kwargs: Any) -> Any: ...
    def count(self, *args: Any, **kwargs: Any) -> Any: ...
