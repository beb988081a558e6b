"""Landing page, conformance, collections and feature documents: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from chalicelib.domain.crs import SUPPORTED_CRS
from chalicelib.domain.geo import CRS84, DENMARK_BOUNDS
from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.store import Extent

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"
MVT = "application/vnd.mapbox-vector-tile"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    # every resource of Part 1 is also an HTML page (chalicelib.pages): f=html, or a browser
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    # sortby and /sortables (OGC API - Records 1.0's sorting class; features/sortables.py)
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    # OGC API - Features - Part 5 / Common - Part 3: Schemas 1.0 (OGC 23-058r2, Annex A):
    # /collections/{id}/schema, its link, the roles id, primary-geometry and primary-instant
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/schemas",
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/advanced-property-roles",
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/returnables-and-receivables",
    # the same class under the draft's URI (OGC 23-058, ogcapi-features-5), which clients
    # written against the draft (QGIS's OAPIF provider) look for
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    # OGC API - Tiles: the businesses as Mapbox Vector Tiles (chalicelib.tiles)
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# the collections with map tiles (chalicelib.tiles.service): the businesses a map draws by the
# thousand, and the networks' meeting places (their areas are polygons: GeoJSON from the items)
TILED_COLLECTIONS = ("businesses", "network-meeting-places")
TILING_SCHEMES_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SORTABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
SCHEMA_JSON = "application/schema+json"
JSONFG = "application/vnd.ogc.fg+json"
CSV = "text/csv; charset=utf-8"
# The relations of the link to a collection's schema: Part 5's own, `describedby` (RFC 8288),
# and `describedBy` as well: the OAPIF driver of GDAL 3.6 (Debian 12's) compares
# `osRel == "describedBy"`, case-sensitively; later versions compare without case.
SCHEMA_RELS = (SCHEMA_REL, "describedby", "describedBy")


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    doc = {"href": href, "rel": rel, "type": media_type}
    if title:
        doc["title"] = title
    return doc


def landing_page(base: str) -> dict[str, Any]:
    return {
        "title": "Mikrokort",
        "description": (
            "Open map and open data of micro-businesses (under 10 employees) and the business "
            "networks they form, for Danish municipalities. An OGC API - Features service."
        ),
        "attribution": "Data from the Central Business Register (CVR), the Danish Business "
        "Authority; boundaries: Klimadatastyrelsen og Danske Kommuner, DAGI.",
        "links": [
            link(f"{base}/", "self", JSON, "This document"),
            link(f"{base}/?f=html", "alternate", HTML, "This document as a page"),
            link(f"{base}/api", "service-desc", OPENAPI_JSON, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes implemented"),
            link(f"{base}/collections", "data", JSON, "The feature collections"),
            link(f"{base}/tileMatrixSets", TILING_SCHEMES_REL, JSON, "The tile matrix sets"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collection(base: str, collection_id: str, extent: Extent) -> dict[str, Any]:
    info = COLLECTION_INFO[collection_id]
    href = f"{base}/collections/{collection_id}"
    bbox = list(extent.bbox) if extent.bbox else list(DENMARK_BOUNDS)
    doc: dict[str, Any] = {
        "id": info.id,
        "title": info.title,
        "description": info.description,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [[round(v, 6) for v in bbox]], "crs": CRS84},
        },
        "links": [
            link(href, "self", JSON, info.title),
            link(f"{href}?f=html", "alternate", HTML, f"{info.title} as a page"),
            link(f"{href}/items?f=html", "items", HTML, f"{info.title} as a page with a map"),
            link(f"{href}/items", "items", GEOJSON, f"{info.title} as GeoJSON"),
            link(f"{href}/items?f=jsonfg", "items", JSONFG, f"{info.title} as JSON-FG"),
            link(f"{href}/items?f=csv", "items", CSV, f"{info.title} as CSV"),
            link(
                f"{href}/queryables",
                QUERYABLES_REL,
                SCHEMA_JSON,
                "The properties a filter may name",
            ),
            link(
                f"{href}/sortables",
                SORTABLES_REL,
                SCHEMA_JSON,
                "The properties sortby may name",
            ),
            *(
                link(f"{href}/schema", rel, SCHEMA_JSON, "The schema of the features")
                for rel in SCHEMA_RELS
            ),
        ],
    }
    if info.id in TILED_COLLECTIONS:
        doc["links"].append(
            link(f"{href}/tiles", TILESETS_REL, JSON, "Map tiles (Mapbox Vector Tiles)")
        )
    if info.temporal and extent.interval is not None:
        start = extent.interval[0]
        doc["extent"]["temporal"] = {  # of the founding dates, the property `datetime` selects
            "interval": [[f"{start}T00:00:00Z" if start else None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return doc


def collections(base: str, extents: dict[str, Extent]) -> dict[str, Any]:
    return {
        "links": [
            link(f"{base}/collections", "self", JSON, "The feature collections"),
            link(f"{base}/collections?f=html", "alternate", HTML, "The collections as a page"),
        ],
        "collections": [collection(base, cid, extents[cid]) for cid in COLLECTION_INFO],
    }


def now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def feature_collection(
    features: list[bytes],
    links: list[dict[str, str]],
    number_matched: int | None,
) -> bytes:
    """The items document, assembled from pre-rendered features without re-encoding them."""
    tail: dict[str, Any] = {}
    if number_matched is not None:
        tail["numberMatched"] = number_matched
    tail["numberReturned"] = len(features)
    tail["timeStamp"] = now_stamp()
    tail["links"] = links
    return b"".join(
        (
            b'{"type":"FeatureCollection","features":[',
            b",".join(features),
            b"],",
            orjson.dumps(tail)[1:],
        )
    )


def single_feature(feature: bytes, links: list[dict[str, str]]) -> bytes:
    """One feature with its links appended."""
    return b"".join((feature[:-1], b',"links":', orjson.dumps(links), b"}"))


def swap_axes(feature: bytes) -> bytes:
    """Rewrite a CRS84 feature with latitude first, as EPSG:4326 prescribes."""
    doc = orjson.loads(feature)
    geometry = doc.get("geometry")
    if geometry:
        geometry["coordinates"] = _swap(geometry["coordinates"])
    props = doc.get("properties") or {}
    meeting = props.get("meeting_place")
    if isinstance(meeting, dict) and "coordinates" in meeting:
        meeting["coordinates"] = _swap(meeting["coordinates"])
    return orjson.dumps(doc)


def _swap(coords: Any) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [_swap(c) for c in coords]
