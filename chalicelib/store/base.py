"""What both Store adapters share: dispatch between businesses and the small collections."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from pydantic import BaseModel

from chalicelib.store import CollectionId, FeaturePage, FeatureQuery, small


def content_digest(model: BaseModel) -> str:
    """What identifies a stored document's state: everything but the time it was written.

    Equal digests mean an upsert changes nothing (no write, same version) in every adapter.
    """
    data = model.model_dump_json(exclude={"updated_at"}).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class StoreBase:
    """Adapters implement the business queries and list the small collections' features."""

    def query(
        self, collection: CollectionId, q: FeatureQuery, *, count: bool = False
    ) -> FeaturePage:
        if collection == "businesses":
            return self._query_businesses(q, count)
        return small.select(self._small_features(collection), q, count=count)

    def get_feature(self, collection: CollectionId, feature_id: str) -> bytes | None:
        if collection == "businesses":
            if not (feature_id.isdigit() and len(feature_id) == 8):
                return None
            return self._business_feature(feature_id)
        for f in self._small_features(collection):
            if f["id"] == feature_id:
                return orjson.dumps(f)
        return None

    def _query_businesses(self, q: FeatureQuery, count: bool) -> FeaturePage:
        raise NotImplementedError

    def _business_feature(self, cvr: str) -> bytes | None:
        """The public feature of a visible business (the id is a well-formed CVR number)."""
        raise NotImplementedError

    def _small_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        raise NotImplementedError


def check_precondition(
    network_id: str, current: str | None, if_match: str | None, create: bool
) -> None:
    """Create-only writes need absence; others need presence and, with If-Match, the digest."""
    from chalicelib.domain.errors import Conflict, NotFound, PreconditionFailed

    if create:
        if current is not None:
            raise Conflict(f"network {network_id} exists already")
        return
    if current is None:
        raise NotFound(f"no network {network_id}")
    if if_match is not None and if_match != current:
        raise PreconditionFailed(
            f"network {network_id} has changed since it was read (If-Match does not match)"
        )
