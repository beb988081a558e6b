"""Coordinates, bounding boxes, geometry validation and privacy coarsening of points.

shapely is imported lazily: it costs about 100 ms of import time, and the read path of the API
never needs it (features are rendered when they are written).
"""

from __future__ import annotations

import math
from typing import Any

# Denmark including Bornholm and Ertholmene, with a margin of a few kilometres of sea.
DENMARK_BOUNDS: tuple[float, float, float, float] = (7.9, 54.5, 15.3, 57.85)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"

# The privacy grid: 1/250 degree of longitude by 1/450 degree of latitude, about 250 m x 247 m
# at 55.5 N. A coarsened point is the centre of its cell.
GRID_LON_STEP = 1 / 250
GRID_LAT_STEP = 1 / 450

BBox = tuple[float, float, float, float]


def in_denmark(lon: float, lat: float) -> bool:
    """True when the point lies inside Denmark's bounding box (a cheap sanity check)."""
    minx, miny, maxx, maxy = DENMARK_BOUNDS
    return minx <= lon <= maxx and miny <= lat <= maxy


def snap_to_grid(lon: float, lat: float) -> tuple[float, float]:
    """Centre of the ~250 m privacy-grid cell holding the point: hides a home address."""
    cx = (math.floor(lon / GRID_LON_STEP) + 0.5) * GRID_LON_STEP
    cy = (math.floor(lat / GRID_LAT_STEP) + 0.5) * GRID_LAT_STEP
    return round(cx, 6), round(cy, 6)


# Web Mercator "world coordinates" as integers: the square world is 2^32 units a side, origin
# top left. A tile at zoom z is then a bit prefix: (wx >> (32 - z), wy >> (32 - z)) == (x, y).
WORLD_BITS = 32
_WORLD = 1 << WORLD_BITS
_MAX_LAT = 85.05112878  # the Web Mercator square's edge


def web_mercator_world(lon: float, lat: float) -> tuple[int, int]:
    """The point's integer place in the Web Mercator world (0 to 2^32 - 1 on both axes).

    Why integers: tile membership and cluster cells become shifts that SQL can index and
    group by, and one rule decides which tile a point on a tile edge belongs to (the one to
    its south-east, as floor does), in Python and in the database alike.
    """
    fx = (lon + 180.0) / 360.0
    s = math.sin(math.radians(max(-_MAX_LAT, min(_MAX_LAT, lat))))
    fy = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return (
        min(_WORLD - 1, max(0, math.floor(fx * _WORLD))),
        min(_WORLD - 1, max(0, math.floor(fy * _WORLD))),
    )


def _spread_bits(v: int) -> int:
    """The 32 bits of v moved to the even bit positions of a 64-bit integer."""
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def quadkey(wx: int, wy: int, zoom: int) -> int:
    """The tile at `zoom` holding a world point, as the integer whose base-4 digits are its path
    down the tile quadtree (the Z-order of the tiles: x bits even, y bits odd).

    Why: every tile of a lower zoom is one contiguous range of these keys, so rows keyed by
    them lie together by place, whatever order they were written in.
    """
    shift = WORLD_BITS - zoom
    return _spread_bits(wx >> shift) | (_spread_bits(wy >> shift) << 1)


def _tile_lat(y: float, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def tile_bounds(z: int, y: int, x: int) -> BBox:
    """A Web Mercator tile's box in lon/lat (west, south, east, north); row 0 is the north."""
    n = 1 << z
    return (
        x / n * 360.0 - 180.0,
        _tile_lat(y + 1, n),
        (x + 1) / n * 360.0 - 180.0,
        _tile_lat(y, n),
    )


def bbox_area(b: BBox) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def bbox_intersection(a: BBox, b: BBox) -> BBox | None:
    minx, miny = max(a[0], b[0]), max(a[1], b[1])
    maxx, maxy = min(a[2], b[2]), min(a[3], b[3])
    if minx > maxx or miny > maxy:
        return None
    return (minx, miny, maxx, maxy)


def validate_area(geometry: dict[str, Any]) -> dict[str, Any]:
    """Check a GeoJSON Polygon/MultiPolygon: valid (OGC simple features) and inside Denmark."""
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("an area must be a GeoJSON Polygon or MultiPolygon")
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ValueError(f"not a readable GeoJSON geometry: {exc}") from None
    if geom.is_empty:
        raise ValueError("the area is empty")
    if not geom.is_valid:
        raise ValueError(f"the area is not a valid geometry: {explain_validity(geom)}")
    minx, miny, maxx, maxy = geom.bounds
    if not (in_denmark(minx, miny) and in_denmark(maxx, maxy)):
        raise ValueError("the area lies (partly) outside Denmark")
    return geometry


def geometry_bounds(geometry: dict[str, Any]) -> BBox:
    """Bounding box of a GeoJSON geometry, without shapely (walks the coordinate arrays)."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    walk(geometry["coordinates"])
    return (min(xs), min(ys), max(xs), max(ys))


def geometry_intersects_bbox(geometry: dict[str, Any], bbox: BBox) -> bool:
    """Exact test of a geometry against a bbox (after a cheap envelope test has passed)."""
    if geometry["type"] == "Point":
        x, y = geometry["coordinates"][:2]
        return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]
    from shapely.geometry import box, shape

    return bool(shape(geometry).intersects(box(*bbox)))
