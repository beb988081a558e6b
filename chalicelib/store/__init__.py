"""The Store port: what the API and the jobs need from a database, and how to open one.

Adapters: `sqlite` (the embedded default) and, for scale-out, `dynamodb`. Both are chosen by the
`MIKROKORT_STORE` URL and pass one contract test suite.
"""

from __future__ import annotations

from chalicelib.domain.errors import StoreUnavailable
from chalicelib.store.port import (
    COLLECTIONS,
    PUBLIC_PAGE,
    ClusterCell,
    CollectionId,
    Counter,
    Extent,
    FeaturePage,
    FeatureQuery,
    LimitReached,
    Record,
    Store,
    TilePoint,
    WriteResult,
    iter_public_features,
    iter_public_pages,
    load_public_features,
    parse_features,
)

__all__ = [
    "COLLECTIONS",
    "PUBLIC_PAGE",
    "ClusterCell",
    "CollectionId",
    "Counter",
    "Extent",
    "FeaturePage",
    "FeatureQuery",
    "LimitReached",
    "Record",
    "Store",
    "TilePoint",
    "WriteResult",
    "iter_public_features",
    "iter_public_pages",
    "load_public_features",
    "open_store",
    "parse_features",
]


def open_store(url: str) -> Store:
    """Open the adapter a `MIKROKORT_STORE` URL names (`sqlite:///PATH`, `dynamodb://TABLE`)."""
    if url.startswith("sqlite:///"):
        from chalicelib.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://:memory:") or url == "sqlite://":
        from chalicelib.store.sqlite import SQLiteStore

        return SQLiteStore(":memory:")
    if url.startswith("dynamodb://") and len(url) > len("dynamodb://"):
        from chalicelib.store.dynamodb import DynamoDBStore

        return DynamoDBStore(url.removeprefix("dynamodb://"))
    raise StoreUnavailable(
        f"MIKROKORT_STORE={url!r} is not supported: use sqlite:///PATH or dynamodb://TABLE"
    )
