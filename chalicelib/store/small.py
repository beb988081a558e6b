"""Paging and filtering of the small collections (networks, municipalities) in memory.

They hold tens to a few hundred features, so every adapter reads them whole and filters here;
one implementation keeps the adapters' behaviour identical.
"""

from __future__ import annotations

from typing import Any

import orjson

from chalicelib.domain.geo import geometry_bounds, geometry_intersects_bbox
from chalicelib.domain.text import search_fold
from chalicelib.store import FeaturePage, FeatureQuery


def select(features: list[dict[str, Any]], q: FeatureQuery, *, count: bool) -> FeaturePage:
    """Filter features (already public) by the query, in id order, one page after `q.after`."""
    matched = [f for f in sorted(features, key=lambda f: str(f["id"])) if _matches(f, q)]
    start = 0
    if q.after is not None:
        start = next((i for i, f in enumerate(matched) if str(f["id"]) > q.after), len(matched))
    page = matched[start : start + q.limit]
    more = start + q.limit < len(matched)
    return FeaturePage(
        features=[orjson.dumps(f) for f in page],
        next_after=str(page[-1]["id"]) if more and page else None,
        number_matched=len(matched) if count else None,
    )


def _matches(f: dict[str, Any], q: FeatureQuery) -> bool:
    props = f["properties"]
    if q.municipality is not None:
        munis = props.get("municipalities") or [props.get("kommunekode")]
        if q.municipality not in munis:
            return False
    if q.q is not None and search_fold(q.q) not in search_fold(props.get("name") or ""):
        return False
    if q.bbox is not None:
        minx, miny, maxx, maxy = geometry_bounds(f["geometry"])
        b = q.bbox
        if minx > b[2] or maxx < b[0] or miny > b[3] or maxy < b[1]:
            return False
        if not geometry_intersects_bbox(f["geometry"], b):
            return False
    return True
