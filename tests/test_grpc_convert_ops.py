"""convert.py, operation by operation: the client's ``request_to_grpc`` and the dev server's
``request_from_grpc`` are inverses through the wire (``(path_params, query, body)`` comes back
as it went out), and so are the server's ``result_to_grpc`` and the client's
``result_from_grpc`` for the REST result - for generated instances of every operation covered
beyond the points/collections basics (vectors, batch updates, payload indexes, aliases,
collection updates, query batch/groups, facet, distance matrices, snapshots)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_grpc_convert import (
    SETTINGS,
    f32,
    filters,
    hnsw_diffs,
    inference_objects,
    memories,
    name,
    opt,
    payloads,
    point_ids,
    prefetches,
    quantizations,
    queries,
    search_params,
    shard_key_selectors,
    sparse_vector_params,
    strict_modes,
    u32,
    u64,
    wire,
    with_payloads,
    with_vectors,
)
from test_grpc_fast import records, scored_points, vector_structs

from aqdrant import models as m
from aqdrant.errors import UnsupportedOperation
from aqdrant.grpc import convert
from aqdrant.grpc._proto import qdrant as q
from aqdrant.grpc.convert._common import betterproto_which

COLL = {"collection_name": "c"}
write_queries = st.fixed_dictionaries(
    {}, optional={"wait": st.booleans(), "timeout": u32, "ordering": st.sampled_from(list(m.WriteOrdering))}
)
read_queries = st.fixed_dictionaries(
    {},
    optional={
        "timeout": u32,
        "consistency": st.integers(1, 5) | st.sampled_from(list(m.ReadConsistencyType)),
    },
)
timeout_queries = st.fixed_dictionaries({}, optional={"timeout": u32})


def request_round_trip(op: str, path: dict, query: dict, body) -> None:
    msg = convert.request_to_grpc(op, path, query, body)
    assert convert.request_from_grpc(op, wire(msg)) == (path, query, body)


def reply_round_trip(op: str, result) -> None:
    assert convert.result_from_grpc(op, wire(convert.result_to_grpc(op, result))) == result


# ------------------------------------------------------------------ strategies

selector_fields = st.one_of(
    st.fixed_dictionaries({"points": st.lists(point_ids, max_size=3)}),
    st.fixed_dictionaries({"filter": filters}),
)
point_vectors = st.builds(m.PointVectors, id=point_ids, vector=vector_structs)
update_vectors = st.builds(
    m.UpdateVectors,
    points=st.lists(point_vectors, max_size=3),
    shard_key=opt() | shard_key_selectors,
    update_filter=opt() | filters,
)
delete_vectors = st.builds(
    lambda sel, **kw: m.DeleteVectors(**sel, **kw),
    selector_fields,
    vector=st.lists(name, max_size=3),
    shard_key=opt() | shard_key_selectors,
)
points_selectors = st.builds(
    m.PointIdsList, points=st.lists(point_ids, max_size=3), shard_key=opt() | shard_key_selectors
) | st.builds(m.FilterSelector, filter=filters, shard_key=opt() | shard_key_selectors)
set_payloads = st.builds(
    lambda sel, **kw: m.SetPayload(**sel, **kw),
    selector_fields,
    payload=payloads.map(lambda p: p or {}),
    shard_key=opt() | shard_key_selectors,
    key=opt() | name,
)
update_operations = st.one_of(
    st.builds(
        m.UpsertOperation,
        upsert=st.builds(
            m.PointsList,
            points=st.lists(
                st.builds(
                    m.PointStruct,
                    id=point_ids,
                    vector=vector_structs,
                    payload=payloads.filter(lambda p: p != {}),
                ),
                max_size=2,
            ),
            shard_key=opt() | shard_key_selectors,
            update_filter=opt() | filters,
            update_mode=opt() | st.sampled_from(list(m.UpdateMode)),
        ),
    ),
    st.builds(m.DeleteOperation, delete=points_selectors),
    st.builds(m.ClearPayloadOperation, clear_payload=points_selectors),
    st.builds(m.SetPayloadOperation, set_payload=set_payloads),
    st.builds(m.OverwritePayloadOperation, overwrite_payload=set_payloads),
    st.builds(
        m.DeletePayloadOperation,
        delete_payload=st.builds(
            lambda sel, **kw: m.DeletePayload(**sel, **kw),
            selector_fields,
            keys=st.lists(name, max_size=3),
            shard_key=opt() | shard_key_selectors,
        ),
    ),
    st.builds(m.UpdateVectorsOperation, update_vectors=update_vectors),
    st.builds(m.DeleteVectorsOperation, delete_vectors=delete_vectors),
)

_flags = {"on_disk": opt() | st.booleans(), "memory": opt() | memories, "enable_hnsw": opt() | st.booleans()}
text_index = st.builds(
    m.TextIndexParams,
    type=st.just(m.TextIndexType.TEXT),
    tokenizer=opt() | st.sampled_from(list(m.TokenizerType)),
    min_token_len=opt() | u64,
    max_token_len=opt() | u64,
    lowercase=opt() | st.booleans(),
    ascii_folding=opt() | st.booleans(),
    phrase_matching=opt() | st.booleans(),
    # a set with exactly one language and nothing else reads back as that language (same meaning)
    stopwords=opt()
    | st.sampled_from(list(m.Language))
    | st.builds(
        m.StopwordsSet,
        languages=opt() | st.lists(st.sampled_from(list(m.Language)), min_size=2, max_size=3),
        custom=st.lists(name, min_size=1, max_size=2),
    ),
    stemmer=opt()
    | st.builds(
        m.SnowballParams,
        type=st.just(m.Snowball.SNOWBALL),
        language=st.sampled_from(list(m.SnowballLanguage)),
    )
    | st.just(m.DisabledStemmerParams(type=next(iter(m.NoStemmer)))),
    **_flags,
)
field_schemas = st.one_of(
    st.sampled_from(list(m.PayloadSchemaType)),
    st.builds(
        m.KeywordIndexParams,
        type=st.just(m.KeywordIndexType.KEYWORD),
        is_tenant=opt() | st.booleans(),
        prefix=opt() | st.just(True),  # false is the default: gRPC has no way to say it
        **_flags,
    ),
    st.builds(
        m.IntegerIndexParams,
        type=st.just(m.IntegerIndexType.INTEGER),
        lookup=opt() | st.booleans(),
        range=opt() | st.booleans(),
        is_principal=opt() | st.booleans(),
        **_flags,
    ),
    st.builds(
        m.FloatIndexParams, type=st.just(m.FloatIndexType.FLOAT), is_principal=opt() | st.booleans(), **_flags
    ),
    st.builds(m.GeoIndexParams, type=st.just(m.GeoIndexType.GEO), **_flags),
    st.builds(m.BoolIndexParams, type=st.just(m.BoolIndexType.BOOL), **_flags),
    st.builds(
        m.DatetimeIndexParams,
        type=st.just(m.DatetimeIndexType.DATETIME),
        is_principal=opt() | st.booleans(),
        **_flags,
    ),
    st.builds(
        m.UuidIndexParams, type=st.just(m.UuidIndexType.UUID), is_tenant=opt() | st.booleans(), **_flags
    ),
    text_index,
)
alias_ops = st.one_of(
    st.builds(
        m.CreateAliasOperation, create_alias=st.builds(m.CreateAlias, collection_name=name, alias_name=name)
    ),
    st.builds(
        m.RenameAliasOperation,
        rename_alias=st.builds(m.RenameAlias, old_alias_name=name, new_alias_name=name),
    ),
    st.builds(m.DeleteAliasOperation, delete_alias=st.builds(m.DeleteAlias, alias_name=name)),
)
vector_diffs = st.builds(
    m.VectorParamsDiff,
    hnsw_config=opt() | hnsw_diffs,
    quantization_config=opt() | quantizations | st.just(m.Disabled.DISABLED),
    on_disk=opt() | st.booleans(),
    memory=opt() | memories,
)
update_collections = st.builds(
    m.UpdateCollection,
    vectors=opt() | st.dictionaries(name, vector_diffs, min_size=1, max_size=2),
    optimizers_config=opt()
    | st.builds(
        m.OptimizersConfigDiff,
        deleted_threshold=opt() | st.floats(allow_nan=False),
        indexing_threshold=opt() | u64,
        max_optimization_threads=opt() | u64 | st.sampled_from(list(m.MaxOptimizationThreadsSetting)),
    ),
    params=opt()
    | st.builds(
        m.CollectionParamsDiff,
        replication_factor=opt() | u32,
        write_consistency_factor=opt() | u32,
        read_fan_out_factor=opt() | u32,
        on_disk_payload=opt() | st.booleans(),
        payload=opt() | st.builds(m.PayloadStorageParams, memory=opt() | memories),
    ),
    hnsw_config=opt() | hnsw_diffs,
    strict_mode_config=opt() | strict_modes,
    quantization_config=opt() | quantizations | st.just(m.Disabled.DISABLED),
    sparse_vectors=opt() | st.dictionaries(name, sparse_vector_params, min_size=1, max_size=2),
    metadata=payloads.filter(lambda p: p != {}),
)
lookups = st.builds(
    m.LookupLocation, collection=name, vector=opt() | name, shard_key=opt() | shard_key_selectors
)
query_requests = st.builds(
    m.QueryRequest,
    prefetch=opt() | st.lists(prefetches, min_size=1, max_size=2),
    query=opt() | queries,
    using=opt() | name,
    filter=opt() | filters,
    params=opt() | search_params,
    score_threshold=opt() | f32,
    limit=opt() | u64,
    offset=opt() | u64,
    with_vector=opt() | with_vectors,
    with_payload=opt() | with_payloads,
    lookup_from=opt() | lookups,
    shard_key=opt() | shard_key_selectors,
)
group_requests = st.builds(
    m.QueryGroupsRequest,
    prefetch=opt() | st.lists(prefetches, min_size=1, max_size=2),
    query=opt() | queries,
    using=opt() | name,
    filter=opt() | filters,
    params=opt() | search_params,
    score_threshold=opt() | f32,
    with_vector=opt() | with_vectors,
    with_payload=opt() | with_payloads,
    lookup_from=opt() | lookups,
    group_by=name,
    group_size=opt() | u64,
    limit=opt() | u64,
    # a WithLookup with neither selector reads back as REST's short form (the collection name)
    with_lookup=opt()
    | name
    | st.builds(m.WithLookup, collection=name, with_payload=with_payloads, with_vectors=opt() | with_vectors),
    shard_key=opt() | shard_key_selectors,
)
matrix_requests = st.builds(
    m.SearchMatrixRequest,
    filter=opt() | filters,
    sample=opt() | u64,
    limit=opt() | u64,
    using=opt() | name,
    shard_key=opt() | shard_key_selectors,
)
snapshots = st.builds(
    m.SnapshotDescription,
    name=name,
    creation_time=opt()
    | st.datetimes(datetime.datetime(1970, 1, 1), datetime.datetime(9999, 1, 1)).map(
        lambda d: d.replace(microsecond=0).isoformat()
    ),
    size=st.integers(0, 2**63 - 1),
    checksum=opt() | name,
)
update_results = st.builds(
    m.UpdateResult, operation_id=opt() | u64, status=st.sampled_from(list(m.UpdateStatus))
)
i64 = st.integers(-(2**63), 2**63 - 1)


# ------------------------------------------------------------------ requests


@SETTINGS
@given(
    st.builds(
        m.PointsList,
        points=st.lists(
            st.builds(
                m.PointStruct,
                id=point_ids,
                vector=vector_structs
                | inference_objects
                | st.dictionaries(name, inference_objects, max_size=2),
                payload=payloads.filter(lambda p: p != {}),
            ),
            max_size=3,
        ),
        shard_key=opt() | shard_key_selectors,
        update_filter=opt() | filters,
        update_mode=opt() | st.sampled_from(list(m.UpdateMode)),
    ),
    write_queries,
)
def test_upsert_request_with_update_mode_and_inference_objects(body, query) -> None:
    request_round_trip("upsert_points", COLL, query, body)


@SETTINGS
@given(update_vectors, write_queries)
def test_update_vectors_request(body, query) -> None:
    request_round_trip("update_vectors", COLL, query, body)


@SETTINGS
@given(delete_vectors, write_queries)
def test_delete_vectors_request(body, query) -> None:
    request_round_trip("delete_vectors", COLL, query, body)


@SETTINGS
@given(st.lists(update_operations, max_size=4), write_queries)
def test_batch_update_request(ops, query) -> None:
    request_round_trip("batch_update", COLL, query, m.UpdateOperations(operations=ops))


@SETTINGS
@given(name, field_schemas, write_queries)
def test_create_field_index_request(field, schema, query) -> None:
    request_round_trip(
        "create_field_index", COLL, query, m.CreateFieldIndex(field_name=field, field_schema=schema)
    )


@SETTINGS
@given(name, write_queries)
def test_delete_field_index_request(field, query) -> None:
    request_round_trip("delete_field_index", {**COLL, "field_name": field}, query, None)


@SETTINGS
@given(st.lists(alias_ops, max_size=4), timeout_queries)
def test_aliases_requests(actions, query) -> None:
    request_round_trip("update_aliases", {}, query, m.ChangeAliasesOperation(actions=actions))
    request_round_trip("get_collections_aliases", {}, {}, None)
    request_round_trip("get_collection_aliases", COLL, {}, None)


@SETTINGS
@given(update_collections, timeout_queries)
def test_update_collection_request(body, query) -> None:
    request_round_trip("update_collection", COLL, query, body)


@SETTINGS
@given(query_requests, read_queries)
def test_query_request_with_lookup_from(body, query) -> None:
    request_round_trip("query_points", COLL, query, body)


@SETTINGS
@given(st.lists(query_requests, max_size=3), read_queries)
def test_query_batch_request(searches, query) -> None:
    request_round_trip("query_batch_points", COLL, query, m.QueryRequestBatch(searches=searches))


@SETTINGS
@given(group_requests, read_queries)
def test_query_groups_request(body, query) -> None:
    request_round_trip("query_points_groups", COLL, query, body)


@SETTINGS
@given(
    st.builds(
        m.FacetRequest,
        key=name,
        limit=opt() | u64,
        filter=opt() | filters,
        exact=opt() | st.booleans(),
        shard_key=opt() | shard_key_selectors,
    ),
    read_queries,
)
def test_facet_request(body, query) -> None:
    request_round_trip("facet", COLL, query, body)


@SETTINGS
@given(matrix_requests, read_queries)
def test_search_matrix_requests(body, query) -> None:
    request_round_trip("search_matrix_pairs", COLL, query, body)
    request_round_trip("search_matrix_offsets", COLL, query, body)


@SETTINGS
@given(name)
def test_snapshot_requests(snapshot) -> None:
    wait = {"wait": True}  # a gRPC snapshot call always waits
    request_round_trip("list_snapshots", COLL, {}, None)
    request_round_trip("create_snapshot", COLL, wait, None)
    request_round_trip("delete_snapshot", {**COLL, "snapshot_name": snapshot}, wait, None)
    request_round_trip("list_full_snapshots", {}, {}, None)
    request_round_trip("create_full_snapshot", {}, wait, None)
    request_round_trip("delete_full_snapshot", {"snapshot_name": snapshot}, wait, None)


def test_snapshot_without_wait_stays_on_rest() -> None:
    with pytest.raises(UnsupportedOperation, match="wait"):
        convert.request_to_grpc("create_snapshot", COLL, {"wait": False}, None)


# ------------------------------------------------------------------ replies


@SETTINGS
@given(update_results)
def test_update_replies(result) -> None:
    for op in ("update_vectors", "delete_vectors", "create_field_index", "delete_field_index"):
        reply_round_trip(op, result)


@SETTINGS
@given(st.lists(update_results, max_size=4), st.booleans())
def test_batch_update_and_collection_op_replies(results, ok) -> None:
    reply_round_trip("batch_update", results)
    reply_round_trip("update_aliases", ok)
    reply_round_trip("update_collection", ok)


@SETTINGS
@given(st.lists(st.builds(m.AliasDescription, alias_name=name, collection_name=name), max_size=3))
def test_aliases_replies(aliases) -> None:
    res = m.CollectionsAliasesResponse(aliases=aliases)
    reply_round_trip("get_collections_aliases", res)
    reply_round_trip("get_collection_aliases", res)


@SETTINGS
@given(st.lists(st.lists(scored_points, max_size=3).map(lambda ps: m.QueryResponse(points=ps)), max_size=3))
def test_query_batch_reply(responses) -> None:
    reply_round_trip("query_batch_points", responses)


@SETTINGS
@given(
    st.lists(
        st.builds(
            m.PointGroup,
            id=st.text(max_size=4) | i64,
            hits=st.lists(scored_points, max_size=3),
            lookup=opt() | records,
        ),
        max_size=3,
    )
)
def test_query_groups_reply(groups) -> None:
    reply_round_trip("query_points_groups", m.GroupsResult(groups=groups))


@SETTINGS
@given(
    st.lists(
        st.builds(m.FacetValueHit, value=st.text(max_size=4) | i64 | st.booleans(), count=u64), max_size=4
    )
)
def test_facet_reply(hits) -> None:
    reply_round_trip("facet", m.FacetResponse(hits=hits))


@SETTINGS
@given(
    st.lists(st.builds(m.SearchMatrixPair, a=point_ids, b=point_ids, score=f32), max_size=4),
    st.lists(point_ids, max_size=4),
    st.data(),
)
def test_search_matrix_replies(pairs, ids, data) -> None:
    reply_round_trip("search_matrix_pairs", m.SearchMatrixPairsResponse(pairs=pairs))
    n = data.draw(st.integers(0, 5))
    offsets = m.SearchMatrixOffsetsResponse(
        offsets_row=data.draw(st.lists(u64, min_size=n, max_size=n)),
        offsets_col=data.draw(st.lists(u64, min_size=n, max_size=n)),
        scores=data.draw(st.lists(f32, min_size=n, max_size=n)),
        ids=ids,
    )
    reply_round_trip("search_matrix_offsets", offsets)


@SETTINGS
@given(st.lists(snapshots, max_size=3), snapshots)
def test_snapshot_replies(listed, one) -> None:
    reply_round_trip("list_snapshots", listed)
    reply_round_trip("list_full_snapshots", listed)
    reply_round_trip("create_snapshot", one)
    reply_round_trip("create_full_snapshot", one)
    reply_round_trip("delete_snapshot", True)
    reply_round_trip("delete_full_snapshot", True)


@SETTINGS
@given(
    st.dictionaries(
        name,
        st.builds(
            m.PayloadIndexInfo,
            data_type=st.sampled_from(list(m.PayloadSchemaType)),
            params=opt() | field_schemas.filter(lambda s: not isinstance(s, m.PayloadSchemaType)),
            points=u64,
        ),
        max_size=3,
    ),
    opt() | quantizations,
    opt() | st.dictionaries(name, sparse_vector_params, min_size=1, max_size=2),
)
def test_collection_info_carries_payload_schema_quantization_and_sparse_vectors(
    schema, quant, sparse
) -> None:
    info = m.CollectionInfo(
        status=m.CollectionStatus.GREEN,
        optimizer_status=m.OptimizersStatusOneOf.OK,
        segments_count=1,
        points_count=3,
        indexed_vectors_count=0,
        config=m.CollectionConfig(
            params=m.CollectionParams(
                vectors=m.VectorParams(size=4, distance=m.Distance.DOT), shard_number=1, sparse_vectors=sparse
            ),
            hnsw_config=m.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10),
            optimizer_config=m.OptimizersConfig(default_segment_number=0, flush_interval_sec=5),
            quantization_config=quant,
        ),
        payload_schema=schema,
    )
    got = convert.result_from_grpc("get_collection", wire(convert.result_to_grpc("get_collection", info)))
    assert got.payload_schema == schema
    assert got.config.quantization_config == quant
    assert got.config.params.sparse_vectors == sparse
    assert isinstance(convert.result_to_grpc("get_collection", info), q.GetCollectionInfoResponse)


shard_key_values = st.text(max_size=4) | u64


@SETTINGS
@given(
    st.builds(
        m.CreateShardingKey,
        shard_key=shard_key_values,
        shards_number=opt() | u32,
        replication_factor=opt() | u32,
        placement=opt() | st.lists(u64, min_size=1, max_size=3),
        initial_state=opt() | st.sampled_from(list(m.ReplicaState)),
    ),
    shard_key_values,
    timeout_queries,
    st.lists(shard_key_values, max_size=3),
)
def test_shard_key_requests_and_replies(create, drop, query, listed) -> None:
    request_round_trip("create_shard_key", COLL, query, create)
    request_round_trip("delete_shard_key", COLL, query, m.DropShardingKey(shard_key=drop))
    request_round_trip("list_shard_keys", COLL, {}, None)
    reply_round_trip("create_shard_key", True)
    reply_round_trip("delete_shard_key", False)
    reply_round_trip(
        "list_shard_keys", m.ShardKeysResponse(shard_keys=[m.ShardKeyDescription(key=k) for k in listed])
    )


def test_every_operation_with_a_grpc_counterpart_is_converted() -> None:
    """The dispatchers know every operation with a gRPC counterpart: a request builder given no
    body fails on the body (or builds the message), never as an unknown operation."""
    from aqdrant._operations import OPERATIONS

    with_grpc = sorted(name for name, op in OPERATIONS.items() if op.grpc)
    assert len(with_grpc) == 43
    for op in with_grpc:
        path = {"collection_name": "c", "field_name": "f", "snapshot_name": "s", "vector_name": "v"}
        try:
            convert.request_to_grpc(op, path, {"wait": True}, None)
        except UnsupportedOperation as e:
            assert f"operation {op}" not in str(e), op
        except (AttributeError, TypeError):  # the builder reached the (missing) body
            pass


@SETTINGS
@given(
    st.builds(
        m.CollectionClusterInfo,
        peer_id=u64,
        shard_count=u64,
        local_shards=st.lists(
            st.builds(
                m.LocalShardInfo,
                shard_id=u32,
                shard_key=opt() | shard_key_values,
                points_count=u64,
                state=st.sampled_from(list(m.ReplicaState)),
            ),
            max_size=2,
        ),
        remote_shards=st.lists(
            st.builds(
                m.RemoteShardInfo,
                shard_id=u32,
                shard_key=opt() | shard_key_values,
                peer_id=u64,
                state=st.sampled_from(list(m.ReplicaState)),
            ),
            max_size=2,
        ),
        # a transfer's method and comment have no field in the gRPC message
        shard_transfers=st.lists(
            st.builds(
                m.ShardTransferInfo,
                shard_id=u32,
                to_shard_id=opt() | u32,
                from_=u64,
                to=u64,
                sync=st.booleans(),
                method=st.none(),
                comment=st.none(),
            ),
            max_size=2,
        ),
        resharding_operations=opt()
        | st.lists(
            st.builds(
                m.ReshardingInfo,
                direction=st.sampled_from(list(m.ReshardingDirection)),
                shard_id=u32,
                peer_id=u64,
                shard_key=opt() | shard_key_values,
            ),
            min_size=1,
            max_size=2,
        ),
    ),
    timeout_queries,
    st.one_of(
        *(
            st.builds(
                lambda t, cls=cls, f=f: cls(**{f: t}),
                st.builds(
                    inner,
                    shard_id=u32,
                    from_peer_id=u64,
                    to_peer_id=u64,
                    **(
                        {"method": st.sampled_from(list(m.ShardTransferMethod))}
                        if inner is m.RestartTransfer
                        else {}
                    ),
                    **(
                        {"method": opt() | st.sampled_from(list(m.ShardTransferMethod))}
                        if inner in (m.MoveShard, m.ReplicateShard)
                        else {}
                    ),
                ),
            )
            for cls, f, inner in (
                (m.MoveShardOperation, "move_shard", m.MoveShard),
                (m.ReplicateShardOperation, "replicate_shard", m.ReplicateShard),
                (m.AbortTransferOperation, "abort_transfer", m.AbortShardTransfer),
                (m.RestartTransferOperation, "restart_transfer", m.RestartTransfer),
            )
        ),
        st.builds(m.DropReplicaOperation, drop_replica=st.builds(m.Replica, shard_id=u32, peer_id=u64)),
        st.builds(
            m.CreateShardingKeyOperation,
            create_sharding_key=st.builds(
                m.CreateShardingKey,
                shard_key=shard_key_values,
                shards_number=opt() | u32,
                placement=opt() | st.lists(u64, min_size=1, max_size=2),
            ),
        ),
        st.builds(
            m.DropShardingKeyOperation,
            drop_sharding_key=st.builds(m.DropShardingKey, shard_key=shard_key_values),
        ),
        st.builds(
            m.ReplicatePointsOperation,
            replicate_points=st.builds(
                m.ReplicatePoints,
                filter=opt() | filters,
                from_shard_key=shard_key_values,
                to_shard_key=shard_key_values,
            ),
        ),
    ),
)
def test_cluster_requests_and_replies(info, query, operation) -> None:
    reply_round_trip("collection_cluster_info", info)
    request_round_trip("collection_cluster_info", COLL, {}, None)
    request_round_trip("update_collection_cluster", COLL, query, operation)
    reply_round_trip("update_collection_cluster", True)


def test_resharding_stays_on_rest() -> None:
    with pytest.raises(UnsupportedOperation, match="StartReshardingOperation"):
        convert.request_to_grpc(
            "update_collection_cluster",
            COLL,
            {},
            m.StartReshardingOperation(
                start_resharding=m.StartResharding(direction=m.ReshardingDirection.UP)
            ),
        )


def test_rest_payloads_give_empty_maps_where_rest_does() -> None:
    """An empty payload is absent on gRPC's wire; where the request asked for payloads, REST's
    ``{}`` is restored (what GrpcBackend applies to replies)."""

    def hit(i, payload=None):
        return m.ScoredPoint(id=i, version=0, score=1.0, payload=payload)

    batch = m.QueryRequestBatch(
        searches=[m.QueryRequest(with_payload=True), m.QueryRequest(), m.QueryRequest(with_payload=["a"])]
    )
    got = convert.rest_payloads(
        "query_batch_points", batch, [m.QueryResponse(points=[hit(1), hit(2, {"a": 1})]) for _ in range(3)]
    )
    assert [[p.payload for p in r.points] for r in got] == [[{}, {"a": 1}], [None, {"a": 1}], [{}, {"a": 1}]]

    groups = m.GroupsResult(
        groups=[
            m.PointGroup(id="g", hits=[hit(1)], lookup=m.Record(id="00000000-0000-0000-0000-000000000000"))
        ]
    )
    req = m.QueryGroupsRequest(group_by="g", with_lookup="other")
    convert.rest_payloads("query_points_groups", req, groups)
    assert groups.groups[0].hits[0].payload is None and groups.groups[0].lookup.payload == {}
    req = m.QueryGroupsRequest(
        group_by="g", with_payload=True, with_lookup=m.WithLookup(collection="o", with_payload=False)
    )
    groups.groups[0].lookup.payload = None
    convert.rest_payloads("query_points_groups", req, groups)
    assert groups.groups[0].hits[0].payload == {} and groups.groups[0].lookup.payload is None

    assert convert.rest_payloads("get_points", m.PointRequest(ids=[1]), [m.Record(id=1)])[0].payload == {}
    scrolled = convert.rest_payloads(
        "scroll_points", m.ScrollRequest(with_payload=False), m.ScrollResult(points=[m.Record(id=1)])
    )
    assert scrolled.points[0].payload is None
    queried = convert.rest_payloads("query_points", m.QueryRequest(), m.QueryResponse(points=[hit(1)]))
    assert queried.points[0].payload is None
    assert convert.rest_payloads("count_points", None, m.CountResult(count=1)) == m.CountResult(count=1)


@SETTINGS
@given(
    st.builds(
        m.CountRequest,
        filter=opt() | filters,
        exact=opt() | st.booleans(),
        shard_key=opt() | shard_key_selectors,
    ),
    st.builds(
        m.ScrollRequest,
        filter=opt() | filters,
        offset=opt() | point_ids,
        limit=opt() | u32,  # above: REST (test below)
        with_payload=opt() | with_payloads,
        with_vector=opt() | with_vectors,
        shard_key=opt() | shard_key_selectors,
    ),
    st.builds(
        m.PointRequest,
        ids=st.lists(point_ids, max_size=3),
        with_payload=opt() | with_payloads,
        with_vector=opt() | with_vectors,
        shard_key=opt() | shard_key_selectors,
    ),
    read_queries,
)
def test_reads_carry_read_consistency(count, scroll, get, query) -> None:
    request_round_trip("count_points", COLL, query, count)
    request_round_trip("scroll_points", COLL, query, scroll)
    request_round_trip("get_points", COLL, query, get)


def test_a_scroll_limit_beyond_uint32_stays_on_rest() -> None:
    with pytest.raises(UnsupportedOperation, match="scroll limit"):
        convert.request_to_grpc("scroll_points", COLL, {}, m.ScrollRequest(limit=2**32))


def test_a_datetime_python_cannot_read_stays_on_rest() -> None:
    odd = m.Filter(must=[m.FieldCondition(key="t", range=m.DatetimeRange(gt="2024-13-45 nonsense"))])
    with pytest.raises(UnsupportedOperation, match="datetime"):
        convert.request_to_grpc("count_points", COLL, {}, m.CountRequest(filter=odd))
    ok = m.Filter(
        must=[m.FieldCondition(key="t", range=m.DatetimeRange(gt="2024-01-02T03:04:05Z", lt="2024-01-03"))]
    )
    msg = convert.request_to_grpc("count_points", COLL, {}, m.CountRequest(filter=ok))
    got = convert.request_from_grpc("count_points", wire(msg))[2].filter.must[0].range
    assert (got.gt, got.lt) == ("2024-01-02T03:04:05+00:00", "2024-01-03T00:00:00+00:00")


@pytest.mark.parametrize(
    ("start_from", "sent", "read_back"),
    [
        # a datetime (zone-less is UTC) or a string Python reads: a Timestamp, as Qdrant's own client sends
        (datetime.datetime(2024, 1, 5, 6, 7, 8), "timestamp", "2024-01-05T06:07:08+00:00"),
        (
            datetime.datetime(2024, 1, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            "timestamp",
            "2024-01-04T22:00:00+00:00",
        ),
        ("2024-01-05T00:00:00Z", "timestamp", "2024-01-05T00:00:00+00:00"),
        # a form only the server reads: the datetime string, parsed there
        ("2024-01-05 nonsense", "datetime", "2024-01-05 nonsense"),
    ],
)
def test_scroll_start_from_a_datetime_goes_as_a_timestamp(start_from, sent, read_back) -> None:
    body = m.ScrollRequest(order_by=m.OrderBy(key="ts", start_from=start_from))
    msg = wire(convert.request_to_grpc("scroll_points", COLL, {}, body))
    assert betterproto_which(msg.order_by.start_from, "value") == sent
    assert convert.request_from_grpc("scroll_points", msg)[2].order_by.start_from == read_back


@pytest.mark.parametrize(
    "body",
    [
        m.DenseVectorNameConfig(
            dense=m.DenseVectorConfig(
                size=4,
                distance=m.Distance.EUCLID,
                multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
                datatype=m.VectorStorageDatatype.FLOAT16,
            )
        ),
        m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=1, distance=m.Distance.DOT)),
        m.SparseVectorNameConfig(
            sparse=m.SparseVectorConfig(modifier=m.Modifier.IDF, datatype=m.VectorStorageDatatype.UINT8)
        ),
        m.SparseVectorNameConfig(sparse=m.SparseVectorConfig()),
    ],
)
def test_vector_name_requests_round_trip(body) -> None:
    path = {"collection_name": "c", "vector_name": "v"}
    query = {"wait": True, "ordering": m.WriteOrdering.STRONG, "timeout": 5}
    for op, sent in (("create_vector_name", body), ("delete_vector_name", None)):
        msg = convert.request_to_grpc(op, path, query, sent)
        assert msg.collection_name == "c" and msg.vector_name == "v" and msg.wait is True
        assert convert.request_from_grpc(op, type(msg).parse(bytes(msg))) == (path, query, sent)
