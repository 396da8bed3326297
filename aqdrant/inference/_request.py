"""Find the Documents / Images / InferenceObjects of a request, embed them, put vectors in.

One pass collects every inference object of a request body (points, named-vector dicts,
batches, queries, nested prefetches, recommend / discover / context / relevance-feedback
examples), copying only the containers on the way to one (the caller's objects are never
changed). Then the objects are grouped by (model, options, document-or-query) and embedded in
worker threads, ``batch_size`` inputs per thread call, and the vectors are written into the
copies. A request without inference objects is returned as it is, after a cheap type scan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread

from .. import models
from ..errors import QdrantError
from . import _registry as reg
from ._embedder import Embedder, model_kwargs, options_key
from ._errors import InferenceError, VectorNameError, VectorSizeMismatch

INFERENCE_TYPES = (models.Document, models.Image, models.InferenceObject)
_NO_OPTIONS: dict[str, Any] = {}

#: ({dense name: (size, is_multivector)}, {sparse names}), "" is the unnamed vector
Schema = tuple[dict[str, tuple[int, bool]], set[str]]
GetSchema = Callable[[str], Awaitable[Schema]]


class _Leaf:
    __slots__ = ("obj", "name", "_path", "holder", "key", "attr")

    def __init__(self, obj: Any, name: str, path: Any, holder: Any, key: Any, attr: bool) -> None:
        self.obj, self.name, self._path = obj, name, path
        self.holder, self.key, self.attr = holder, key, attr

    @property
    def path(self) -> str:
        """The JSON path of the object in the request (formatted only when an error needs it)."""
        p = self._path
        return p if isinstance(p, str) else p[0].format(*p[1:])

    def put(self, value: Any) -> None:
        if self.attr:
            setattr(self.holder, self.key, value)
        else:
            self.holder[self.key] = value


class _Plan:
    """Collects leaves; every holder a leaf points into is a copy made here."""

    def __init__(self) -> None:
        self.leaves: list[_Leaf] = []
        self._mine: dict[int, Any] = {}  # the copies made here, by id (held, so ids stay unique)

    def own(self, struct: Any) -> Any:
        """``struct`` itself when it is a copy made here, else a shallow copy of it."""
        if id(struct) in self._mine:
            return struct
        new = struct.__copy__()  # msgspec's own copy: no __post_init__ run again
        self._mine[id(new)] = new
        return new

    def replace(self, struct: Any, **fields: Any) -> Any:
        new = self.own(struct)
        for k, v in fields.items():
            setattr(new, k, v)
        return new

    # ---- vectors of points ----------------------------------------------------------------------
    def vector_struct(self, owner: Any, attr: str, path: Any) -> Any:
        """``owner.<attr>`` holds a VectorStruct; returns ``owner`` or a copy with leaves."""
        v = getattr(owner, attr)
        if isinstance(v, INFERENCE_TYPES):
            owner = self.own(owner)
            self.leaves.append(_Leaf(v, "", path, owner, attr, True))
            return owner
        if isinstance(v, dict):
            new: dict[str, Any] | None = None
            for name, x in v.items():
                if isinstance(x, INFERENCE_TYPES):
                    if new is None:
                        new = dict(v)
                        owner = self.own(owner)
                        setattr(owner, attr, new)
                    self.leaves.append(_Leaf(x, name, _child(path, name), new, name, False))
        return owner

    def points(self, points: list[Any], path: str) -> list[Any] | None:
        out: list[Any] | None = None
        for i, p in enumerate(points):
            v = getattr(p, "vector", None)
            if isinstance(v, INFERENCE_TYPES) or isinstance(v, dict):
                q = self.vector_struct(p, "vector", (path + "[{}].vector", i))
                if q is not p:
                    if out is None:
                        out = list(points)
                    out[i] = q
        return out

    def batch(self, batch: models.Batch, path: str) -> models.Batch:
        vectors = batch.vectors
        if isinstance(vectors, dict):
            new: dict[str, Any] | None = None
            for name, column in vectors.items():
                if isinstance(column, list) and any(isinstance(x, INFERENCE_TYPES) for x in column):
                    if new is None:
                        new = dict(vectors)
                    col = new[name] = list(column)
                    for i, x in enumerate(column):
                        if isinstance(x, INFERENCE_TYPES):
                            self.leaves.append(
                                _Leaf(x, name, (path + ".vectors.{}[{}]", name, i), col, i, False)
                            )
            if new is None:
                return batch
            batch = self.own(batch)
            batch.vectors = new
            return batch
        if isinstance(vectors, list) and any(isinstance(x, INFERENCE_TYPES) for x in vectors):
            batch = self.own(batch)
            col = batch.vectors = list(vectors)
            for i, x in enumerate(vectors):
                if isinstance(x, INFERENCE_TYPES):
                    self.leaves.append(_Leaf(x, "", (path + ".vectors[{}]", i), col, i, False))
        return batch

    # ---- queries --------------------------------------------------------------------------------
    def input_attr(self, owner: Any, attr: str, name: str, path: str) -> Any:
        """``owner.<attr>`` is a VectorInput (or a list of them, or a ContextPair...)."""
        v = getattr(owner, attr)
        new = self.query_value(v, name, path)
        if new is v:
            return owner
        owner = self.own(owner)
        if isinstance(new, _Pending):
            self.leaves.append(_Leaf(v, name, path, owner, attr, True))
        else:
            setattr(owner, attr, new)
        return owner

    def query_value(self, v: Any, name: str, path: str) -> Any:
        """A copy of ``v`` with leaves, ``_PENDING`` when ``v`` itself is one, else ``v``."""
        if isinstance(v, INFERENCE_TYPES):
            return _PENDING
        if isinstance(v, list):
            if not v or isinstance(v[0], (int, float)):
                return v  # a dense vector (or an empty list)
            out: list[Any] | None = None
            for i, x in enumerate(v):
                y = self.query_value(x, name, f"{path}[{i}]")
                if y is not x:
                    if out is None:
                        out = list(v)
                    if isinstance(y, _Pending):
                        self.leaves.append(_Leaf(x, name, f"{path}[{i}]", out, i, False))
                    else:
                        out[i] = y
            return v if out is None else out
        if isinstance(v, models.NearestQuery):
            return self.input_attr(v, "nearest", name, path + ".nearest")
        if isinstance(v, models.RecommendQuery):
            inner = v.recommend
            new = self.input_attr(inner, "positive", name, path + ".recommend.positive")
            new = self.input_attr(new, "negative", name, path + ".recommend.negative")
            return v if new is inner else self.replace(v, recommend=new)
        if isinstance(v, models.DiscoverQuery):
            inner = v.discover
            new = self.input_attr(inner, "target", name, path + ".discover.target")
            new = self.input_attr(new, "context", name, path + ".discover.context")
            return v if new is inner else self.replace(v, discover=new)
        if isinstance(v, models.ContextQuery):
            return self.input_attr(v, "context", name, path + ".context")
        if isinstance(v, models.ContextPair):
            new = self.input_attr(v, "positive", name, path + ".positive")
            return self.input_attr(new, "negative", name, path + ".negative")
        if isinstance(v, models.RelevanceFeedbackQuery):
            inner = v.relevance_feedback
            new = self.input_attr(inner, "target", name, path + ".relevance_feedback.target")
            new = self.input_attr(new, "feedback", name, path + ".relevance_feedback.feedback")
            return v if new is inner else self.replace(v, relevance_feedback=new)
        if isinstance(v, models.FeedbackItem):
            return self.input_attr(v, "example", name, path + ".example")
        return v

    def query_request(self, req: Any, path: str) -> Any:
        """QueryRequest / QueryGroupsRequest / Prefetch: its query (by ``using``) and prefetches."""
        name = req.using or ""
        new = req
        if req.query is not None:
            new = self.input_attr(req, "query", name, path + ".query")
        pf = req.prefetch
        if pf is not None:
            if isinstance(pf, list):
                out: list[Any] | None = None
                for i, p in enumerate(pf):
                    q = self.query_request(p, f"{path}.prefetch[{i}]")
                    if q is not p:
                        if out is None:
                            out = list(pf)
                        out[i] = q
                if out is not None:
                    new = self.own(new)
                    new.prefetch = out
            else:
                q = self.query_request(pf, path + ".prefetch")
                if q is not pf:
                    new = self.own(new)
                    new.prefetch = q
        return new

    # ---- request bodies -------------------------------------------------------------------------
    def body(self, body: Any) -> Any:
        if isinstance(body, models.PointsList):
            pts = self.points(body.points, "$.points")
            return body if pts is None else self.replace(body, points=pts)
        if isinstance(body, models.PointsBatch):
            b = self.batch(body.batch, "$.batch")
            return body if b is body.batch else self.replace(body, batch=b)
        if isinstance(body, models.UpdateVectors):
            pts = self.points(body.points, "$.points")
            return body if pts is None else self.replace(body, points=pts)
        if isinstance(body, (models.QueryRequest, models.QueryGroupsRequest, models.Prefetch)):
            return self.query_request(body, "$")
        if isinstance(body, models.QueryRequestBatch):
            out: list[Any] | None = None
            for i, r in enumerate(body.searches):
                q = self.query_request(r, f"$.searches[{i}]")
                if q is not r:
                    if out is None:
                        out = list(body.searches)
                    out[i] = q
            return body if out is None else self.replace(body, searches=out)
        if isinstance(body, models.UpdateOperations):
            ops: list[Any] | None = None
            for i, op in enumerate(body.operations):
                new_op = op
                if isinstance(op, models.UpsertOperation):
                    inner = self.body(op.upsert)
                    if inner is not op.upsert:
                        new_op = self.replace(op, upsert=inner)
                elif isinstance(op, models.UpdateVectorsOperation):
                    inner = self.body(op.update_vectors)
                    if inner is not op.update_vectors:
                        new_op = self.replace(op, update_vectors=inner)
                if new_op is not op:
                    if ops is None:
                        ops = list(body.operations)
                    ops[i] = new_op
            return body if ops is None else self.replace(body, operations=ops)
        if isinstance(body, list):  # a list of points (the ingestion actor)
            pts = self.points(body, "$.points")
            return body if pts is None else pts
        return body


class _Pending:
    __slots__ = ()


def _child(path: Any, name: str) -> tuple[Any, ...]:
    """``path + "." + name`` in the lazy form (a format string and its arguments)."""
    if isinstance(path, str):
        return (path + ".{}", name)
    return (path[0] + ".{}", *path[1:], name)


_PENDING = _Pending()


# ---- resolution, checks, embedding ------------------------------------------------------------------


class _Group:
    __slots__ = ("kind", "model", "options", "is_query", "images", "inputs", "leaves", "dim")

    def __init__(
        self, kind: str, model: str, options: dict[str, Any], is_query: bool, images: bool, dim: int | None
    ):
        self.kind, self.model, self.options, self.is_query, self.images = (
            kind,
            model,
            options,
            is_query,
            images,
        )
        self.dim = dim
        self.inputs: list[Any] = []
        self.leaves: list[_Leaf] = []


def _resolve(
    leaf: _Leaf, seen: dict[str, tuple[str, dict[str, Any]]]
) -> tuple[str, str, dict[str, Any], bool, Any, int | None]:
    """(kind, model name, model kwargs, is image input, the input, dim) of one leaf."""
    obj = leaf.obj
    found = seen.get(obj.model)
    if found is None:
        found = seen[obj.model] = reg.describe(obj.model)
    kind, desc = found
    dim = None if kind == reg.SPARSE else int(desc["dim"])
    opts = model_kwargs(obj.options) if obj.options is not None else _NO_OPTIONS
    if isinstance(obj, models.Document):
        if kind == reg.IMAGE:
            raise InferenceError(
                f"{obj.model!r} is an image model: give models.Image, not a Document (at {leaf.path})"
            )
        return kind, desc["model"], opts, False, obj.text, dim
    if isinstance(obj, models.Image):
        if kind not in (reg.IMAGE, reg.MULTIMODAL):
            raise InferenceError(
                f"{obj.model!r} is a text model: give models.Document, not an Image (at {leaf.path})"
            )
        return kind, desc["model"], opts, True, obj.image, dim
    # InferenceObject: what the model takes
    if kind == reg.MULTIMODAL:
        raise InferenceError(f"{obj.model!r} does not take an InferenceObject: give a Document or an Image")
    return kind, desc["model"], opts, kind == reg.IMAGE, obj.object, dim


def _check_target(
    schema: Schema, collection: str, leaf: _Leaf, kind: str, model: str, dim: int | None
) -> None:
    dense, sparse = schema
    name = leaf.name
    label = f"vector {name!r}" if name else "the unnamed vector"
    if kind == reg.SPARSE:
        if name not in sparse:
            hint = (
                " (sparse vectors are always named: give {name: Document} or using=name)" if not name else ""
            )
            raise VectorNameError(
                f"collection {collection!r} has no sparse vector named {name!r} for the sparse model "
                f"{model!r}{hint}; sparse vectors: {sorted(sparse) or 'none'}",
                path=leaf.path,
            )
        return
    if name not in dense:
        where = f"no vector named {name!r}" if name else "no unnamed vector"
        raise VectorNameError(
            f"collection {collection!r} has {where} for model {model!r}; vectors: "
            f"{sorted(dense) or 'none'}" + (f", sparse vectors: {sorted(sparse)}" if sparse else ""),
            path=leaf.path,
        )
    size, multi = dense[name]
    want_multi = kind in (reg.LATE, reg.MULTIMODAL)
    if want_multi and not multi:
        raise VectorSizeMismatch(
            f"model {model!r} makes multivectors (late interaction) but {label} of collection "
            f"{collection!r} is not a multivector",
            path=leaf.path,
        )
    if dim is not None and dim != size:
        raise VectorSizeMismatch(
            f"model {model!r} makes {dim}-dimensional vectors but {label} of collection {collection!r} "
            f"has size {size}",
            path=leaf.path,
        )


def _out_dim(kind: str, v: Any) -> int | None:
    if kind == reg.SPARSE:
        return None
    if kind in (reg.LATE, reg.MULTIMODAL):
        return len(v[0]) if v else None
    return int(v.shape[-1])


async def embed_request(
    body: Any,
    *,
    embedder: Embedder,
    collection_name: str,
    is_query: bool,
    batch_size: int,
    get_schema: GetSchema | None,
) -> Any:
    """``body`` with every inference object replaced by its embedding (a copy; ``body`` is kept)."""
    plan = _Plan()
    new_body = plan.body(body)
    if not plan.leaves:
        return body
    if batch_size < 1:
        raise ValueError("local_inference_batch_size must be >= 1")
    await reg.ensure_fastembed()

    groups: dict[tuple[Any, ...], _Group] = {}
    checked: set[tuple[str, str, str]] = set()
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    schema = await get_schema(collection_name) if get_schema is not None else None
    for leaf in plan.leaves:
        kind, model, opts, images, value, dim = _resolve(leaf, seen)
        if schema is not None and (leaf.name, kind, model) not in checked:
            _check_target(schema, collection_name, leaf, kind, model, dim)
            checked.add((leaf.name, kind, model))
        key = (kind, model.lower(), options_key(opts) if opts else "", images)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(kind, model, opts, is_query, images, dim)
        g.inputs.append(value)
        g.leaves.append(leaf)

    for g in groups.values():
        for start in range(0, len(g.inputs), batch_size):
            chunk = g.inputs[start : start + batch_size]
            try:
                if g.kind == reg.MULTIMODAL:
                    vectors = await anyio.to_thread.run_sync(
                        embedder.embed_multimodal, g.model, g.options, chunk, g.images, batch_size
                    )
                else:
                    vectors = await anyio.to_thread.run_sync(
                        embedder.embed, g.kind, g.model, g.options, chunk, g.is_query, batch_size
                    )
            except QdrantError:
                raise
            except Exception as e:  # e.g. an image PIL cannot read: an input error, named
                first = g.leaves[start].path
                raise InferenceError(
                    f"model {g.model!r} failed on the inputs from {first} on "
                    f"({len(chunk)} of them): {type(e).__name__}: {e}",
                    path=first,
                ) from e
            if len(vectors) != len(chunk):
                raise InferenceError(
                    f"model {g.model!r} returned {len(vectors)} vectors for {len(chunk)} inputs"
                )
            leaves = g.leaves[start : start + batch_size]
            if schema is not None and vectors and g.kind != reg.SPARSE:
                # a custom model's description may not tell its real size: check what it made
                got = _out_dim(g.kind, vectors[0])
                for name in {leaf.name for leaf in leaves}:
                    size = schema[0].get(name, (None, False))[0]
                    if got is not None and size is not None and got != size:
                        raise VectorSizeMismatch(
                            f"model {g.model!r} made {got}-dimensional vectors but "
                            f"{'vector ' + repr(name) if name else 'the unnamed vector'} of collection "
                            f"{collection_name!r} has size {size}",
                            path=next(leaf.path for leaf in leaves if leaf.name == name),
                        )
            for leaf, v in zip(leaves, vectors, strict=True):
                leaf.put(v)
    return new_body


def has_inference_objects(body: Any) -> bool:
    """Whether ``body`` holds any Document / Image / InferenceObject (no copies are kept)."""
    return bool(_Plan().body(body) is not body)
