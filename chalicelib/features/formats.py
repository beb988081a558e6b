"""The items in JSON-FG and in CSV: pure functions from a page of features to the bytes sent.

Both take GeoJSON Features (dicts) whose properties are flat: strings, numbers, booleans, null.

JSON-FG is OGC Features and Geometries JSON - Part 1: Core, version 1.0 (OGC 21-045r1). What
it adds to GeoJSON, and the rules followed here:

* `conformsTo` in the root object only (req /req/core/metadata): the Core class, and the
  "Feature Types and Schemas" class because the documents carry `featureType` (item H);
* `featureType` once on a collection, as the standard recommends for homogeneous collections
  (/rec/types-schemas/homogeneous-collection), and on a single feature, where it is required
  (/req/types-schemas/feature-type); `geometryDimension` when the page's primary geometries
  share one dimension;
* `coordRefSys` in the root object only (/req/core/same-crs); it applies to `place`, never to
  `geometry` (clause 7, "Reference systems");
* `geometry` always WGS 84 longitude/latitude (/req/core/geometry-wgs84); `place` null when
  the requested CRS is CRS84, since a GeoJSON geometry belongs in `geometry` and `place` must
  not hold one in CRS84 (/req/core/place-geometries); in any other CRS `place` holds the
  geometry in that CRS, in its axis order (/req/core/axis-order: latitude first in EPSG:4326),
  and `geometry` holds the WGS 84 fallback the caller supplies, or null without one (clause 7,
  'Use of "geometry" and/or "place"');
* `time`: null or an object with `date`, `timestamp` and/or `interval` (/req/core/instant,
  /req/core/interval), which the caller derives from the properties;
* a `profile` link: jsonfg-plus when every feature with a `place` also has a `geometry`,
  the sign clause 7 gives for fallback geometries; jsonfg otherwise.

CSV follows RFC 4180 (comma, CRLF, quotes doubled, a field quoted when it needs to be) in UTF-8
without a byte-order mark: GDAL and QGIS read UTF-8 as it is, and a BOM would only serve Excel,
which the published snapshot's own CSV files are written for. Unlike those, the API's CSV is
for programs: every text is written as it is (no leading quote before a formula sign), so what
GDAL reads back is the feature's value.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any

import orjson

from chalicelib.features.documents import now_stamp

JSONFG = "application/vnd.ogc.fg+json"
CSV = "text/csv; charset=utf-8"

JSONFG_CORE = "http://www.opengis.net/spec/json-fg-1/1.0/conf/core"
JSONFG_TYPES_SCHEMAS = "http://www.opengis.net/spec/json-fg-1/1.0/conf/types-schemas"
CONFORMS_TO = [JSONFG_CORE, JSONFG_TYPES_SCHEMAS]

PROFILE_JSONFG = "http://www.opengis.net/def/profile/OGC/0/jsonfg"
PROFILE_JSONFG_PLUS = "http://www.opengis.net/def/profile/OGC/0/jsonfg-plus"

# The URIs of WGS 84 longitude/latitude: a geometry in one of them is a GeoJSON geometry.
_CRS84 = frozenset(
    f"http://www.opengis.net/def/crs/OGC/{version}/{name}"
    for version in ("0", "1.3")
    for name in ("CRS84", "CRS84h")
)

# Dimension of each GeoJSON geometry type (GeometryCollection has none of its own).
_DIMENSION = {
    "Point": 0,
    "MultiPoint": 0,
    "LineString": 1,
    "MultiLineString": 1,
    "Polygon": 2,
    "MultiPolygon": 2,
}

# The geometry column's name: GDAL's CSV driver (and so QGIS) reads a column named WKT as the
# layer's geometry without being told.
WKT_COLUMN = "WKT"

TimeOf = Callable[[dict[str, Any]], dict[str, Any] | None]
GeometryOf = Callable[[dict[str, Any]], dict[str, Any] | None]


def is_crs84(crs: str) -> bool:
    return crs in _CRS84


# -- JSON-FG ------------------------------------------------------------------------------------


def _jsonfg_members(
    feature: dict[str, Any],
    crs: str,
    time_of: TimeOf,
    wgs84_geometry_of: GeometryOf | None,
) -> dict[str, Any]:
    """time, place and geometry of one feature, by the rules in the module's docstring."""
    geometry = feature.get("geometry")
    if is_crs84(crs) or geometry is None:
        place, fallback = None, geometry
    else:
        place = geometry
        fallback = wgs84_geometry_of(feature) if wgs84_geometry_of else None
    return {"time": time_of(feature.get("properties") or {}), "place": place, "geometry": fallback}


def _jsonfg_feature(members: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "Feature"}
    if "id" in feature:
        doc["id"] = feature["id"]
    doc.update(members)
    doc["properties"] = feature.get("properties")
    return doc


def _dimension(members: list[dict[str, Any]]) -> int | None:
    """The dimension every primary geometry (place, or geometry where place is null) has, or
    None when they differ or there is none."""
    found = set()
    for m in members:
        primary = m["place"] or m["geometry"]
        if primary is not None:
            found.add(_DIMENSION.get(primary["type"]))
    return found.pop() if len(found) == 1 and None not in found else None


def _with_profile(
    links: list[dict[str, str]], members: list[dict[str, Any]]
) -> list[dict[str, str]]:
    if any(link.get("rel") == "profile" for link in links):
        return links
    plus = all(m["geometry"] is not None for m in members if m["place"] is not None)
    href = PROFILE_JSONFG_PLUS if plus else PROFILE_JSONFG
    return [*links, {"href": href, "rel": "profile", "title": "JSON-FG profile of this document"}]


def jsonfg_collection(
    features: list[dict[str, Any]],
    links: list[dict[str, str]],
    number_matched: int | None,
    *,
    crs: str,
    feature_type: str,
    time_of: TimeOf,
    wgs84_geometry_of: GeometryOf | None = None,
) -> bytes:
    """The items document in JSON-FG.

    `features` carry their geometry in `crs`; outside CRS84 that geometry becomes `place`, and
    `wgs84_geometry_of(feature)` gives the WGS 84 longitude/latitude `geometry` (null without
    it). `time_of(properties)` gives the feature's `time` object or None.
    """
    members = [_jsonfg_members(f, crs, time_of, wgs84_geometry_of) for f in features]
    head: dict[str, Any] = {
        "type": "FeatureCollection",
        "conformsTo": CONFORMS_TO,
        "featureType": feature_type,
    }
    dimension = _dimension(members)
    if dimension is not None:
        head["geometryDimension"] = dimension
    head["coordRefSys"] = crs
    tail: dict[str, Any] = {}
    if number_matched is not None:
        tail["numberMatched"] = number_matched
    tail["numberReturned"] = len(features)
    tail["timeStamp"] = now_stamp()
    tail["links"] = _with_profile(links, members)
    return b"".join(
        (
            orjson.dumps(head)[:-1],
            b',"features":[',
            b",".join(
                orjson.dumps(_jsonfg_feature(m, f)) for m, f in zip(members, features, strict=True)
            ),
            b"],",
            orjson.dumps(tail)[1:],
        )
    )


def jsonfg_feature(
    feature: dict[str, Any],
    links: list[dict[str, str]],
    *,
    crs: str,
    feature_type: str,
    time_of: TimeOf,
    wgs84_geometry_of: GeometryOf | None = None,
) -> bytes:
    """One feature as a JSON-FG root object: the same members as in a collection, and the
    root's own conformsTo, featureType and coordRefSys."""
    members = _jsonfg_members(feature, crs, time_of, wgs84_geometry_of)
    doc: dict[str, Any] = {
        "type": "Feature",
        "conformsTo": CONFORMS_TO,
        "featureType": feature_type,
        "coordRefSys": crs,
    }
    doc.update(_jsonfg_feature(members, feature))
    doc["links"] = _with_profile(links, [members])
    return orjson.dumps(doc)


# -- CSV ----------------------------------------------------------------------------------------


def csv_value(value: Any) -> str:
    """A property as CSV text: null empty, booleans true/false, numbers as JSON writes them,
    text as it is. A value that is not flat (which the collections do not have) as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ""  # JSON has no NaN or infinity: GeoJSON writes them as null
    return orjson.dumps(value).decode()


def wkt(geometries: list[dict[str, Any] | None]) -> list[str]:
    """Each GeoJSON geometry as WKT ("" for null), coordinates at full precision.

    For a coordinate from 1 to 10^16 in magnitude (all of Denmark's, in degrees or in metres)
    GEOS writes the shortest decimal that reads back as the same double, with no exponent;
    below 1 it writes at most 16 decimals (an error under 10^-16), and an exponent below 10^-4.
    shapely is imported here: it costs about 100 ms of import time, which only a CSV answer
    should pay.
    """
    import numpy as np
    import shapely
    from shapely.geometry import shape

    shapes = np.array([shape(g) if g else None for g in geometries], dtype=object)
    texts = shapely.to_wkt(shapes, rounding_precision=-1, trim=True)
    return ["" if t is None else str(t) for t in texts]


def csv_collection(features: list[dict[str, Any]], columns: list[str]) -> bytes:
    """The items as CSV: a header row `id`, the property columns in the given order, `WKT`;
    then one row per feature (a property a feature lacks is empty)."""
    if "id" in columns or WKT_COLUMN in columns:
        raise ValueError(f"'id' and '{WKT_COLUMN}' are the table's own columns, not properties")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["id", *columns, WKT_COLUMN])
    texts = wkt([f.get("geometry") for f in features])
    for feature, text in zip(features, texts, strict=True):
        props = feature.get("properties") or {}
        writer.writerow(
            [csv_value(feature.get("id")), *(csv_value(props.get(c)) for c in columns), text]
        )
    return buf.getvalue().encode()
