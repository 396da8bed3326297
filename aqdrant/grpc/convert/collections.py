"""Collections: create/update/info with vector, sparse, quantization, optimizer, strict-mode and
payload-storage configs; payload index schemas; aliases."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from ... import models as m
from .._proto import qdrant as q
from ._common import (
    Mirror,
    _coll,
    _diff_from_grpc,
    _diff_to_grpc,
    _enum_from_grpc,
    _enum_to_grpc,
    _quiet,
    _unsupported,
    _write_fields,
    betterproto_which,
    enum_pair,
)
from .values import payload_from_grpc, payload_to_grpc

_MULTIVECTOR = Mirror(
    m.MultiVectorConfig,
    q.MultiVectorConfig,
    {"comparator": enum_pair(q.MultiVectorComparator, m.MultiVectorComparator)},
)
_VECTOR_PARAMS = Mirror(
    m.VectorParams,
    q.VectorParams,
    {
        "distance": enum_pair(q.Distance, m.Distance),
        "hnsw_config": (
            lambda d: _diff_to_grpc(d, q.HnswConfigDiff),
            lambda d: _diff_from_grpc(d, m.HnswConfigDiff),
        ),
        "quantization_config": (lambda x: quantization_to_grpc(x), lambda x: quantization_from_grpc(x)),
        "datatype": enum_pair(q.Datatype, m.Datatype),
        "multivector_config": _MULTIVECTOR.optional(),
        "memory": enum_pair(q.Memory, m.Memory),
    },
)
vector_params_to_grpc = _quiet(_VECTOR_PARAMS.to_grpc)
vector_params_from_grpc = _quiet(_VECTOR_PARAMS.from_grpc)


def vectors_config_to_grpc(vc: Any) -> q.VectorsConfig | None:
    """Unnamed or named vector params."""
    if vc is None:
        return None
    if isinstance(vc, m.VectorParams):
        return q.VectorsConfig(params=vector_params_to_grpc(vc))
    return q.VectorsConfig(
        params_map=q.VectorParamsMap(map={k: vector_params_to_grpc(v) for k, v in vc.items()})
    )


def vectors_config_from_grpc(vc: q.VectorsConfig | None) -> Any:
    if vc is None:
        return None
    if betterproto_which(vc, "config") == "params":
        return vector_params_from_grpc(vc.params)
    from ...models import _generated as g

    cls = getattr(g, "VectorsConfigMap", dict)
    return cls({k: vector_params_from_grpc(v) for k, v in vc.params_map.map.items()})


@_quiet
def create_collection_to_grpc(
    name: str, body: m.CreateCollection, timeout: int | None = None
) -> q.CreateCollection:
    return q.CreateCollection(
        sharding_method=_enum_to_grpc(body.sharding_method, q.ShardingMethod)
        if body.sharding_method is not None
        else None,
        payload=_payload_storage_to_grpc(body.payload),
        strict_mode_config=strict_mode_to_grpc(body.strict_mode_config),
        collection_name=name,
        hnsw_config=_diff_to_grpc(body.hnsw_config, q.HnswConfigDiff),
        wal_config=_diff_to_grpc(body.wal_config, q.WalConfigDiff),
        optimizers_config=optimizers_diff_to_grpc(body.optimizers_config),
        shard_number=body.shard_number,
        on_disk_payload=body.on_disk_payload,
        timeout=timeout,
        vectors_config=vectors_config_to_grpc(body.vectors),
        replication_factor=body.replication_factor,
        write_consistency_factor=body.write_consistency_factor,
        metadata=payload_to_grpc(body.metadata),
        quantization_config=quantization_to_grpc(body.quantization_config),
        sparse_vectors_config=sparse_vectors_config_to_grpc(body.sparse_vectors),
    )


@_quiet
def create_collection_from_grpc(msg: q.CreateCollection) -> tuple[str, m.CreateCollection]:
    return msg.collection_name, m.CreateCollection(
        vectors=vectors_config_from_grpc(msg.vectors_config),
        shard_number=msg.shard_number,
        replication_factor=msg.replication_factor,
        write_consistency_factor=msg.write_consistency_factor,
        on_disk_payload=msg.on_disk_payload,
        hnsw_config=_diff_from_grpc(msg.hnsw_config, m.HnswConfigDiff),
        wal_config=_diff_from_grpc(msg.wal_config, m.WalConfigDiff),
        optimizers_config=optimizers_diff_from_grpc(msg.optimizers_config),
        metadata=payload_from_grpc(msg.metadata) or None,
        quantization_config=quantization_from_grpc(msg.quantization_config),
        sparse_vectors=sparse_vectors_config_from_grpc(msg.sparse_vectors_config),
        sharding_method=_enum_from_grpc(msg.sharding_method, m.ShardingMethod)
        if msg.sharding_method is not None
        else None,
        payload=_payload_storage_from_grpc(msg.payload),
        strict_mode_config=strict_mode_from_grpc(msg.strict_mode_config),
    )


def collections_list_from_grpc(msg: q.ListCollectionsResponse) -> m.CollectionsResponse:
    return m.CollectionsResponse(collections=[m.CollectionDescription(name=c.name) for c in msg.collections])


def collections_list_to_grpc(res: m.CollectionsResponse) -> q.ListCollectionsResponse:
    return q.ListCollectionsResponse(
        collections=[q.CollectionDescription(name=c.name) for c in res.collections]
    )


def collection_info_from_grpc(msg: q.CollectionInfo) -> m.CollectionInfo:
    """The parts of ``CollectionInfo`` the client reads: status, counts, vector config."""
    import warnings

    with warnings.catch_warnings():  # on_disk_payload and hnsw on_disk are deprecated in the proto
        warnings.simplefilter("ignore", DeprecationWarning)
        return _collection_info_from_grpc(msg)


def _collection_info_from_grpc(msg: q.CollectionInfo) -> m.CollectionInfo:
    cfg = msg.config
    params = cfg.params if cfg is not None else None
    hnsw = cfg.hnsw_config if cfg is not None else None
    opt = cfg.optimizer_config if cfg is not None else None
    optimizer_status: Any = m.OptimizersStatusOneOf.OK
    if msg.optimizer_status is not None and not msg.optimizer_status.ok:
        optimizer_status = m.OptimizersStatusOneOf1(error=msg.optimizer_status.error)
    return m.CollectionInfo(
        status=_enum_from_grpc(msg.status, m.CollectionStatus),
        optimizer_status=optimizer_status,
        indexed_vectors_count=msg.indexed_vectors_count,
        points_count=msg.points_count,
        segments_count=msg.segments_count,
        config=m.CollectionConfig(
            params=m.CollectionParams(
                vectors=vectors_config_from_grpc(params.vectors_config) if params else None,
                shard_number=params.shard_number if params else None,
                replication_factor=params.replication_factor if params else None,
                write_consistency_factor=params.write_consistency_factor if params else None,
                on_disk_payload=params.on_disk_payload if params else None,
                sparse_vectors=sparse_vectors_config_from_grpc(params.sparse_vectors_config)
                if params
                else None,
                sharding_method=_enum_from_grpc(params.sharding_method, m.ShardingMethod)
                if params and params.sharding_method is not None
                else None,
                read_fan_out_factor=params.read_fan_out_factor if params else None,
                read_fan_out_delay_ms=params.read_fan_out_delay_ms if params else None,
                payload=_payload_storage_from_grpc(params.payload) if params else None,
            ),
            # the fields REST always has are 0 when the reply leaves them out
            hnsw_config=m.HnswConfig(
                **{
                    "m": 0,
                    "ef_construct": 0,
                    "full_scan_threshold": 0,
                    **(_diff_from_grpc(hnsw, m.HnswConfig, True) or {}),
                }
            ),
            optimizer_config=m.OptimizersConfig(
                **{
                    "default_segment_number": 0,
                    "flush_interval_sec": 0,
                    **(_diff_from_grpc(opt, m.OptimizersConfig, True) or {}),
                    # "auto" is REST's null
                    "max_optimization_threads": opt.max_optimization_threads.value
                    if opt is not None and opt.max_optimization_threads is not None
                    else None,
                }
            ),
            wal_config=m.WalConfig(**{"wal_capacity_mb": 0, "wal_segments_ahead": 0, **wal})
            if (wal := _diff_from_grpc(cfg.wal_config, m.WalConfig, True) if cfg is not None else None)
            else None,
            metadata=payload_from_grpc(cfg.metadata) or None if cfg is not None else None,
            quantization_config=quantization_from_grpc(cfg.quantization_config) if cfg is not None else None,
            strict_mode_config=_strict_mode_output_from_grpc(cfg.strict_mode_config)
            if cfg is not None
            else None,
        ),
        payload_schema={k: _payload_schema_from_grpc(v) for k, v in msg.payload_schema.items()},
    )


def _optimizer_config_to_grpc(o: m.OptimizersConfig | None) -> q.OptimizersConfigDiff | None:
    if o is None:
        return None
    msg = _diff_to_grpc(o, q.OptimizersConfigDiff, skip=("max_optimization_threads",))
    threads = o.max_optimization_threads  # REST's null is gRPC's "auto"
    msg.max_optimization_threads = _max_threads_to_grpc(threads if threads is not None else "auto")
    return msg


def _strict_mode_output_from_grpc(msg: q.StrictModeConfig | None) -> Any:
    sm = strict_mode_from_grpc(msg)
    return None if sm is None else m.parse(m.StrictModeConfigOutput, m.to_builtins(sm))


def collection_info_to_grpc(info: m.CollectionInfo) -> q.CollectionInfo:
    """The parts of a ``CollectionInfo`` that :func:`collection_info_from_grpc` reads back."""
    import warnings

    with warnings.catch_warnings():  # on_disk_payload and hnsw on_disk are deprecated in the proto
        warnings.simplefilter("ignore", DeprecationWarning)
        return _collection_info_to_grpc(info)


def _collection_info_to_grpc(info: m.CollectionInfo) -> q.CollectionInfo:
    cfg = info.config
    params = cfg.params
    opt_status = info.optimizer_status
    ok = opt_status == m.OptimizersStatusOneOf.OK or getattr(opt_status, "value", None) == "ok"
    return q.CollectionInfo(
        status=_enum_to_grpc(info.status, q.CollectionStatus),
        optimizer_status=q.OptimizerStatus(ok=ok, error="" if ok else str(getattr(opt_status, "error", ""))),
        segments_count=info.segments_count,
        points_count=info.points_count,
        indexed_vectors_count=info.indexed_vectors_count,
        config=q.CollectionConfig(
            params=q.CollectionParams(
                shard_number=params.shard_number or 1,
                on_disk_payload=bool(params.on_disk_payload),
                vectors_config=vectors_config_to_grpc(params.vectors),
                replication_factor=params.replication_factor,
                write_consistency_factor=params.write_consistency_factor,
                sparse_vectors_config=sparse_vectors_config_to_grpc(params.sparse_vectors),
                sharding_method=_enum_to_grpc(params.sharding_method, q.ShardingMethod)
                if params.sharding_method is not None
                else None,
                read_fan_out_factor=params.read_fan_out_factor,
                read_fan_out_delay_ms=params.read_fan_out_delay_ms,
                payload=_payload_storage_to_grpc(params.payload),
            ),
            hnsw_config=_diff_to_grpc(cfg.hnsw_config, q.HnswConfigDiff) or q.HnswConfigDiff(),
            optimizer_config=_optimizer_config_to_grpc(cfg.optimizer_config) or q.OptimizersConfigDiff(),
            wal_config=_diff_to_grpc(cfg.wal_config, q.WalConfigDiff) or q.WalConfigDiff(),
            metadata=payload_to_grpc(cfg.metadata),
            quantization_config=quantization_to_grpc(cfg.quantization_config),
            strict_mode_config=strict_mode_to_grpc(
                m.parse(m.StrictModeConfig, m.to_builtins(cfg.strict_mode_config))
                if cfg.strict_mode_config is not None
                else None
            ),
        ),
        payload_schema={k: _payload_schema_to_grpc(v) for k, v in (info.payload_schema or {}).items()},
    )


@_quiet
def _payload_schema_to_grpc(p: m.PayloadIndexInfo) -> q.PayloadSchemaInfo:
    return q.PayloadSchemaInfo(
        data_type=_enum_to_grpc(p.data_type, q.PayloadSchemaType),
        params=field_index_to_grpc(p.params)[1] if p.params is not None else None,
        points=p.points,
    )


@_quiet
def _payload_schema_from_grpc(p: q.PayloadSchemaInfo) -> m.PayloadIndexInfo:
    return m.PayloadIndexInfo(
        data_type=_enum_from_grpc(p.data_type, m.PayloadSchemaType),
        params=field_index_from_grpc(None, p.params),
        points=p.points or 0,
    )


# payload index: the schema is a bare type (keyword, integer, ...) or the type's *IndexParams
_INDEX_KINDS: dict[str, tuple[Any, str, str]] = {
    # model schema value -> (proto FieldType, PayloadIndexParams field, model params class name)
    "keyword": (q.FieldType.FieldTypeKeyword, "keyword_index_params", "KeywordIndexParams"),
    "integer": (q.FieldType.FieldTypeInteger, "integer_index_params", "IntegerIndexParams"),
    "float": (q.FieldType.FieldTypeFloat, "float_index_params", "FloatIndexParams"),
    "geo": (q.FieldType.FieldTypeGeo, "geo_index_params", "GeoIndexParams"),
    "text": (q.FieldType.FieldTypeText, "text_index_params", "TextIndexParams"),
    "bool": (q.FieldType.FieldTypeBool, "bool_index_params", "BoolIndexParams"),
    "datetime": (q.FieldType.FieldTypeDatetime, "datetime_index_params", "DatetimeIndexParams"),
    "uuid": (q.FieldType.FieldTypeUuid, "uuid_index_params", "UuidIndexParams"),
}


def _stopwords_to_grpc(sw: Any) -> q.StopwordsSet | None:
    if sw is None:
        return None
    if isinstance(sw, m.StopwordsSet):
        return q.StopwordsSet(
            languages=[getattr(x, "value", x) for x in sw.languages or []], custom=list(sw.custom or [])
        )
    return q.StopwordsSet(languages=[getattr(sw, "value", sw)])


def _stopwords_from_grpc(sw: q.StopwordsSet | None) -> Any:
    """A single language and nothing else reads back as the bare ``Language`` (REST's short form)."""
    if sw is None:
        return None
    if len(sw.languages) == 1 and not sw.custom:
        return m.Language(sw.languages[0])
    return m.StopwordsSet(
        languages=[m.Language(x) for x in sw.languages] or None, custom=list(sw.custom) or None
    )


def _stemmer_to_grpc(st: Any) -> q.StemmingAlgorithm | None:
    if st is None:
        return None
    if isinstance(st, m.SnowballParams):
        return q.StemmingAlgorithm(
            snowball=q.SnowballParams(language=getattr(st.language, "value", st.language))
        )
    return q.StemmingAlgorithm(disabled=q.DisabledStemmer())


def _stemmer_from_grpc(st: q.StemmingAlgorithm | None) -> Any:
    if st is None:
        return None
    if betterproto_which(st, "stemming_params") == "snowball":
        return m.SnowballParams(type=m.Snowball.SNOWBALL, language=m.SnowballLanguage(st.snowball.language))
    return m.DisabledStemmerParams(type=next(iter(m.NoStemmer)))


@_quiet
def field_index_to_grpc(schema: Any) -> tuple[Any, q.PayloadIndexParams | None]:
    """``field_schema`` -> (FieldType, PayloadIndexParams or None)."""
    if schema is None:
        return None, None
    kind = getattr(schema, "type", None)
    if kind is None:  # a bare PayloadSchemaType
        return _INDEX_KINDS[getattr(schema, "value", schema)][0], None
    field_type, params_field, _ = _INDEX_KINDS[getattr(kind, "value", kind)]
    params_cls = getattr(q, "".join(w.title() for w in params_field.split("_")))
    extra: dict[str, Any] = {}
    if isinstance(schema, m.TextIndexParams):
        extra = {
            "stopwords": _stopwords_to_grpc(schema.stopwords),
            "stemmer": _stemmer_to_grpc(schema.stemmer),
        }
    if getattr(schema, "prefix", None):  # a bool in REST, an empty message in gRPC
        extra["prefix"] = q.KeywordPrefixParams()
    params = _diff_to_grpc(schema, params_cls, skip=("type", "stopwords", "stemmer", "prefix"))
    for k, v in extra.items():
        setattr(params, k, v)
    return field_type, q.PayloadIndexParams(**{params_field: params})


@_quiet
def field_index_from_grpc(field_type: Any, params: q.PayloadIndexParams | None) -> Any:
    if params is not None:
        params_field = betterproto_which(params, "index_params")
        if params_field is not None:
            kind, (_, _, model_name) = next((k, v) for k, v in _INDEX_KINDS.items() if v[1] == params_field)
            msg = getattr(params, params_field)
            model_cls = getattr(m, model_name)
            values = _diff_from_grpc(msg, model_cls, as_dict=True)
            if params_field == "text_index_params":
                values["stopwords"] = _stopwords_from_grpc(msg.stopwords)
                values["stemmer"] = _stemmer_from_grpc(msg.stemmer)
            if params_field == "keyword_index_params":  # prefix=false is the default, read as unset
                values["prefix"] = True if msg.prefix is not None else None
            kind_enum = typing.get_type_hints(model_cls)["type"]
            return model_cls(type=kind_enum(kind), **{k: v for k, v in values.items() if v is not None})
    if field_type is None:
        return None
    return m.PayloadSchemaType(next(k for k, v in _INDEX_KINDS.items() if v[0] == field_type))


def alias_operation_to_grpc(a: Any) -> q.AliasOperations:
    if isinstance(a, m.CreateAliasOperation):
        c = a.create_alias
        return q.AliasOperations(
            create_alias=q.CreateAlias(collection_name=c.collection_name, alias_name=c.alias_name)
        )
    if isinstance(a, m.RenameAliasOperation):
        r = a.rename_alias
        return q.AliasOperations(
            rename_alias=q.RenameAlias(old_alias_name=r.old_alias_name, new_alias_name=r.new_alias_name)
        )
    if isinstance(a, m.DeleteAliasOperation):
        return q.AliasOperations(delete_alias=q.DeleteAlias(alias_name=a.delete_alias.alias_name))
    raise _unsupported(f"alias operation {type(a).__name__}")


def alias_operation_from_grpc(a: q.AliasOperations) -> Any:
    kind = betterproto_which(a, "action")
    if kind == "create_alias":
        c = a.create_alias
        return m.CreateAliasOperation(
            create_alias=m.CreateAlias(collection_name=c.collection_name, alias_name=c.alias_name)
        )
    if kind == "rename_alias":
        r = a.rename_alias
        return m.RenameAliasOperation(
            rename_alias=m.RenameAlias(old_alias_name=r.old_alias_name, new_alias_name=r.new_alias_name)
        )
    if kind == "delete_alias":
        return m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=a.delete_alias.alias_name))
    raise _unsupported(f"alias operation {kind}")


def aliases_to_grpc(res: m.CollectionsAliasesResponse, elapsed: float = 0.0) -> q.ListAliasesResponse:
    return q.ListAliasesResponse(
        aliases=[
            q.AliasDescription(alias_name=a.alias_name, collection_name=a.collection_name)
            for a in res.aliases
        ],
        time=elapsed,
    )


def aliases_from_grpc(msg: q.ListAliasesResponse) -> m.CollectionsAliasesResponse:
    return m.CollectionsAliasesResponse(
        aliases=[
            m.AliasDescription(alias_name=a.alias_name, collection_name=a.collection_name)
            for a in msg.aliases
        ]
    )


_MEMORY = enum_pair(q.Memory, m.Memory)
#: one row per quantization method: the REST wrapper, its field, the proto's oneof case and the
#: settings' mirror (REST and proto name the settings alike; only the cases' names differ)
_QUANTIZATIONS: tuple[tuple[type, str, str, Mirror], ...] = (
    (
        m.ScalarQuantization,
        "scalar",
        "scalar",
        Mirror(
            m.ScalarQuantizationConfig,
            q.ScalarQuantization,
            {"type": enum_pair(q.QuantizationType, m.ScalarType), "memory": _MEMORY},
        ),
    ),
    (
        m.ProductQuantization,
        "product",
        "product",
        Mirror(
            m.ProductQuantizationConfig,
            q.ProductQuantization,
            {"compression": enum_pair(q.CompressionRatio, m.CompressionRatio), "memory": _MEMORY},
        ),
    ),
    (
        m.BinaryQuantization,
        "binary",
        "binary",
        Mirror(
            m.BinaryQuantizationConfig,
            q.BinaryQuantization,
            {
                "encoding": enum_pair(q.BinaryQuantizationEncoding, m.BinaryQuantizationEncoding),
                # a bare enum on REST, wrapped in a one-field message on gRPC
                "query_encoding": (
                    lambda v: (
                        None
                        if v is None
                        else q.BinaryQuantizationQueryEncoding(
                            setting=_enum_to_grpc(v, q.BinaryQuantizationQueryEncodingSetting)
                        )
                    ),
                    lambda v: (
                        None if v is None else _enum_from_grpc(v.setting, m.BinaryQuantizationQueryEncoding)
                    ),
                ),
                "memory": _MEMORY,
            },
        ),
    ),
    (
        m.TurboQuantization,
        "turbo",
        "turboquant",
        Mirror(
            m.TurboQuantQuantizationConfig,
            q.TurboQuantization,
            {"bits": enum_pair(q.TurboQuantBitSize, m.TurboQuantBitSize), "memory": _MEMORY},
        ),
    ),
)


@_quiet
def quantization_to_grpc(qc: Any, diff: bool = False) -> Any:
    """A quantization config as ``QuantizationConfig`` (``QuantizationConfigDiff`` with ``diff``,
    which also takes ``Disabled``)."""
    if qc is None:
        return None
    cls = q.QuantizationConfigDiff if diff else q.QuantizationConfig
    for wrapper, field, case, mirror in _QUANTIZATIONS:
        if isinstance(qc, wrapper):
            return cls(**{case: mirror.to_grpc(getattr(qc, field))})
    if diff and qc == m.Disabled.DISABLED:
        return cls(disabled=q.Disabled())
    raise _unsupported(f"quantization {type(qc).__name__}")


@_quiet
def quantization_from_grpc(qc: Any) -> Any:
    """Inverse of :func:`quantization_to_grpc` (either message)."""
    if qc is None:
        return None
    kind = betterproto_which(qc, "quantization")
    for wrapper, field, case, mirror in _QUANTIZATIONS:
        if kind == case:
            return wrapper(**{field: mirror.from_grpc(getattr(qc, case))})
    if kind == "disabled":
        return m.Disabled.DISABLED
    raise _unsupported(f"quantization {kind}")


@_quiet
def sparse_vector_params_to_grpc(p: m.SparseVectorParams) -> q.SparseVectorParams:
    return q.SparseVectorParams(
        index=_diff_to_grpc(p.index, q.SparseIndexConfig),
        modifier=_enum_to_grpc(p.modifier, q.Modifier) if p.modifier is not None else None,
    )


@_quiet
def sparse_vector_params_from_grpc(p: q.SparseVectorParams) -> m.SparseVectorParams:
    return m.SparseVectorParams(
        index=_diff_from_grpc(p.index, m.SparseIndexParams),
        modifier=_enum_from_grpc(p.modifier, m.Modifier) if p.modifier is not None else None,
    )


def sparse_vectors_config_to_grpc(sv: Mapping[str, Any] | None) -> q.SparseVectorConfig | None:
    if sv is None:
        return None
    return q.SparseVectorConfig(map={k: sparse_vector_params_to_grpc(v) for k, v in sv.items()})


def sparse_vectors_config_from_grpc(sv: q.SparseVectorConfig | None) -> dict[str, Any] | None:
    if sv is None:
        return None
    return {k: sparse_vector_params_from_grpc(v) for k, v in sv.map.items()}


def _vector_params_diff_to_grpc(d: m.VectorParamsDiff) -> q.VectorParamsDiff:
    return q.VectorParamsDiff(
        hnsw_config=_diff_to_grpc(d.hnsw_config, q.HnswConfigDiff),
        quantization_config=quantization_to_grpc(d.quantization_config, diff=True),
        on_disk=d.on_disk,
        memory=_enum_to_grpc(d.memory, q.Memory) if d.memory is not None else None,
    )


def _vector_params_diff_from_grpc(d: q.VectorParamsDiff) -> m.VectorParamsDiff:
    return m.VectorParamsDiff(
        hnsw_config=_diff_from_grpc(d.hnsw_config, m.HnswConfigDiff),
        quantization_config=quantization_from_grpc(d.quantization_config),
        on_disk=d.on_disk,
        memory=_enum_from_grpc(d.memory, m.Memory) if d.memory is not None else None,
    )


@_quiet
def update_collection_to_grpc(
    name: str, body: m.UpdateCollection, timeout: int | None = None
) -> q.UpdateCollection:
    # REST names the unnamed vector "" in this map, as the server does for gRPC's params_map
    vectors = (
        q.VectorsConfigDiff(
            params_map=q.VectorParamsDiffMap(
                map={k: _vector_params_diff_to_grpc(v) for k, v in body.vectors.items()}
            )
        )
        if body.vectors is not None
        else None
    )
    return q.UpdateCollection(
        collection_name=name,
        optimizers_config=optimizers_diff_to_grpc(body.optimizers_config),
        timeout=timeout,
        params=_params_diff_to_grpc(body.params),
        strict_mode_config=strict_mode_to_grpc(body.strict_mode_config),
        hnsw_config=_diff_to_grpc(body.hnsw_config, q.HnswConfigDiff),
        vectors_config=vectors,
        quantization_config=quantization_to_grpc(body.quantization_config, diff=True),
        sparse_vectors_config=sparse_vectors_config_to_grpc(body.sparse_vectors),
        metadata=payload_to_grpc(body.metadata),
    )


@_quiet
def update_collection_from_grpc(msg: q.UpdateCollection) -> m.UpdateCollection:
    vectors = None
    if msg.vectors_config is not None:
        if betterproto_which(msg.vectors_config, "config") == "params":
            vectors = {"": _vector_params_diff_from_grpc(msg.vectors_config.params)}
        else:
            vectors = {
                k: _vector_params_diff_from_grpc(v) for k, v in msg.vectors_config.params_map.map.items()
            }
    return m.UpdateCollection(
        vectors=vectors,
        optimizers_config=optimizers_diff_from_grpc(msg.optimizers_config),
        params=_params_diff_from_grpc(msg.params),
        strict_mode_config=strict_mode_from_grpc(msg.strict_mode_config),
        hnsw_config=_diff_from_grpc(msg.hnsw_config, m.HnswConfigDiff),
        quantization_config=quantization_from_grpc(msg.quantization_config),
        sparse_vectors=sparse_vectors_config_from_grpc(msg.sparse_vectors_config),
        metadata=payload_from_grpc(msg.metadata) or None,
    )


def _params_diff_to_grpc(p: m.CollectionParamsDiff | None) -> q.CollectionParamsDiff | None:
    if p is None:
        return None
    msg = _diff_to_grpc(p, q.CollectionParamsDiff, skip=("payload",))
    msg.payload = _payload_storage_to_grpc(p.payload)
    return msg


def _params_diff_from_grpc(msg: q.CollectionParamsDiff | None) -> m.CollectionParamsDiff | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.CollectionParamsDiff, as_dict=True)
    values["payload"] = _payload_storage_from_grpc(msg.payload)
    return m.CollectionParamsDiff(**values)


@_quiet
def strict_mode_to_grpc(sm: m.StrictModeConfig | None) -> q.StrictModeConfig | None:
    if sm is None:
        return None
    msg = _diff_to_grpc(sm, q.StrictModeConfig, skip=("multivector_config", "sparse_config"))
    if sm.multivector_config is not None:
        msg.multivector_config = q.StrictModeMultivectorConfig(
            multivector_config={
                k: q.StrictModeMultivector(max_vectors=v.max_vectors)
                for k, v in sm.multivector_config.items()
            }
        )
    if sm.sparse_config is not None:
        msg.sparse_config = q.StrictModeSparseConfig(
            sparse_config={
                k: q.StrictModeSparse(max_length=v.max_length) for k, v in sm.sparse_config.items()
            }
        )
    return msg


@_quiet
def strict_mode_from_grpc(msg: q.StrictModeConfig | None) -> m.StrictModeConfig | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.StrictModeConfig, as_dict=True)
    values["multivector_config"] = (
        {
            k: m.StrictModeMultivector(max_vectors=v.max_vectors)
            for k, v in msg.multivector_config.multivector_config.items()
        }
        if msg.multivector_config is not None
        else None
    )
    values["sparse_config"] = (
        {k: m.StrictModeSparse(max_length=v.max_length) for k, v in msg.sparse_config.sparse_config.items()}
        if msg.sparse_config is not None
        else None
    )
    return m.StrictModeConfig(**values)


def _max_threads_to_grpc(v: Any) -> q.MaxOptimizationThreads | None:
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return q.MaxOptimizationThreads(value=v)
    return q.MaxOptimizationThreads(setting=_enum_to_grpc(v, q.MaxOptimizationThreadsSetting))


def _max_threads_from_grpc(v: q.MaxOptimizationThreads | None) -> Any:
    if v is None:
        return None
    if betterproto_which(v, "variant") == "value":
        return v.value
    return _enum_from_grpc(v.setting, m.MaxOptimizationThreadsSetting)


@_quiet
def optimizers_diff_to_grpc(o: m.OptimizersConfigDiff | None) -> q.OptimizersConfigDiff | None:
    if o is None:
        return None
    msg = _diff_to_grpc(o, q.OptimizersConfigDiff, skip=("max_optimization_threads",))
    msg.max_optimization_threads = _max_threads_to_grpc(o.max_optimization_threads)
    return msg


@_quiet
def optimizers_diff_from_grpc(msg: q.OptimizersConfigDiff | None) -> m.OptimizersConfigDiff | None:
    if msg is None:
        return None
    values = _diff_from_grpc(msg, m.OptimizersConfigDiff, as_dict=True)
    values["max_optimization_threads"] = _max_threads_from_grpc(msg.max_optimization_threads)
    return m.OptimizersConfigDiff(**values)


def _payload_storage_to_grpc(p: m.PayloadStorageParams | None) -> q.PayloadStorageParams | None:
    return _diff_to_grpc(p, q.PayloadStorageParams)


def _payload_storage_from_grpc(p: q.PayloadStorageParams | None) -> m.PayloadStorageParams | None:
    return _diff_from_grpc(p, m.PayloadStorageParams)


# --------------------------------------------------------------------------- named vectors


_VECTOR_DATATYPE = enum_pair(q.Datatype, m.VectorStorageDatatype)
_DENSE_VECTOR = Mirror(
    m.DenseVectorConfig,
    q.DenseVectorCreationConfig,
    {
        "distance": enum_pair(q.Distance, m.Distance),
        "multivector_config": _MULTIVECTOR.optional(),
        "datatype": _VECTOR_DATATYPE,
    },
)
_SPARSE_VECTOR = Mirror(
    m.SparseVectorConfig,
    q.SparseVectorCreationConfig,
    {"modifier": enum_pair(q.Modifier, m.Modifier), "datatype": _VECTOR_DATATYPE},
)


def create_vector_name_to_grpc(
    path: Mapping[str, Any], query: Mapping[str, Any], body: Any
) -> q.CreateVectorNameRequest:
    if isinstance(body, m.DenseVectorNameConfig):
        config = {"dense_config": _DENSE_VECTOR.to_grpc(body.dense)}
    elif isinstance(body, m.SparseVectorNameConfig):
        config = {"sparse_config": _SPARSE_VECTOR.to_grpc(body.sparse)}
    else:
        raise _unsupported(f"vector name config {type(body).__name__}")
    return q.CreateVectorNameRequest(
        collection_name=_coll(path), vector_name=path["vector_name"], **config, **_write_fields(query)
    )


def create_vector_name_from_grpc(msg: q.CreateVectorNameRequest) -> tuple[dict[str, Any], Any]:
    kind = betterproto_which(msg, "vector_config")
    if kind == "dense_config":
        body: Any = m.DenseVectorNameConfig(dense=_DENSE_VECTOR.from_grpc(msg.dense_config))
    elif kind == "sparse_config":
        body = m.SparseVectorNameConfig(sparse=_SPARSE_VECTOR.from_grpc(msg.sparse_config))
    else:
        raise ValueError("a dense_config or a sparse_config is required")
    return {"vector_name": msg.vector_name}, body
