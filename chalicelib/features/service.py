"""The OGC API - Features operations: parse the request, ask the store, build the document.

Where the store keeps a change token (SQLite), the ETag of an answer is made from it and the
request's form before the store is asked anything, so a revalidation (304) costs one read;
otherwise it is made from the page's validator or the body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.crs import EPSG25832, bbox_to_crs84, feature_to_crs, to_crs_coordinates
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.filters import required_box, required_values
from chalicelib.domain.geo import CRS84, EPSG4326, bbox_intersection
from chalicelib.domain.public import business_network_ids
from chalicelib.features import documents as D
from chalicelib.features import paging
from chalicelib.features import schemas as S
from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.features.cql import equality_filter, parse_filter
from chalicelib.features.queryables import queryables, queryables_document
from chalicelib.features.sortables import parse_sortby, sortables_document
from chalicelib.pages import resources as pages
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
from chalicelib.web.pages import HTML, language

if TYPE_CHECKING:
    pass

SCHEMA_JSON = "application/schema+json"
_DOC_PARAMS = ("f",)
# the resources that are also pages: `f=html` or a browser's Accept, and the page's language
_PAGE_PARAMS = ("f", "lang")
PAGE_FORMATS = (*P.DOC_FORMATS, "html")
OUTPUT_PARAMS = ("properties", "skipGeometry")  # what each feature of an answer carries
_FEATURE_PARAMS = ("crs", "f", "lang", *OUTPUT_PARAMS)
# The answers of items and item: media type by `f`, and in the order `Accept` ties are broken
# (HTML last: a client that accepts anything gets GeoJSON, a browser that names HTML a page).
FEATURE_MEDIA = {
    "json": D.GEOJSON,
    "geojson": D.GEOJSON,
    "jsonfg": D.JSONFG,
    "csv": D.CSV,
    "html": HTML,
}
FEATURE_OFFERS = [D.GEOJSON, D.JSON, D.JSONFG, D.CSV, HTML]
PAGE_MAX_AGE = 300


def _doc_media(req: HttpRequest, offers: list[str], page: bool = False) -> str:
    """The media type of a document; `page`: the resource is also an HTML page."""
    values = _checked_language(P.single_values(req.params, _PAGE_PARAMS if page else _DOC_PARAMS))
    fmt = P.parse_format(values.get("f"), PAGE_FORMATS if page else P.DOC_FORMATS)
    if fmt == "html":
        return HTML
    if fmt:
        return offers[0]
    return negotiate(req.header("accept"), [*offers, HTML] if page else offers)


def _checked_language(values: dict[str, str]) -> dict[str, str]:
    """The request's single values, a `lang` among them checked (a page's language)."""
    if "lang" in values:
        P.parse_language(values["lang"])
    return values


def _vary(media: str) -> dict[str, str]:
    """A page varies by the browser's language too; said on its 304 as on its 200."""
    return {"Vary": "Accept, Accept-Language"} if media == HTML else {}


def _page(req: HttpRequest, body: bytes, etag: str | None = None) -> HttpResponse:
    """An HTML page: it varies by Accept and by the browser's language as well."""
    return ok(req, body, HTML, etag=etag or etag_of(body), max_age=PAGE_MAX_AGE, extra=_vary(HTML))


class FeaturesService:
    """The OGC API - Features operations over one store; one instance per process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._openapi: dict[str, bytes] = {}  # the document per base URL, built once

    def landing(self, req: HttpRequest) -> HttpResponse:
        doc = D.landing_page(req.base_url)
        media = _doc_media(req, [D.JSON], page=True)
        if media == HTML:
            return _page(req, pages.landing(req, language(req), doc))
        body = orjson.dumps(doc)
        return ok(req, body, media, etag=etag_of(body), max_age=3600)

    def conformance(self, req: HttpRequest) -> HttpResponse:
        media = _doc_media(req, [D.JSON], page=True)
        if media == HTML:
            return _page(req, pages.conformance(req, language(req), D.conformance()))
        body = orjson.dumps(D.conformance())
        return ok(req, body, media, etag=etag_of(body), max_age=3600)

    def api(self, req: HttpRequest) -> HttpResponse:
        media = _doc_media(req, [D.OPENAPI_JSON, D.JSON], page=True)
        body = self._openapi.get(req.base_url)
        if body is None:
            from chalicelib.features.openapi import openapi_document

            body = orjson.dumps(openapi_document(req.base_url))
            self._openapi[req.base_url] = body
        if media == HTML:
            return _page(req, pages.api_definition(req, language(req), orjson.loads(body)))
        return ok(req, body, media, etag=etag_of(body), max_age=3600)

    def collections(self, req: HttpRequest) -> HttpResponse:
        media = _doc_media(req, [D.JSON], page=True)
        lang = language(req) if media == HTML else ""
        etag = self._cheap_etag(b"collections", req.base_url, media, lang)
        if etag and (
            answer := not_modified(req, media, etag=etag, max_age=300, extra=_vary(media))
        ):
            return answer
        extents = {cid: self.store.extent(cid) for cid in COLLECTIONS}
        doc = D.collections(req.base_url, extents)
        if media == HTML:
            return _page(req, pages.collections(req, lang, doc), etag)
        body = orjson.dumps(doc)
        return ok(req, body, media, etag=etag or etag_of(body), max_age=300)

    def collection(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _known(collection_id)
        media = _doc_media(req, [D.JSON], page=True)
        lang = language(req) if media == HTML else ""
        etag = self._cheap_etag(b"collection", cid, req.base_url, media, lang)
        if etag and (
            answer := not_modified(req, media, etag=etag, max_age=300, extra=_vary(media))
        ):
            return answer
        doc = D.collection(req.base_url, cid, self.store.extent(cid))
        if media == HTML:
            return _page(req, pages.collection(req, lang, doc), etag)
        body = orjson.dumps(doc)
        return ok(req, body, media, etag=etag or etag_of(body), max_age=300)

    def _cheap_etag(self, *parts: str | bytes) -> str | None:
        """The ETag from the store's change token and the request's form, before any read; None
        when the store keeps no token (the tag is then made from what is read)."""
        token = self.store.change_token()
        return None if token is None else version_etag(token, *parts)

    def sortables(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        return _json_schema(req, collection_id, sortables_document, "sortables")

    def queryables(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        return _json_schema(req, collection_id, queryables_document, "queryables")

    def schema(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        """`/collections/{id}/schema`: the features' JSON Schema (Part 5)."""
        return _json_schema(
            req, collection_id, lambda base, cid, _title: S.schema_document(base, cid), "schema"
        )

    def items(self, req: HttpRequest, collection_id: str) -> HttpResponse:
        cid = _known(collection_id)
        info = COLLECTION_INFO[cid]
        values = _checked_language(
            P.single_values(_without_blank_fields(req), (*item_params(cid), "lang"))
        )
        media = _feature_media(req, values)
        output = _output(values, cid)
        crs = P.parse_crs(values.get("crs"))
        query = items_query(values, cid)
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
            output.key(),
            orjson.dumps(values),  # in the request's order, as the links repeat it
            str(settings.page_max_bytes),
            hashlib.blake2b(settings.cursor_secret, digest_size=16).digest(),  # `next` links
            paging.next_limit(req, values.get("limit")) or "",
        )
        extra = {
            **crs_header,
            **_download_headers(media, cid),
            "Vary": paging.vary(values.get("limit")),
        }
        lang = language(req) if media == HTML else ""
        if media == HTML:
            extra["Vary"] += ", Accept-Language"
            cheap = cheap and version_etag(cheap, lang)
        if cheap and (answer := not_modified(req, media, etag=cheap, max_age=60, extra=extra)):
            return answer
        page = self.store.query(cid, query, count="cursor" not in values)
        weight = 2.0 if media == D.JSONFG and crs != CRS84 else 1.0  # place and geometry
        fit = _fitting(page.features, req.settings.page_max_bytes, weight)
        if fit < len(page.features):  # too large for one answer: a shorter page, then `next`
            query = query.model_copy(update={"limit": fit})
            page = self.store.query(cid, query, count="cursor" not in values)
        if page.number_matched is not None:
            number_matched = page.number_matched
        href = f"{req.base_url}/collections/{cid}/items"
        links = [
            D.link(with_query(href, values), "self", media, "This page"),
            *_alternate(href, values, media),
            D.link(f"{req.base_url}/collections/{cid}", "collection", D.JSON, info.title),
        ]
        if page.next_after is not None:
            token = Cursor(page.next_after, number_matched, selection).encode(
                req.settings.cursor_secret
            )
            onward = {**values, "cursor": token}
            if (limit := paging.next_limit(req, values.get("limit"))) is not None:
                onward["limit"] = limit
            links.append(D.link(with_query(href, onward), "next", media))
        data = [page.validator.encode()] if page.validator else page.features
        etag = cheap or etag_of(
            *data,
            crs.encode(),
            media.encode(),
            output.key(),
            orjson.dumps(links),
            str(number_matched).encode(),
        )
        if media == HTML:  # a person's table and map: every property, in CRS84
            body = pages.items(req, lang, cid, page.features, number_matched, links, values)
            etag = cheap or etag_of(body)
        elif media == D.CSV:
            body = _csv(cid, _selected(page.features, crs, output), output)
            extra["Link"] = _link_header(links)
        elif media == D.JSONFG:
            from chalicelib.features import formats

            fg = _jsonfg_input(cid, page.features, crs, output)
            body = formats.jsonfg_collection(
                fg.docs,
                links,
                number_matched,
                crs=crs,
                feature_type=cid,
                time_of=fg.time_of,
                wgs84_geometry_of=fg.wgs84_geometry_of,
            )
        elif output.plain:  # the stored bytes as they are: no parse, no re-encode
            body = D.feature_collection(_in_crs(page.features, crs), links, number_matched)
        else:
            encoded = [orjson.dumps(f) for f in _selected(page.features, crs, output)]
            body = D.feature_collection(encoded, links, number_matched)
        return ok(req, body, media, etag=etag, max_age=60, extra=extra)

    def item(self, req: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
        cid = _known(collection_id)
        values = _checked_language(P.single_values(req.params, _FEATURE_PARAMS))
        media = _feature_media(req, values)
        output = _output(values, cid)
        crs = P.parse_crs(values.get("crs"))
        extra = {"Content-Crs": f"<{crs}>", **_download_headers(media, cid)}
        lang = language(req) if media == HTML else ""
        extra.update(_vary(media))
        # a tag for a feature that is gone cannot be held at an unchanged token: 304 first
        cheap = self._cheap_etag(
            b"item", cid, feature_id, req.base_url, media, output.key(), orjson.dumps(values), lang
        )
        if cheap and (answer := not_modified(req, media, etag=cheap, max_age=60, extra=extra)):
            return answer
        stored = self.store.get_feature(cid, feature_id)
        if stored is None:
            raise NotFound(f"no feature '{feature_id}' in collection '{cid}'")
        href = f"{req.base_url}/collections/{cid}/items/{feature_id}"
        links = [
            D.link(with_query(href, values), "self", media, "This feature"),
            *_alternate(href, values, media),
            D.link(f"{req.base_url}/collections/{cid}", "collection", D.JSON, "The collection"),
        ]
        if media == HTML:
            body = self._item_page(req, lang, cid, orjson.loads(stored), links)
        elif media == D.CSV:
            body = _csv(cid, _selected([stored], crs, output), output)
            extra["Link"] = _link_header(links)
        elif media == D.JSONFG:
            from chalicelib.features import formats

            fg = _jsonfg_input(cid, [stored], crs, output)
            body = formats.jsonfg_feature(
                fg.docs[0],
                links,
                crs=crs,
                feature_type=cid,
                time_of=fg.time_of,
                wgs84_geometry_of=fg.wgs84_geometry_of,
            )
        elif output.plain:
            body = D.single_feature(_in_crs([stored], crs)[0], links)
        else:
            body = D.single_feature(orjson.dumps(_selected([stored], crs, output)[0]), links)
        return ok(req, body, media, etag=cheap or etag_of(body), max_age=60, extra=extra)

    def _item_page(
        self,
        req: HttpRequest,
        lang: str,
        cid: str,
        feature: dict[str, Any],
        links: list[dict[str, str]],
    ) -> bytes:
        """One feature as a page; a business's names its networks, a network's its members."""
        if cid == "businesses":
            networks = []
            for nid in business_network_ids(feature["properties"]):
                found = self.store.get_feature("networks", nid) or self.store.get_feature(
                    "network-meeting-places", nid
                )
                if found is not None:
                    networks.append(orjson.loads(found))
            return pages.business(req, lang, feature, networks, links)
        if cid in ("networks", "network-meeting-places"):
            nid = str(feature["id"])
            members = self.store.query(
                "businesses",
                FeatureQuery(network=nid, status="active", limit=pages.MEMBERS_SHOWN),
                count=True,
            )
            place = None
            if cid == "networks":
                found = self.store.get_feature("network-meeting-places", nid)
                place = orjson.loads(found) if found else None
                if not (feature.get("geometry") or {}).get("type") and place is not None:
                    # no area: its page is its meeting place's (the one every link names)
                    feature, place, cid = place, None, "network-meeting-places"
            return pages.network(
                req,
                lang,
                feature,
                [orjson.loads(m) for m in members.features],
                members.number_matched or len(members.features),
                links,
                place,
                cid,
            )
        return pages.municipality(req, lang, feature, links)


class _Output:
    """What each feature of an answer carries: all properties or the ones `properties` names
    (in its order), and its geometry unless `skipGeometry=true`."""

    def __init__(self, properties: tuple[str, ...] | None, skip_geometry: bool) -> None:
        self.properties = properties
        self.skip_geometry = skip_geometry

    @property
    def plain(self) -> bool:
        """Whether features go out as stored (no selection, geometry kept)."""
        return self.properties is None and not self.skip_geometry

    def key(self) -> bytes:
        """The choice, for ETags."""
        return orjson.dumps([self.properties, self.skip_geometry])

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        if self.properties is not None:
            props = doc.get("properties") or {}
            doc["properties"] = {n: props[n] for n in self.properties if n in props}
        if self.skip_geometry:
            doc["geometry"] = None
            doc.pop("bbox", None)
        return doc


def _output(values: dict[str, str], collection_id: str) -> _Output:
    properties = None
    if "properties" in values:
        properties = P.parse_properties(values["properties"], S.property_names(collection_id))
    skip = "skipGeometry" in values and P.parse_bool(values["skipGeometry"], "skipGeometry")
    return _Output(properties, skip)


def _selected(features: list[bytes], crs: str, output: _Output) -> list[dict[str, Any]]:
    """The features as documents in `crs`, with the properties and geometry `output` keeps."""
    return [output.apply(orjson.loads(f)) for f in _in_crs(features, crs)]


def _jsonfg_input(cid: str, features: list[bytes], crs: str, output: _Output) -> _JsonFg:
    """The features for JSON-FG: their geometry in `crs` (it becomes `place` outside CRS84),
    each one's CRS84 geometry (the `geometry` member), and its `time`: the primary instant
    (a business's founding date), null where unknown or where the collection has none. Both
    are taken before `properties` selects, so a feature keeps its time without the property."""
    temporal = S.temporal_property(cid)
    member = "date" if temporal and temporal[1] == "date" else "timestamp"
    out = _JsonFg()
    for raw in features:
        doc = orjson.loads(raw)
        original = doc.get("geometry")
        value = (doc.get("properties") or {}).get(temporal[0]) if temporal else None
        if crs != CRS84:
            doc["geometry"] = to_crs_coordinates(original, crs)
        output.apply(doc)
        out.docs.append(doc)
        out.wgs84[id(doc)] = None if output.skip_geometry else original
        out.times[id(doc.get("properties"))] = None if value is None else {member: value}
    return out


class _JsonFg:
    """Features ready for the JSON-FG encoder, with what it asks of each one."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.wgs84: dict[int, dict[str, Any] | None] = {}  # by id() of the feature
        self.times: dict[int, dict[str, Any] | None] = {}  # by id() of its properties

    def wgs84_geometry_of(self, feature: dict[str, Any]) -> dict[str, Any] | None:
        return self.wgs84.get(id(feature))

    def time_of(self, properties: dict[str, Any]) -> dict[str, Any] | None:
        return self.times.get(id(properties))


def _csv(cid: str, docs: list[dict[str, Any]], output: _Output) -> bytes:
    from chalicelib.features import formats

    columns = list(output.properties if output.properties is not None else S.property_names(cid))
    return formats.csv_collection(docs, columns)


def _download_headers(media: str, cid: str) -> dict[str, str]:
    if media == D.CSV:
        return {"Content-Disposition": f'inline; filename="{cid}.csv"'}
    return {}


def _link_header(links: list[dict[str, str]]) -> str:
    """The links as an HTTP `Link` header (RFC 8288), for answers that cannot hold them."""
    return ", ".join(
        f'<{link["href"]}>; rel="{link["rel"]}"; type="{link["type"]}"' for link in links
    )


_PAGE_OVERHEAD = 16 * 1024  # links, numberMatched, timeStamp around the features


def _fitting(features: list[bytes], max_bytes: int, weight: float = 1.0) -> int:
    """How many of the features fit in an answer of at most `max_bytes` (at least one), each
    taking `weight` times its stored size."""
    budget = max_bytes - _PAGE_OVERHEAD
    total = 0.0
    for n, feature in enumerate(features):
        total += len(feature) * weight + 1
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


# the fields of an items page's filter form: a field left empty is sent empty, and means "any"
_FORM_FIELDS = ("q", "municipality", "industry", "status", "size")


def _without_blank_fields(req: HttpRequest) -> dict[str, list[str]]:
    """The query parameters, less the filter form's empty fields when a page is asked for."""
    if req.params.get("f") != ["html"]:
        return req.params
    return {k: v for k, v in req.params.items() if not (k in _FORM_FIELDS and v == [""])}


def _alternate(href: str, values: dict[str, str], media: str) -> list[dict[str, str]]:
    """The `alternate` link between an answer and its page: the page from the data, GeoJSON
    from the page (the other formats are named on the collection)."""
    if media == HTML:
        data = {k: v for k, v in values.items() if k not in ("f", "lang")}
        return [D.link(with_query(href, data), "alternate", D.GEOJSON, "GeoJSON")]
    page = {k: v for k, v in values.items() if k not in ("f", "crs", *OUTPUT_PARAMS)}
    return [D.link(with_query(href, {**page, "f": "html"}), "alternate", D.HTML, "As a page")]


def _known(collection_id: str) -> str:
    if collection_id not in COLLECTION_INFO:
        raise NotFound(
            f"no collection '{collection_id}'; collections: {', '.join(COLLECTION_INFO)}"
        )
    return collection_id


def _json_schema(
    req: HttpRequest,
    collection_id: str,
    build: Callable[[str, str, str], dict[str, Any]],
    kind: str,
) -> HttpResponse:
    """A collection's queryables, sortables or schema: a JSON Schema built from the base URL,
    the collection and its title, cached for an hour; or that schema as a page."""
    cid = _known(collection_id)
    media = _doc_media(req, [SCHEMA_JSON, D.JSON], page=True)
    doc = build(req.base_url, cid, COLLECTION_INFO[cid].title)
    if media == HTML:
        self_href = f"{req.base_url}/collections/{cid}/{kind}"
        return _page(req, pages.json_schema(req, language(req), cid, kind, doc, self_href))
    body = orjson.dumps(doc)
    return ok(req, body, media, etag=etag_of(body), max_age=3600)


def _feature_media(req: HttpRequest, values: dict[str, str]) -> str:
    fmt = P.parse_format(values.get("f"), P.ITEM_FORMATS)
    if fmt is not None:
        return FEATURE_MEDIA[fmt]
    return negotiate(req.header("accept"), FEATURE_OFFERS)


def item_params(collection_id: str) -> tuple[str, ...]:
    """The query parameters of a collection's items: the common ones, the shortcuts, and one
    equality parameter per queryable property (OGC API - Features Part 1, 7.15.7)."""
    info = COLLECTION_INFO[collection_id]
    named = (*P.COMMON_ITEM_PARAMS, *OUTPUT_PARAMS, *FILTER_PARAMS, "sortby", *info.filters)
    return named + tuple(n for n in queryables(collection_id) if n not in named)


def items_query(values: dict[str, str], collection_id: str) -> FeatureQuery:
    """The store query of an items request's parameters (also the tiles' selection)."""
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
    if collection_id == "networks":  # the areas: a network without one is a meeting place only
        terms.append(["not", ["null", "geometry"]])
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
    if "size" in values:
        fields["sizes"] = P.parse_size(values["size"])
    if "q" in values:
        fields["q"] = P.parse_text(values["q"])
    if "sortby" in values:
        fields["sortby"] = parse_sortby(values["sortby"], collection_id)
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
        # the filter's box may itself be empty (disjoint terms): intersecting it says so
        joined = bbox_intersection(q.bbox if q.bbox is not None else box, box)
        if joined is None:
            return q.model_copy(update={"filter": ["const", False]})
        update["bbox"] = joined
    codes = required_values(q.filter, "municipality")
    if codes is not None and len(codes) == 1 and q.municipality in (None, codes[0][-3:]):
        update["municipality"] = codes[0][-3:]  # the stores' index keeps three digits
    return q.model_copy(update=update) if update else q
