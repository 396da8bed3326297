"""Cluster: shard keys, cluster info and cluster setup operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import models as m
from .._proto import qdrant as q
from ._common import (
    Mirror,
    _coll,
    _enum_from_grpc,
    _enum_to_grpc,
    _opt_enum_from_grpc,
    _opt_enum_to_grpc,
    _unsupported,
    betterproto_which,
    enum_pair,
)
from .filters import filter_from_grpc, filter_to_grpc
from .values import _opt_shard_key_from_grpc, _opt_shard_key_to_grpc, shard_key_from_grpc, shard_key_to_grpc


def _create_shard_key_to_grpc(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    return q.CreateShardKeyRequest(
        collection_name=_coll(path),
        request=q.CreateShardKey(
            shard_key=shard_key_to_grpc(body.shard_key),
            shards_number=body.shards_number,
            replication_factor=body.replication_factor,
            placement=list(body.placement or []),
            initial_state=_enum_to_grpc(body.initial_state, q.ReplicaState)
            if body.initial_state is not None
            else None,
        ),
        timeout=query.get("timeout"),
    )


def _create_shard_key_from_grpc(msg: q.CreateShardKeyRequest) -> tuple[dict[str, Any], Any]:
    r = msg.request or q.CreateShardKey()
    return {}, m.CreateShardingKey(
        shard_key=shard_key_from_grpc(r.shard_key),
        shards_number=r.shards_number,
        replication_factor=r.replication_factor,
        placement=list(r.placement) or None,
        initial_state=_enum_from_grpc(r.initial_state, m.ReplicaState)
        if r.initial_state is not None
        else None,
    )


_SHARD_KEY = (_opt_shard_key_to_grpc, _opt_shard_key_from_grpc)
_REPLICA_STATE = enum_pair(q.ReplicaState, m.ReplicaState)
_SHARD = {"state": _REPLICA_STATE, "shard_key": _SHARD_KEY}
_CLUSTER_INFO = Mirror(
    m.CollectionClusterInfo,
    q.CollectionClusterInfoResponse,
    {
        "local_shards": Mirror(m.LocalShardInfo, q.LocalShardInfo, _SHARD).many(),
        "remote_shards": Mirror(m.RemoteShardInfo, q.RemoteShardInfo, _SHARD).many(),
        # a transfer's method and comment have no field in the message: they read back as None
        "shard_transfers": Mirror(m.ShardTransferInfo, q.ShardTransferInfo, dropped=("method", "comment")).many(),
        "resharding_operations": Mirror(
            m.ReshardingInfo,
            q.ReshardingInfo,
            {"shard_key": _SHARD_KEY, "direction": enum_pair(q.ReshardingDirection, m.ReshardingDirection)},
        ).many(optional=True),
    },
)


def cluster_info_to_grpc(c: m.CollectionClusterInfo, elapsed: float = 0.0) -> q.CollectionClusterInfoResponse:
    return _CLUSTER_INFO.to_grpc(c, time=elapsed)


def cluster_info_from_grpc(r: q.CollectionClusterInfoResponse) -> m.CollectionClusterInfo:
    return _CLUSTER_INFO.from_grpc(r)


def _transfer_to_grpc(t: Any, cls: type) -> Any:
    """MoveShard / ReplicateShard / AbortShardTransfer / RestartTransfer: the same peer fields."""
    fields = {"shard_id": t.shard_id, "from_peer_id": t.from_peer_id, "to_peer_id": t.to_peer_id}
    if hasattr(t, "method"):
        fields["method"] = _opt_enum_to_grpc(t.method, q.ShardTransferMethod)
    return cls(**fields)


def _transfer_from_grpc(t: Any, cls: type) -> Any:
    if t.to_shard_id is not None:
        raise _unsupported("a shard transfer to another shard id (to_shard_id)")
    fields = {"shard_id": t.shard_id, "from_peer_id": t.from_peer_id, "to_peer_id": t.to_peer_id}
    if hasattr(t, "method"):
        fields["method"] = _opt_enum_from_grpc(t.method, m.ShardTransferMethod)
    return cls(**fields)


# model operation class, its field, proto field, proto class, model inner class
_TRANSFERS: tuple[tuple[type, str, str, type, type], ...] = (
    (m.MoveShardOperation, "move_shard", "move_shard", q.MoveShard, m.MoveShard),
    (m.ReplicateShardOperation, "replicate_shard", "replicate_shard", q.ReplicateShard, m.ReplicateShard),
    (
        m.AbortTransferOperation,
        "abort_transfer",
        "abort_transfer",
        q.AbortShardTransfer,
        m.AbortShardTransfer,
    ),
    (
        m.RestartTransferOperation,
        "restart_transfer",
        "restart_transfer",
        q.RestartTransfer,
        m.RestartTransfer,
    ),
)


def cluster_operation_to_grpc(
    name: str, op: Any, timeout: int | None = None
) -> q.UpdateCollectionClusterSetupRequest:
    R = q.UpdateCollectionClusterSetupRequest
    for model_cls, field, proto_field, proto_cls, _ in _TRANSFERS:
        if isinstance(op, model_cls):
            return R(
                collection_name=name,
                timeout=timeout,
                **{proto_field: _transfer_to_grpc(getattr(op, field), proto_cls)},
            )
    if isinstance(op, m.DropReplicaOperation):
        r = op.drop_replica
        return R(
            collection_name=name,
            timeout=timeout,
            drop_replica=q.Replica(shard_id=r.shard_id, peer_id=r.peer_id),
        )
    if isinstance(op, m.CreateShardingKeyOperation):
        c = op.create_sharding_key
        return R(
            collection_name=name,
            timeout=timeout,
            create_shard_key=q.CreateShardKey(
                shard_key=shard_key_to_grpc(c.shard_key),
                shards_number=c.shards_number,
                replication_factor=c.replication_factor,
                placement=list(c.placement or []),
                initial_state=_opt_enum_to_grpc(c.initial_state, q.ReplicaState),
            ),
        )
    if isinstance(op, m.DropShardingKeyOperation):
        return R(
            collection_name=name,
            timeout=timeout,
            delete_shard_key=q.DeleteShardKey(shard_key=shard_key_to_grpc(op.drop_sharding_key.shard_key)),
        )
    if isinstance(op, m.ReplicatePointsOperation):
        p = op.replicate_points
        return R(
            collection_name=name,
            timeout=timeout,
            replicate_points=q.ReplicatePoints(
                from_shard_key=shard_key_to_grpc(p.from_shard_key),
                to_shard_key=shard_key_to_grpc(p.to_shard_key),
                filter=filter_to_grpc(p.filter),
            ),
        )
    raise _unsupported(f"cluster operation {type(op).__name__}")  # resharding: REST only


def cluster_operation_from_grpc(msg: q.UpdateCollectionClusterSetupRequest) -> Any:
    kind = betterproto_which(msg, "operation")
    for model_cls, field, proto_field, _, inner_cls in _TRANSFERS:
        if kind == proto_field:
            return model_cls(**{field: _transfer_from_grpc(getattr(msg, proto_field), inner_cls)})
    if kind == "drop_replica":
        return m.DropReplicaOperation(
            drop_replica=m.Replica(shard_id=msg.drop_replica.shard_id, peer_id=msg.drop_replica.peer_id)
        )
    if kind == "create_shard_key":
        return m.CreateShardingKeyOperation(
            create_sharding_key=_create_shard_key_from_grpc(
                q.CreateShardKeyRequest(request=msg.create_shard_key)
            )[1]
        )
    if kind == "delete_shard_key":
        return m.DropShardingKeyOperation(
            drop_sharding_key=m.DropShardingKey(shard_key=shard_key_from_grpc(msg.delete_shard_key.shard_key))
        )
    if kind == "replicate_points":
        p = msg.replicate_points
        return m.ReplicatePointsOperation(
            replicate_points=m.ReplicatePoints(
                from_shard_key=shard_key_from_grpc(p.from_shard_key),
                to_shard_key=shard_key_from_grpc(p.to_shard_key),
                filter=filter_from_grpc(p.filter),
            )
        )
    raise _unsupported(f"cluster operation {kind}")
