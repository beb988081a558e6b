"""The WebMercatorQuad tile matrix set (OGC 17-083r4, Annex D.1): tile bounds and its definition.

Pure arithmetic, no I/O: a tile (zoom, row, column) becomes the lon/lat box the stores are
asked for, and a lon/lat point becomes its position in a tile's integer grid (`EXTENT` units,
y down, as Mapbox Vector Tiles place them).
"""

from __future__ import annotations

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.geo import tile_bounds

ID = "WebMercatorQuad"
URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MAX_ZOOM = 20  # about 15 cm a pixel: far below a house; deeper tiles are refused (404)
EXTENT = 4096  # a tile's grid units per side (the MVT default)
_HALF = 20037508.3427892  # metres from the origin to the edge of the square world
_SCALE0 = 559082264.028717  # scale denominator of zoom 0 at 0.28 mm a pixel
_CELL0 = 156543.033928041  # metres a pixel at zoom 0


def parse_tile(matrix: str, row: str, col: str) -> tuple[int, int, int]:
    """(zoom, row, column) from the path; a tile outside the set is a 404 (OGC Tiles 7.1)."""
    try:
        z, y, x = int(matrix), int(row), int(col)
    except ValueError:
        raise InvalidParameter(
            "tileMatrix, tileRow and tileCol are whole numbers: /{tileMatrix}/{tileRow}/{tileCol}"
        ) from None
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(f"tileMatrix {z} is not in {ID} here (0 to {MAX_ZOOM})")
    n = 1 << z
    if not (0 <= y < n and 0 <= x < n):
        raise NotFound(f"tile {z}/{y}/{x} is outside tileMatrix {z} (rows, columns 0 to {n - 1})")
    return z, y, x


def tile_bbox(z: int, y: int, x: int) -> tuple[float, float, float, float]:
    """The tile's box in lon/lat (west, south, east, north)."""
    return tile_bounds(z, y, x)


def tile_mercator_bounds(z: int, y: int, x: int) -> tuple[float, float, float, float]:
    """The tile's box in EPSG:3857 metres (minx, miny, maxx, maxy); row 0 is the north."""
    span = 2 * _HALF / (1 << z)
    minx, maxy = -_HALF + x * span, _HALF - y * span
    return minx, maxy - span, minx + span, maxy


def definition() -> dict[str, object]:
    """The tile matrix set in the OGC Two Dimensional Tile Matrix Set JSON encoding."""
    return {
        "id": ID,
        "title": "Google Maps Compatible for the World",
        "uri": URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": _SCALE0 / (1 << z),
                "cellSize": _CELL0 / (1 << z),
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-_HALF, _HALF],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 1 << z,
                "matrixHeight": 1 << z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }
