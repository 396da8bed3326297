"""High-throughput ingestion: the :class:`Ingestor` actor and the bulk helpers built on it.

``async with client.ingest("coll", batch_size=256, concurrency=4) as sink:``
``    await sink.send_many(points)``
``print(sink.report)``
"""

from ._actor import Ingestor, as_point
from ._columns import points_from_columns, upload_columns, upload_points
from ._report import BatchFailure, IngestError, IngestReport
from ._size import DEFAULT_MAX_BATCH_BYTES, SERVER_LIMIT, point_bytes

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "SERVER_LIMIT",
    "BatchFailure",
    "IngestError",
    "IngestReport",
    "Ingestor",
    "as_point",
    "point_bytes",
    "points_from_columns",
    "upload_columns",
    "upload_points",
]
