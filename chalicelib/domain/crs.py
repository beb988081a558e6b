"""The coordinate reference systems the API answers in, and the conversions between them.

Features are stored and rendered once, in CRS84 (longitude, latitude). A request may ask for
EPSG:4326 (the same datum, latitude first) or EPSG:25832 (ETRS89 / UTM zone 32N, easting and
northing in metres, what Danish GIS desktops and the national address services use). These pure
functions convert a stored feature on its way out, turn a bbox given in any of the three into the
lon/lat box the stores' indexes can pre-select with, and make the exact intersection test in the
bbox's own CRS, where its edges are straight.

The projection itself is `chalicelib.domain.utm` (pure Python, nanometre agreement with PROJ);
pyproj would add the PROJ library and its database to the Lambda package for this one projection.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from chalicelib.domain.geo import CRS84, EPSG4326, BBox, geometry_intersects_bbox
from chalicelib.domain.utm import utm32_to_wgs84, wgs84_to_utm32

EPSG25832 = "http://www.opengis.net/def/crs/EPSG/0/25832"
SUPPORTED_CRS: tuple[str, ...] = (CRS84, EPSG4326, EPSG25832)

# Where a bbox in EPSG:25832 may lie. Denmark spans about 440 000..895 000 E (Bornholm and
# Ertholmene, east of zone 32, lie at 870 000..895 000 E in it) and 6 045 000..6 405 000 N.
# The envelope is much wider, so that the viewport of a map around Denmark (northern Germany,
# southern Norway and Sweden) is never refused: easting 0..1 200 000 m (500 km west and 700 km
# east of the 9 E central meridian, where the series in `utm` is still exact to well below a
# millimetre) and northing 5 500 000..7 000 000 m (about 49.6 N to 63.1 N). What it catches are
# the usual mistakes: degrees sent with bbox-crs=EPSG:25832, or northing and easting swapped.
UTM32_ENVELOPE: BBox = (0.0, 5_500_000.0, 1_200_000.0, 7_000_000.0)

# Points per edge when a UTM rectangle is mapped to lon/lat, and the widening of the result.
# The extremes of the mapped rectangle lie at its corners or where its top and bottom edges cross
# the central meridian (both are sampled exactly); the samples in between are a safeguard. The
# margin, 1e-7 degree (about a centimetre), covers rounding, so that the lon/lat box always
# contains the whole rectangle.
EDGE_POINTS = 64
BBOX_MARGIN_DEG = 1e-7

# Easting and northing are published to the millimetre.
UTM_DECIMALS = 3

_EPSG_CODES = {"4326": EPSG4326, "25832": EPSG25832}
_EPSG_FORMS = (
    re.compile(r"epsg:(\d+)"),  # EPSG:25832, and the safe CURIE [EPSG:25832]
    re.compile(r"urn:ogc:def:crs:epsg:[0-9.]*:(\d+)"),  # urn:ogc:def:crs:EPSG::25832
    re.compile(r"https?://www\.opengis\.net/def/crs/epsg/0/(\d+)"),
)
_CRS84_FORMS = frozenset(
    (
        "crs84",
        "ogc:crs84",
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "http://www.opengis.net/def/crs/ogc/1.3/crs84",
        "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    )
)


def normalize_crs(value: str) -> str | None:
    """The canonical OGC URI of a supported CRS, from any of the spellings clients send.

    Accepted: the OGC URI (with or without the angle brackets of OGC API - Features, http or
    https), the safe CURIE `[EPSG:25832]`, `EPSG:25832`, `urn:ogc:def:crs:EPSG::25832` (with or
    without a version), and for CRS84 `OGC:CRS84` and `urn:ogc:def:crs:OGC:1.3:CRS84`; letters
    in any case. None for anything else, so the caller can name the parameter in its 400.
    """
    text = value.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("<", ">"), ("[", "]")):
        text = text[1:-1].strip()
    text = text.lower()
    if text in _CRS84_FORMS:
        return CRS84
    for form in _EPSG_FORMS:
        match = form.fullmatch(text)
        if match:
            return _EPSG_CODES.get(match.group(1))
    return None


def _canonical(crs: str) -> str:
    canonical = normalize_crs(crs)
    if canonical is None:
        raise ValueError(f"unsupported CRS {crs!r}; supported: {', '.join(SUPPORTED_CRS)}")
    return canonical


# --- geometries and features -----------------------------------------------------------------


def _map_positions(coords: Any, convert: Callable[[float, float], tuple[float, float]]) -> Any:
    """The nested coordinate arrays of a geometry with each position converted (heights kept)."""
    if coords and isinstance(coords[0], (int, float)):
        x, y = convert(coords[0], coords[1])
        return [x, y, *coords[2:]]
    return [_map_positions(c, convert) for c in coords]


def _map_geometry(
    geometry: dict[str, Any], convert: Callable[[float, float], tuple[float, float]]
) -> dict[str, Any]:
    out = dict(geometry)
    if geometry.get("type") == "GeometryCollection":
        out["geometries"] = [_map_geometry(g, convert) for g in geometry.get("geometries", [])]
    else:
        out["coordinates"] = _map_positions(geometry["coordinates"], convert)
    return out


def _identity(lon: float, lat: float) -> tuple[float, float]:
    return lon, lat


def _swap(lon: float, lat: float) -> tuple[float, float]:
    return lat, lon


def _to_utm32_mm(lon: float, lat: float) -> tuple[float, float]:
    easting, northing = wgs84_to_utm32(lon, lat)
    return round(easting, UTM_DECIMALS), round(northing, UTM_DECIMALS)


_FROM_CRS84 = {CRS84: _identity, EPSG4326: _swap, EPSG25832: _to_utm32_mm}


def to_crs_coordinates(geometry: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """A new GeoJSON geometry (CRS84 in) with its positions in `crs`; None stays None.

    CRS84 positions are copied as they are, EPSG:4326 ones have their axes swapped, EPSG:25832
    ones become easting, northing rounded to the millimetre. The input is never modified: the
    stores hand out shared feature documents.
    """
    if geometry is None:
        return None
    return _map_geometry(geometry, _FROM_CRS84[_canonical(crs)])


def geometry_to_crs84(geometry: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """The inverse of `to_crs_coordinates`: a geometry given in `crs` with CRS84 positions.

    For geometry literals of a filter sent with filter-crs. Only the vertices are converted: a
    long straight edge in UTM is slightly curved in lon/lat (a few metres over 100 km), which is
    below what the 250 m privacy grid of the businesses can show.
    """
    if geometry is None:
        return None
    canonical = _canonical(crs)
    convert = {CRS84: _identity, EPSG4326: _swap, EPSG25832: utm32_to_wgs84}[canonical]
    return _map_geometry(geometry, convert)


def _positions(coords: Any) -> list[list[float]]:
    if coords and isinstance(coords[0], (int, float)):
        return [coords]
    return [p for c in coords for p in _positions(c)]


def _geometry_positions(geometry: dict[str, Any]) -> list[list[float]]:
    if geometry.get("type") == "GeometryCollection":
        return [p for g in geometry.get("geometries", []) for p in _geometry_positions(g)]
    return _positions(geometry["coordinates"])


def feature_to_crs(feature: bytes, crs: str) -> bytes:
    """A stored CRS84 feature (orjson bytes) with its geometry in `crs`.

    CRS84 returns the very bytes given: the common case costs nothing. Otherwise the feature is
    decoded and re-encoded with its geometry converted, and a `bbox` member, if there is one,
    recomputed from the converted positions. The properties are left alone: meeting_place_lon
    and meeting_place_lat are documented as WGS84 longitude and latitude whatever `crs` says.
    """
    canonical = _canonical(crs)
    if canonical == CRS84:
        return feature
    doc = orjson.loads(feature)
    geometry = doc.get("geometry")
    if geometry is not None:
        converted = to_crs_coordinates(geometry, canonical)
        doc["geometry"] = converted
        if "bbox" in doc and converted is not None:
            positions = _geometry_positions(converted)
            if positions:
                xs = [p[0] for p in positions]
                ys = [p[1] for p in positions]
                doc["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    return orjson.dumps(doc)


# --- bounding boxes --------------------------------------------------------------------------


def _numbers(bbox: Any) -> BBox:
    try:
        values = tuple(bbox)
    except TypeError:
        raise ValueError("a bbox is four numbers") from None
    if len(values) != 4:
        raise ValueError(f"a bbox is four numbers, got {len(values)}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError("the bbox values must be numbers")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("the bbox numbers must be finite")
    a, b, c, d = (float(v) for v in values)
    return (a, b, c, d)


def validate_utm32_bbox(bbox: Any) -> BBox:
    """minE,minN,maxE,maxN in metres, EPSG:25832, checked; ValueError says what is wrong.

    Besides finite numbers in order, the box must lie inside `UTM32_ENVELOPE`, a wide area
    around Denmark: a bbox of degrees, or with northing first, is an error to report rather
    than a question whose answer is an empty page.
    """
    min_e, min_n, max_e, max_n = _numbers(bbox)
    if min_e > max_e:
        raise ValueError("bbox minimum easting is above its maximum (minE,minN,maxE,maxN)")
    if min_n > max_n:
        raise ValueError("bbox minimum northing is above its maximum (minE,minN,maxE,maxN)")
    env_min_e, env_min_n, env_max_e, env_max_n = UTM32_ENVELOPE
    if not (env_min_e <= min_e and max_e <= env_max_e):
        raise ValueError(
            f"bbox eastings must lie within {env_min_e:.0f}..{env_max_e:.0f} m for EPSG:25832 "
            "(minE,minN,maxE,maxN in metres)"
        )
    if not (env_min_n <= min_n and max_n <= env_max_n):
        raise ValueError(
            f"bbox northings must lie within {env_min_n:.0f}..{env_max_n:.0f} m for EPSG:25832 "
            "(minE,minN,maxE,maxN in metres; were degrees sent?)"
        )
    return (min_e, min_n, max_e, max_n)


def _validate_lonlat(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> BBox:
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("bbox latitudes must lie within -90..90")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("bbox longitudes must lie within -180..180")
    if min_lat > max_lat:
        raise ValueError("bbox minimum latitude is above its maximum")
    if min_lon > max_lon:
        raise ValueError(
            "bbox minimum longitude is above its maximum (boxes across the antimeridian are not "
            "supported)"
        )
    return (min_lon, min_lat, max_lon, max_lat)


def validate_bbox(bbox: Any, crs: str) -> BBox:
    """A bbox in `crs`'s own axis order, checked (ValueError), as a tuple of four floats.

    CRS84: minLon,minLat,maxLon,maxLat; EPSG:4326: minLat,minLon,maxLat,maxLon; EPSG:25832:
    minE,minN,maxE,maxN (see `validate_utm32_bbox`).
    """
    canonical = _canonical(crs)
    a, b, c, d = _numbers(bbox)
    if canonical == EPSG25832:
        return validate_utm32_bbox((a, b, c, d))
    if canonical == EPSG4326:
        _validate_lonlat(b, a, d, c)
    else:
        _validate_lonlat(a, b, c, d)
    return (a, b, c, d)


def _edge_samples(lo: float, hi: float, extra: tuple[float, ...] = ()) -> list[float]:
    steps = EDGE_POINTS - 1
    values = [lo + (hi - lo) * i / steps for i in range(steps)] + [hi]
    values.extend(v for v in extra if lo < v < hi)
    return values


def utm32_ring(bbox: BBox) -> list[tuple[float, float]]:
    """The boundary of a UTM rectangle as lon/lat points: EDGE_POINTS along each edge, plus
    the central meridian's crossings of the top and bottom edges."""
    min_e, min_n, max_e, max_n = bbox
    central = (500_000.0,)
    eastings = _edge_samples(min_e, max_e, central)
    northings = _edge_samples(min_n, max_n)
    points = [(e, n) for n in (min_n, max_n) for e in eastings]
    points += [(e, n) for e in (min_e, max_e) for n in northings]
    return [utm32_to_wgs84(e, n) for e, n in points]


def bbox_to_crs84(bbox: Any, crs: str) -> BBox:
    """The smallest lon/lat box (CRS84 order) containing a bbox given in `crs`.

    For CRS84 and EPSG:4326 that is the box itself (axes reordered). A UTM rectangle becomes a
    curved shape in lon/lat (its edges bow along the parallels, its sides lean with the meridian
    convergence), so its boundary is sampled and the box around the samples widened by
    BBOX_MARGIN_DEG. The stores pre-select candidates with this box and their lon/lat indexes;
    `geometry_intersects_crs_bbox` then makes the exact test. Raises ValueError for an invalid
    bbox.
    """
    canonical = _canonical(crs)
    a, b, c, d = validate_bbox(bbox, canonical)
    if canonical == CRS84:
        return (a, b, c, d)
    if canonical == EPSG4326:
        return (b, a, d, c)
    ring = utm32_ring((a, b, c, d))
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return (
        min(lons) - BBOX_MARGIN_DEG,
        min(lats) - BBOX_MARGIN_DEG,
        max(lons) + BBOX_MARGIN_DEG,
        max(lats) + BBOX_MARGIN_DEG,
    )


def geometry_intersects_crs_bbox(geometry: dict[str, Any] | None, bbox: BBox, crs: str) -> bool:
    """Exact test of a CRS84 geometry against a bbox given in `crs` (already validated).

    For EPSG:25832 the geometry is projected (at full precision, not rounded to the millimetre)
    and tested against the rectangle there, where its edges are straight; points directly,
    other geometries with shapely. Touching the boundary counts as intersecting, as for the
    lon/lat boxes. A feature without a geometry intersects nothing.
    """
    if geometry is None:
        return False
    canonical = _canonical(crs)
    if canonical == CRS84:
        return geometry_intersects_bbox(geometry, bbox)
    if canonical == EPSG4326:
        return geometry_intersects_bbox(geometry, (bbox[1], bbox[0], bbox[3], bbox[2]))
    if geometry.get("type") == "Point":
        easting, northing = wgs84_to_utm32(*geometry["coordinates"][:2])
        return bbox[0] <= easting <= bbox[2] and bbox[1] <= northing <= bbox[3]
    from shapely.geometry import box, shape

    projected = _map_geometry(geometry, wgs84_to_utm32)
    return bool(shape(projected).intersects(box(*bbox)))
