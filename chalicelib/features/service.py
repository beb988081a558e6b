"""The OGC API - Features operations: parse the request, ask the store, build the document.

Where the store keeps a change token (SQLite), the ETag of an answer is made from it and the
request's form before the store is asked anything, so a revalidation (304) costs one read;
otherwise it is made from the page's validator or the body.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.crs import EPSG25832, bbox_to_crs84, feature_to_crs
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.filters import required_box, required_values
from chalicelib.domain.geo import CRS84, EPSG4326
from chalicelib.features import documents as D
from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.features.cql import equality_filter, parse_filter
from chalicelib.features.queryables import queryables, queryables_document
from chalicelib.store import COLLECTIONS, FeatureQuery, Store
from chalicelib.web import params as P
from chalicelib.web.cursor import Cursor, decode_cursor, selection_digest
from chalicelib.web.http import (
    HttpRequest,
    HttpResponse,
    etag_of,
    negotiate,
    not_modified,
    ok,
    version_etag,
    with_query,
)

if TYPE_CHECKING:
    pass

SCHEMA_JSON = "application/schema+json"
_DOC_PARAMS = ("f",)
_FEATURE_PARAMS = ("crs", "f")


def _doc_media(req: HttpRequest, offers: list[str]) -> str:
    values = P.single_values(req.params, _DOC_PARAMS)
    if P.parse_format(values.get("f")):
        return offers[0]
    return negotiate(req.header("accept"), offers)


def _json_doc(req: HttpRequest, doc: dict, offers: list[str], max_age: int) -> HttpResponse:
    media = _doc_media(req, offers)
    body = orjson.dumps(doc)
    return ok(req, body, media, etag=etag_of(body), max_age=max_age)


class FeaturesService:
    """The OGC API - Features operations over one store; one instance per process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._openapi: dict[str, bytes] = {}  # the document per base URL, built once

    def landing(self, req: HttpRequest) -> HttpResponse:
        return _json_doc(req, D.landing_page(req.base_url), [D.JSON], 3600)

    def conformance(self, req: HttpRequest) -> HttpResponse:
        return _json_doc(req, D.conformance(), [D.JSON], 3600)

    def api(self, req: HttpRequest) -> HttpResponse:
        media = _doc_media(req, [D.OPENAPI_JSON, D.JSON])
        body = self._openapi.get(req.base_url)
        if body is None:
            from chalicelib.features.openapi import openapi_document

            body = orjson.dumps(openapi_document(req.base_url))
            self._openapi[req.base_url] = body
        return ok(req, body, media, etag=etag_of(body), max_age=3600)

    def collections(self, req: HttpRequest) -> HttpResponse:
        media = _doc_media(req, [D.JSON])
        etag = self._cheap_etag(b"collections", req.base_url, media)
        if etag and (answer := not_modified(req, media, etag=etag, max_age=300)):
            return answer
        extents = {cid: self.store.extent(cid) for cid in COLLECTIONS}
        body = orjson.dumps(D.collections(req.base_url, extents))
        return ok(req, body, media, etag=etag or etag_of(body), max_age=300)

    def collection(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _known(collection_id)
        media = _doc_media(req, [D.JSON])
        etag = self._cheap_etag(b"collection", cid, req.base_url, media)
        if etag and (answer := not_modified(req, media, etag=etag, max_age=300)):
            return answer
        body = orjson.dumps(D.collection(req.base_url, cid, self.store.extent(cid)))
        return ok(req, body, media, etag=etag or etag_of(body), max_age=300)

    def _cheap_etag(self, *parts: str | bytes) -> str | None:
        """The ETag from the store's change token and the request's form, before any read; None
        when the store keeps no token (the tag is then made from what is read)."""
        token = self.store.change_token()
        return None if token is None else version_etag(token, *parts)

    def queryables(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _known(collection_id)
        media = _doc_media(req, [SCHEMA_JSON, D.JSON])
        doc = queryables_document(req.base_url, cid, COLLECTION_INFO[cid].title)
        body = orjson.dumps(doc)
        return ok(req, body, media, etag=etag_of(body), max_age=3600)

    def items(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _known(collection_id)
        info = COLLECTION_INFO[cid]
        values = P.single_values(req.params, item_params(cid))
        media = _feature_media(req, values)
        crs = P.parse_crs(values.get("crs"))
        query = _items_query(values, cid)
        selection = selection_digest(cid, {**query.filters(), "crs": crs})
        number_matched = None
        if "cursor" in values:
            cursor = decode_cursor(values["cursor"], selection, req.settings.cursor_secret)
            query = query.model_copy(update={"after": cursor.after})
            number_matched = cursor.number_matched
        settings = req.settings
        crs_header = {"Content-Crs": f"<{crs}>"}
        cheap = self._cheap_etag(
            b"items",
            cid,
            req.base_url,
            media,
            orjson.dumps(values),  # in the request's order, as the links repeat it
            str(settings.page_max_bytes),
            hashlib.blake2b(settings.cursor_secret, digest_size=16).digest(),  # `next` links
        )
        if cheap and (answer := not_modified(req, media, etag=cheap, max_age=60, extra=crs_header)):
            return answer
        page = self.store.query(cid, query, count="cursor" not in values)
        fit = _fitting(page.features, req.settings.page_max_bytes)
        if fit < len(page.features):  # too large for one answer: a shorter page, then `next`
            query = query.model_copy(update={"limit": fit})
            page = self.store.query(cid, query, count="cursor" not in values)
        if page.number_matched is not None:
            number_matched = page.number_matched
        features = _in_crs(page.features, crs)
        href = f"{req.base_url}/collections/{cid}/items"
        links = [
            D.link(with_query(href, values), "self", media, "This page"),
            D.link(f"{req.base_url}/collections/{cid}", "collection", D.JSON, info.title),
        ]
        if page.next_after is not None:
            token = Cursor(page.next_after, number_matched, selection).encode(
                req.settings.cursor_secret
            )
            links.append(D.link(with_query(href, {**values, "cursor": token}), "next", media))
        body = D.feature_collection(features, links, number_matched)
        data = [page.validator.encode()] if page.validator else features
        etag = cheap or etag_of(
            *data, crs.encode(), orjson.dumps(links), str(number_matched).encode()
        )
        return ok(req, body, media, etag=etag, max_age=60, extra=crs_header)

    def item(self, req: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
        cid = _known(collection_id)
        values = P.single_values(req.params, _FEATURE_PARAMS)
        media = _feature_media(req, values)
        crs = P.parse_crs(values.get("crs"))
        crs_header = {"Content-Crs": f"<{crs}>"}
        # a tag for a feature that is gone cannot be held at an unchanged token: 304 first
        cheap = self._cheap_etag(
            b"item", cid, feature_id, req.base_url, media, orjson.dumps(values)
        )
        if cheap and (answer := not_modified(req, media, etag=cheap, max_age=60, extra=crs_header)):
            return answer
        feature = self.store.get_feature(cid, feature_id)
        if feature is None:
            raise NotFound(f"no feature '{feature_id}' in collection '{cid}'")
        feature = _in_crs([feature], crs)[0]
        href = f"{req.base_url}/collections/{cid}/items/{feature_id}"
        links = [
            D.link(with_query(href, values), "self", media, "This feature"),
            D.link(f"{req.base_url}/collections/{cid}", "collection", D.JSON, "The collection"),
        ]
        body = D.single_feature(feature, links)
        return ok(req, body, media, etag=cheap or etag_of(body), max_age=60, extra=crs_header)


_PAGE_OVERHEAD = 16 * 1024  # links, numberMatched, timeStamp around the features


def _fitting(features: list[bytes], max_bytes: int) -> int:
    """How many of the features fit in an answer of at most `max_bytes` (at least one)."""
    budget = max_bytes - _PAGE_OVERHEAD
    total = 0
    for n, feature in enumerate(features):
        total += len(feature) + 1
        if total > budget:
            return max(n, 1)
    return len(features)


def _in_crs(features: list[bytes], crs: str) -> list[bytes]:
    """Stored CRS84 features in the CRS asked for (the stored bytes themselves for CRS84)."""
    if crs == CRS84:
        return features
    if crs == EPSG4326:
        return [D.swap_axes(f) for f in features]
    return [feature_to_crs(f, crs) for f in features]


def _known(collection_id: str) -> str:
    if collection_id not in COLLECTION_INFO:
        raise NotFound(
            f"no collection '{collection_id}'; collections: {', '.join(COLLECTION_INFO)}"
        )
    return collection_id


def _feature_media(req: HttpRequest, values: dict[str, str]) -> str:
    fmt = P.parse_format(values.get("f"))
    if fmt is not None:
        return D.GEOJSON
    return negotiate(req.header("accept"), [D.GEOJSON, D.JSON])


def item_params(collection_id: str) -> tuple[str, ...]:
    """The query parameters of a collection's items: the common ones, the shortcuts, and one
    equality parameter per queryable property (OGC API - Features Part 1, 7.15.7)."""
    info = COLLECTION_INFO[collection_id]
    named = (*P.COMMON_ITEM_PARAMS, *FILTER_PARAMS, *info.filters)
    return named + tuple(n for n in queryables(collection_id) if n not in named)


def _items_query(values: dict[str, str], collection_id: str) -> FeatureQuery:
    bbox_crs = P.parse_crs(values.get("bbox-crs"), "bbox-crs")
    fields: dict[str, object] = {"limit": P.parse_limit(values.get("limit"))}
    utm_box: list[Any] | None = None
    if "bbox" in values:
        box = P.parse_bbox(values["bbox"], bbox_crs)
        if bbox_crs == EPSG25832:  # the indexes read lon/lat: a box around it, then exactly
            fields["bbox"] = bbox_to_crs84(box, EPSG25832)
            utm_box = ["utm32box", list(box)]
        else:
            fields["bbox"] = box
    if "datetime" in values:
        # the businesses' temporal property is the founding date, a day long: an instant or
        # interval selects those founded on a day it touches (the collection says so)
        start, end = P.parse_datetime(values["datetime"])
        if COLLECTION_INFO[collection_id].temporal:
            fields["founded_from"], fields["founded_to"] = start, end
            if start is None and end is None:
                fields["filter"] = ["not", ["null", "founded"]]
    terms = _filter_terms(values, collection_id)
    if utm_box is not None:
        terms.append(utm_box)
    if terms:
        if "filter" in fields:
            terms.append(fields["filter"])  # type: ignore[arg-type]
        fields["filter"] = terms[0] if len(terms) == 1 else ["and", *terms]
    if "municipality" in values:
        fields["municipality"] = P.parse_municipality(values["municipality"])
    if "industry" in values:
        fields["industry"] = P.parse_industry(values["industry"])
    if "network" in values:
        fields["network"] = P.parse_network(values["network"])
    if "status" in values:
        fields["status"] = P.parse_status(values["status"])
    if "q" in values:
        fields["q"] = P.parse_text(values["q"])
    return _bounded(FeatureQuery(**fields))


FILTER_PARAMS = ("filter", "filter-lang", "filter-crs")


def _filter_terms(values: dict[str, str], collection_id: str) -> list[list[Any]]:
    """The `filter` parameter and the property equality parameters, checked, as filter terms."""
    known = queryables(collection_id)
    terms: list[list[Any]] = []
    if "filter-crs" in values and values["filter-crs"].strip("<>") != CRS84:
        raise InvalidParameter(f"filter-crs must be {CRS84}", parameter="filter-crs")
    if "filter" in values:
        terms.append(
            parse_filter(
                values["filter"],
                values.get("filter-lang"),
                known,
                geometry=True,
            )
        )
    elif "filter-lang" in values:
        raise InvalidParameter("filter-lang is given without a filter", parameter="filter-lang")
    for name in known:
        if name in values and name not in COLLECTION_INFO[collection_id].filters:
            terms.append(equality_filter(name, values[name], known))
    return terms


def _bounded(q: FeatureQuery) -> FeatureQuery:
    """The query with what its filter pins down moved where an index can use it: a box every
    selected geometry meets, a single municipality. The filter itself still applies in full."""
    if q.filter is None:
        return q
    update: dict[str, object] = {}
    box = required_box(q.filter)
    if box is not None:
        if q.bbox is not None:
            b = q.bbox
            box = (max(b[0], box[0]), max(b[1], box[1]), min(b[2], box[2]), min(b[3], box[3]))
        if box[0] > box[2] or box[1] > box[3]:
            return q.model_copy(update={"filter": ["const", False]})
        update["bbox"] = box
    codes = required_values(q.filter, "municipality")
    if codes is not None and len(codes) == 1 and q.municipality in (None, codes[0]):
        update["municipality"] = codes[0]
    return q.model_copy(update=update) if update else q
