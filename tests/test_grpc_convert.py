"""convert.py: model -> betterproto2 message -> wire bytes -> message -> model is the identity for
generated instances of each covered type (the normal forms: condition lists, not single conditions;
empty payloads as None)."""

from __future__ import annotations

import typing
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_grpc_fast import (
    dense,
    json_values,
    multi,
    payloads,
    point_ids,
    records,
    scored_points,
    vector_structs,
)

from aqdrant import models as m
from aqdrant.errors import UnsupportedOperation
from aqdrant.grpc import convert
from aqdrant.grpc._proto import qdrant as q
from aqdrant.grpc.convert.collections import quantization_from_grpc, quantization_to_grpc

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

i64 = st.integers(-(2**63), 2**63 - 1)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
name = st.text(max_size=6)
opt = st.none
f64 = st.floats(allow_nan=False)


def wire(msg):
    """Through the wire and back, so that the test also covers betterproto2's encoding."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return type(msg).parse(bytes(msg))


def round_trip(model, to, frm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return frm(wire(to(model)))


# ------------------------------------------------------------------ strategies

matches = st.one_of(
    st.builds(m.MatchValue, value=st.booleans() | i64 | st.text(max_size=5)),
    st.builds(
        m.MatchAny, any=st.lists(st.text(max_size=3), max_size=3) | st.lists(i64, min_size=1, max_size=3)
    ),
    st.builds(
        lambda xs: m.MatchExcept(except_=xs),
        st.lists(st.text(max_size=3), max_size=3) | st.lists(i64, min_size=1, max_size=3),
    ),
    st.builds(m.MatchText, text=st.text(max_size=5)),
    st.builds(m.MatchTextAny, text_any=st.text(max_size=5)),
    st.builds(m.MatchPhrase, phrase=st.text(max_size=5)),
    st.builds(m.MatchPrefix, prefix=st.text(max_size=5)),
)
ranges = st.builds(m.Range, lt=opt() | f64, gt=opt() | f64, gte=opt() | f64, lte=opt() | f64)
values_counts = st.builds(m.ValuesCount, lt=opt() | u32, gt=opt() | u32, gte=opt() | u32, lte=opt() | u32)
field_conditions = st.builds(
    m.FieldCondition,
    key=name,
    match=opt() | matches,
    range=opt() | ranges,
    values_count=opt() | values_counts,
    is_empty=opt() | st.booleans(),
    is_null=opt() | st.booleans(),
)
f32 = st.floats(width=32, allow_nan=False)
geo_points = st.builds(m.GeoPoint, lon=f64, lat=f64)
geo_lines = st.builds(m.GeoLineString, points=st.lists(geo_points, max_size=4))
# RFC 3339 in the form the reader gives back (isoformat of a zone-aware datetime)
timestamps = st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(lambda d: d.isoformat())
geo_conditions = st.one_of(
    st.builds(m.FieldCondition, key=name, geo_radius=st.builds(m.GeoRadius, center=geo_points, radius=f32)),
    st.builds(
        m.FieldCondition,
        key=name,
        geo_bounding_box=st.builds(m.GeoBoundingBox, top_left=geo_points, bottom_right=geo_points),
    ),
    st.builds(
        m.FieldCondition,
        key=name,
        geo_polygon=st.builds(
            m.GeoPolygon, exterior=geo_lines, interiors=opt() | st.lists(geo_lines, min_size=1, max_size=2)
        ),
    ),
    st.builds(
        m.FieldCondition,
        key=name,
        range=st.builds(
            m.DatetimeRange,
            lt=opt() | timestamps,
            gt=opt() | timestamps,
            gte=opt() | timestamps,
            lte=opt() | timestamps,
        ),
    ),
)
leaf_conditions = st.one_of(
    field_conditions,
    geo_conditions,
    st.builds(m.HasVectorCondition, has_vector=name),
    st.builds(lambda k: m.IsEmptyCondition(is_empty=m.PayloadField(key=k)), name),
    st.builds(lambda k: m.IsNullCondition(is_null=m.PayloadField(key=k)), name),
    st.builds(m.HasIdCondition, has_id=st.lists(point_ids, max_size=3)),
    st.builds(lambda t, i: m.SliceCondition(slice=m.Slice(total=t, index=i)), u32, u32),
)


def _filters(children):
    conds = st.none() | st.lists(children, min_size=1, max_size=3)
    return st.builds(
        m.Filter,
        should=conds,
        must=conds,
        must_not=conds,
        min_should=opt()
        | st.builds(m.MinShould, conditions=st.lists(children, max_size=2), min_count=st.integers(0, 5)),
    )


conditions = st.recursive(
    leaf_conditions,
    lambda children: (
        _filters(children)
        | st.builds(
            lambda k, f: m.NestedCondition(nested=m.Nested(key=k, filter=f)), name, _filters(children)
        )
    ),
    max_leaves=6,
)
filters = _filters(conditions)

with_payloads = (
    st.booleans()
    | st.builds(m.PayloadSelectorInclude, include=st.lists(name, max_size=3))
    | st.builds(m.PayloadSelectorExclude, exclude=st.lists(name, max_size=3))
)
with_vectors = st.booleans() | st.lists(name, max_size=3)
order_bys = (
    st.builds(
        m.OrderBy,
        key=name,
        direction=opt() | st.sampled_from(list(m.Direction)),
        start_from=opt() | i64 | f64 | timestamps,  # a datetime goes as a Timestamp: its normal form
    ).filter(lambda ob: ob.direction is not None or ob.start_from is not None)
    | name
)
search_params = st.builds(
    m.SearchParams,
    acorn=opt() | st.builds(m.AcornSearchParams, enable=opt() | st.booleans(), max_selectivity=opt() | f64),
    idf=opt() | st.just(m.IdfScope.GLOBAL) | st.builds(m.IdfCorpusParams, corpus=st.builds(m.Filter)),
    hnsw_ef=opt() | u64,
    exact=opt() | st.booleans(),
    quantization=opt()
    | st.builds(
        m.QuantizationSearchParams,
        ignore=opt() | st.booleans(),
        rescore=opt() | st.booleans(),
        oversampling=opt() | f64,
    ),
    indexed_only=opt() | st.booleans(),
)
sparse_inputs = st.lists(
    st.tuples(u32, st.floats(width=32, allow_nan=False)), max_size=4, unique_by=lambda t: t[0]
).map(lambda ps: m.SparseVector(indices=[i for i, _ in ps], values=[v for _, v in ps]))
options = payloads.filter(lambda p: p != {})
inference_objects = st.one_of(
    st.builds(m.Document, text=name, model=name, options=options),
    st.builds(m.Image, image=json_values, model=name, options=options),
    st.builds(m.InferenceObject, object=json_values, model=name, options=options),
)
vector_inputs = dense | multi | sparse_inputs | point_ids | inference_objects
context_pairs = st.builds(m.ContextPair, positive=vector_inputs, negative=vector_inputs)
expressions = st.recursive(
    f32 | name | leaf_conditions,
    lambda e: st.one_of(
        st.builds(m.MultExpression, mult=st.lists(e, max_size=3)),
        st.builds(m.SumExpression, sum=st.lists(e, max_size=3)),
        st.builds(m.NegExpression, neg=e),
        st.builds(m.AbsExpression, abs=e),
        st.builds(m.SqrtExpression, sqrt=e),
        st.builds(m.ExpExpression, exp=e),
        st.builds(m.Log10Expression, log10=e),
        st.builds(m.LnExpression, ln=e),
        st.builds(m.DivExpression, div=st.builds(m.DivParams, left=e, right=e, by_zero_default=opt() | f32)),
        st.builds(m.PowExpression, pow=st.builds(m.PowParams, base=e, exponent=e)),
        st.builds(m.GeoDistance, geo_distance=st.builds(m.GeoDistanceParams, origin=geo_points, to=name)),
        st.builds(m.DatetimeExpression, datetime=name),
        st.builds(m.DatetimeKeyExpression, datetime_key=name),
        *(
            st.builds(
                lambda p, cls=cls, f=f: cls(**{f: p}),
                st.builds(
                    m.DecayParamsExpression, x=e, target=opt() | e, scale=opt() | f32, midpoint=opt() | f32
                ),
            )
            for cls, f in (
                (m.LinDecayExpression, "lin_decay"),
                (m.ExpDecayExpression, "exp_decay"),
                (m.GaussDecayExpression, "gauss_decay"),
            )
        ),
    ),
    max_leaves=6,
)
queries = st.one_of(
    st.builds(m.NearestQuery, nearest=vector_inputs),
    st.builds(m.OrderByQuery, order_by=order_bys),
    st.builds(
        m.NearestQuery,
        nearest=vector_inputs,
        mmr=st.builds(m.Mmr, diversity=opt() | f32, candidates_limit=opt() | u32),
    ),
    st.builds(
        m.RecommendQuery,
        recommend=st.builds(
            m.RecommendInput,
            positive=opt() | st.lists(vector_inputs, min_size=1, max_size=2),
            negative=opt() | st.lists(vector_inputs, min_size=1, max_size=2),
            strategy=opt() | st.sampled_from(list(m.RecommendStrategy)),
        ),
    ),
    st.builds(
        m.DiscoverQuery,
        discover=st.builds(
            m.DiscoverInput,
            target=vector_inputs,
            context=opt() | st.lists(context_pairs, min_size=1, max_size=2),
        ),
    ),
    st.builds(m.ContextQuery, context=opt() | st.lists(context_pairs, min_size=1, max_size=2)),
    st.builds(m.FusionQuery, fusion=st.sampled_from(list(m.Fusion))),
    st.builds(
        m.RrfQuery, rrf=st.builds(m.Rrf, k=opt() | u32, weights=opt() | st.lists(f32, min_size=1, max_size=3))
    ),
    st.builds(m.SampleQuery, sample=st.sampled_from(list(m.Sample))),
    st.builds(m.FormulaQuery, formula=expressions, defaults=payloads.filter(lambda p: p != {})),
    st.builds(
        m.RelevanceFeedbackQuery,
        relevance_feedback=st.builds(
            m.RelevanceFeedbackInput,
            target=vector_inputs,
            feedback=st.lists(st.builds(m.FeedbackItem, example=vector_inputs, score=f32), max_size=3),
            strategy=st.builds(
                m.NaiveFeedbackStrategy, naive=st.builds(m.NaiveFeedbackStrategyParams, a=f32, b=f32, c=f32)
            ),
        ),
    ),
)
prefetches = st.recursive(
    st.builds(
        m.Prefetch,
        query=opt() | queries,
        using=opt() | name,
        filter=opt() | filters,
        params=opt() | search_params,
        score_threshold=opt() | st.floats(width=32, allow_nan=False),
        limit=opt() | u64,
        lookup_from=opt()
        | st.builds(
            m.LookupLocation, collection=name, vector=opt() | name, shard_key=opt() | st.text(max_size=3)
        ),
    ),
    lambda children: st.builds(
        m.Prefetch,
        prefetch=st.lists(children, min_size=1, max_size=2),
        query=opt() | queries,
        limit=opt() | u64,
    ),
    max_leaves=4,
)
hnsw_diffs = st.builds(
    m.HnswConfigDiff,
    m=opt() | u64,
    ef_construct=opt() | u64,
    full_scan_threshold=opt() | u64,
    max_indexing_threads=opt() | u64,
    on_disk=opt() | st.booleans(),
    memory=opt() | st.sampled_from(list(m.Memory)),
    payload_m=opt() | u64,
    inline_storage=opt() | st.booleans(),
)
memories = st.sampled_from(list(m.Memory))
#: one strategy per quantization variant (the round-trip test asks for each by its class)
quantization_variants = {
    m.TurboQuantization: st.builds(
        m.TurboQuantization,
        turbo=st.builds(
            m.TurboQuantQuantizationConfig,
            always_ram=opt() | st.booleans(),
            memory=opt() | memories,
            bits=opt() | st.sampled_from(list(m.TurboQuantBitSize)),
        ),
    ),
    m.ScalarQuantization: st.builds(
        m.ScalarQuantization,
        scalar=st.builds(
            m.ScalarQuantizationConfig,
            type=st.sampled_from(list(m.ScalarType)),
            quantile=opt() | f32,
            always_ram=opt() | st.booleans(),
            memory=opt() | memories,
        ),
    ),
    m.ProductQuantization: st.builds(
        m.ProductQuantization,
        product=st.builds(
            m.ProductQuantizationConfig,
            compression=st.sampled_from(list(m.CompressionRatio)),
            always_ram=opt() | st.booleans(),
            memory=opt() | memories,
        ),
    ),
    m.BinaryQuantization: st.builds(
        m.BinaryQuantization,
        binary=st.builds(
            m.BinaryQuantizationConfig,
            always_ram=opt() | st.booleans(),
            memory=opt() | memories,
            encoding=opt() | st.sampled_from(list(m.BinaryQuantizationEncoding)),
            query_encoding=opt() | st.sampled_from(list(m.BinaryQuantizationQueryEncoding)),
        ),
    ),
}
quantizations = st.one_of(*quantization_variants.values())

sparse_vector_params = st.builds(
    m.SparseVectorParams,
    index=opt()
    | st.builds(
        m.SparseIndexParams,
        full_scan_threshold=opt() | u64,
        on_disk=opt() | st.booleans(),
        memory=opt() | memories,
        datatype=opt() | st.sampled_from(list(m.Datatype)),
    ),
    modifier=opt() | st.sampled_from(list(m.Modifier)),
)
vector_params = st.builds(
    m.VectorParams,
    size=u64,
    distance=st.sampled_from(list(m.Distance)),
    hnsw_config=opt() | hnsw_diffs,
    quantization_config=opt() | quantizations,
    on_disk=opt() | st.booleans(),
    memory=opt() | memories,
    datatype=opt() | st.sampled_from(list(m.Datatype)),
    multivector_config=opt()
    | st.builds(m.MultiVectorConfig, comparator=st.sampled_from(list(m.MultiVectorComparator))),
)
strict_modes = st.builds(
    m.StrictModeConfig,
    enabled=opt() | st.booleans(),
    max_query_limit=opt() | u32,
    unindexed_filtering_retrieve=opt() | st.booleans(),
    search_max_oversampling=opt() | f32,
    read_rate_limit=opt() | u32,
    multivector_config=opt()
    | st.dictionaries(
        name, st.builds(m.StrictModeMultivector, max_vectors=opt() | u64), min_size=1, max_size=2
    ),
    sparse_config=opt()
    | st.dictionaries(name, st.builds(m.StrictModeSparse, max_length=opt() | u64), min_size=1, max_size=2),
    max_resident_memory_percent=opt() | u32,
)
create_collections = st.builds(
    m.CreateCollection,
    vectors=opt() | vector_params | st.dictionaries(name, vector_params, min_size=1, max_size=2),
    shard_number=opt() | u32,
    replication_factor=opt() | u32,
    write_consistency_factor=opt() | u32,
    on_disk_payload=opt() | st.booleans(),
    hnsw_config=opt() | hnsw_diffs,
    wal_config=opt()
    | st.builds(
        m.WalConfigDiff,
        wal_capacity_mb=opt() | u64,
        wal_segments_ahead=opt() | u64,
        wal_retain_closed=opt() | u64,
    ),
    optimizers_config=opt()
    | st.builds(
        m.OptimizersConfigDiff,
        deleted_threshold=opt() | f64,
        vacuum_min_vector_number=opt() | u64,
        default_segment_number=opt() | u64,
        indexing_threshold=opt() | u64,
        flush_interval_sec=opt() | u64,
        prevent_unoptimized=opt() | st.booleans(),
        max_optimization_threads=opt() | u64 | st.sampled_from(list(m.MaxOptimizationThreadsSetting)),
    ),
    metadata=payloads.filter(lambda p: p != {}),
    quantization_config=opt() | quantizations,
    sparse_vectors=opt() | st.dictionaries(name, sparse_vector_params, min_size=1, max_size=2),
    sharding_method=opt() | st.sampled_from(list(m.ShardingMethod)),
    payload=opt() | st.builds(m.PayloadStorageParams, memory=opt() | memories),
    strict_mode_config=opt() | strict_modes,
)
shard_keys = st.text(max_size=4) | u64
shard_key_selectors = (
    shard_keys
    | st.lists(shard_keys, min_size=2, max_size=3)
    | st.builds(m.ShardKeyWithFallback, target=shard_keys, fallback=shard_keys)
)


# ------------------------------------------------------------------ round trips


@SETTINGS
@given(json_values)
def test_value_round_trip(v) -> None:
    assert round_trip(v, convert.value_to_grpc, convert.value_from_grpc) == v


@SETTINGS
@given(point_ids)
def test_point_id_round_trip(pid) -> None:
    assert round_trip(pid, convert.point_id_to_grpc, convert.point_id_from_grpc) == pid


@SETTINGS
@given(
    st.builds(m.PointStruct, id=point_ids, vector=vector_structs, payload=payloads.filter(lambda p: p != {}))
)
def test_point_struct_round_trip(p) -> None:
    assert round_trip(p, convert.point_struct_to_grpc, convert.point_struct_from_grpc) == p


@SETTINGS
@given(scored_points)
def test_scored_point_round_trip(p) -> None:
    assert round_trip(p, convert.scored_point_to_grpc, convert.scored_point_from_grpc) == p


@SETTINGS
@given(records)
def test_record_round_trip(r) -> None:
    assert round_trip(r, convert.record_to_grpc, convert.record_from_grpc) == r


@SETTINGS
@given(filters)
def test_filter_round_trip(f) -> None:
    assert round_trip(f, convert.filter_to_grpc, convert.filter_from_grpc) == f


@SETTINGS
@given(with_payloads, with_vectors)
def test_selector_round_trips(wp, wv) -> None:
    assert round_trip(wp, convert.with_payload_to_grpc, convert.with_payload_from_grpc) == wp
    assert round_trip(wv, convert.with_vectors_to_grpc, convert.with_vectors_from_grpc) == wv


@SETTINGS
@given(search_params)
def test_search_params_round_trip(p) -> None:
    assert round_trip(p, convert.search_params_to_grpc, convert.search_params_from_grpc) == p


@SETTINGS
@given(queries)
def test_query_round_trip(query) -> None:
    assert round_trip(query, convert.query_to_grpc, convert.query_from_grpc) == query


@SETTINGS
@given(prefetches)
def test_prefetch_round_trip(p) -> None:
    assert round_trip(p, convert.prefetch_to_grpc, convert.prefetch_from_grpc) == p


@SETTINGS
@given(shard_key_selectors)
def test_shard_key_selector_round_trip(sel) -> None:
    assert round_trip(sel, convert.shard_key_selector_to_grpc, convert.shard_key_selector_from_grpc) == sel


@SETTINGS
@given(name, create_collections)
def test_create_collection_round_trip(coll, body) -> None:
    got = round_trip(
        body, lambda b: convert.create_collection_to_grpc(coll, b), convert.create_collection_from_grpc
    )
    assert got == (coll, body)


#: every quantization REST can say in a collection update (a create cannot say Disabled)
QUANTIZATION_VARIANTS = typing.get_args(m.QuantizationConfigDiff)


@pytest.mark.parametrize("variant", QUANTIZATION_VARIANTS, ids=lambda c: c.__name__)
@SETTINGS
@given(data=st.data())
def test_every_quantization_variant_round_trips(variant, data) -> None:
    """REST model -> gRPC -> REST is the identity for each variant, in a create's
    ``QuantizationConfig`` and an update's ``QuantizationConfigDiff``; a variant the spec adds
    without a strategy here (or a row in the converters' table) fails this test."""
    qc = data.draw({**quantization_variants, m.Disabled: st.just(m.Disabled.DISABLED)}[variant])
    diff = round_trip(qc, lambda x: quantization_to_grpc(x, diff=True), quantization_from_grpc)
    assert diff == qc
    if variant is m.Disabled:
        with pytest.raises(UnsupportedOperation, match="quantization Disabled"):
            quantization_to_grpc(qc)
    else:
        assert round_trip(qc, quantization_to_grpc, quantization_from_grpc) == qc


@SETTINGS
@given(st.lists(name, max_size=4))
def test_collections_list_round_trip(names) -> None:
    res = m.CollectionsResponse(collections=[m.CollectionDescription(name=n) for n in names])
    assert round_trip(res, convert.collections_list_to_grpc, convert.collections_list_from_grpc) == res


@SETTINGS
@given(opt() | u64, st.sampled_from(list(m.UpdateStatus)))
def test_update_result_round_trip(op_id, status) -> None:
    r = m.UpdateResult(operation_id=op_id, status=status)
    assert round_trip(r, convert.update_result_to_grpc, convert.update_result_from_grpc) == r


@SETTINGS
@given(st.builds(m.VersionInfo, title=name, version=name, commit=opt() | name))
def test_version_info_round_trip(v) -> None:
    assert round_trip(v, convert.version_info_to_grpc, convert.version_info_from_grpc) == v


# ------------------------------------------------------------------ requests and replies


def test_request_builders_fill_the_grpc_messages() -> None:
    flt = m.Filter(must=[m.FieldCondition(key="city", match=m.MatchValue(value="Berlin"))])
    msg = convert.request_to_grpc(
        "query_points",
        {"collection_name": "c"},
        {"timeout": 5},
        m.QueryRequest(query=m.NearestQuery(nearest=[0.5, 1.5]), filter=flt, limit=3, with_payload=True),
    )
    assert isinstance(msg, q.QueryPoints)
    assert (msg.collection_name, msg.limit, msg.timeout) == ("c", 3, 5)
    assert list(msg.query.nearest.dense.data) == [0.5, 1.5]
    assert convert.filter_from_grpc(wire(msg).filter) == flt

    up = convert.request_to_grpc(
        "upsert_points",
        {"collection_name": "c"},
        {"wait": True, "ordering": m.WriteOrdering.STRONG},
        m.PointsBatch(batch=m.Batch(ids=[1, 2], vectors=[[1.0], [2.0]], payloads=[{"a": 1}, None])),
    )
    assert up.wait is True and up.ordering.type == q.WriteOrderingType.Strong
    assert [convert.point_struct_from_grpc(p) for p in up.points] == [
        m.PointStruct(id=1, vector=[1.0], payload={"a": 1}),
        m.PointStruct(id=2, vector=[2.0]),
    ]

    dele = convert.request_to_grpc(
        "delete_points", {"collection_name": "c"}, {}, m.PointIdsList(points=[1, "x"])
    )
    assert [convert.point_id_from_grpc(i) for i in dele.points.points.ids] == [1, "x"]
    sp = convert.request_to_grpc(
        "overwrite_payload", {"collection_name": "c"}, {}, m.SetPayload(payload={"k": [1, None]}, points=[3])
    )
    assert convert.payload_from_grpc(sp.payload) == {"k": [1, None]}
    cnt = convert.request_to_grpc("count_points", {"collection_name": "c"}, {}, m.CountRequest(exact=True))
    assert cnt.exact is True and cnt.filter is None
    assert isinstance(convert.request_to_grpc("get_collections", {}, {}, None), q.ListCollectionsRequest)


def test_replies_become_rest_results() -> None:
    assert convert.result_from_grpc(
        "count_points", wire(q.CountResponse(result=q.CountResult(count=7)))
    ) == m.CountResult(count=7)
    assert convert.result_from_grpc(
        "collection_exists", wire(q.CollectionExistsResponse(result=q.CollectionExists(exists=True)))
    ) == m.CollectionExistence(exists=True)
    assert (
        convert.result_from_grpc("delete_collection", wire(q.CollectionOperationResponse(result=True)))
        is True
    )
    info = q.GetCollectionInfoResponse(
        result=q.CollectionInfo(
            status=q.CollectionStatus.Green,
            optimizer_status=q.OptimizerStatus(ok=True),
            segments_count=2,
            points_count=10,
            config=q.CollectionConfig(
                params=q.CollectionParams(
                    vectors_config=q.VectorsConfig(params=q.VectorParams(size=4, distance=q.Distance.Cosine))
                )
            ),
        )
    )
    got = convert.result_from_grpc("get_collection", wire(info))
    assert got.status == m.CollectionStatus.GREEN and got.points_count == 10
    assert got.config.params.vectors == m.VectorParams(size=4, distance=m.Distance.COSINE)


def test_unsupported_shapes_raise_unsupported_operation() -> None:
    with pytest.raises(UnsupportedOperation, match="REST"):
        convert.request_to_grpc("telemetry", {}, {}, None)
    with pytest.raises(UnsupportedOperation, match="wait"):  # a gRPC snapshot call always waits
        convert.request_to_grpc("create_full_snapshot", {}, {"wait": False}, None)
    # the server side: what REST cannot say is refused, not dropped
    batch = q.QueryBatchPoints(
        collection_name="c",
        query_points=[q.QueryPoints(collection_name="c", read_consistency=q.ReadConsistency(factor=2))],
    )
    with pytest.raises(UnsupportedOperation, match="inside a query batch"):
        convert.request_from_grpc("query_batch_points", wire(batch))
