"""A small map drawn on the server as SVG: the page's features over their municipalities'
outlines, in Web Mercator.

Why not a tiled map: a page must show where things are without a script, a tile server or a
third party seeing the visitor, and it must stay light (an items page of 100 features is a few
kilobytes of SVG). The map is an image (`role="img"` with a text alternative); the table or
the facts beside it carry the same information for a screen reader, and the interactive map
is one link away. Points are drawn as circles, areas as paths; a point's precision (address,
grid, postcode) is the feature's own, so the map never shows more than the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from chalicelib.domain.geo import WORLD_BITS, web_mercator_world
from chalicelib.web.pages import e

_WORLD = 1 << WORLD_BITS

WIDTH, HEIGHT = 640, 400
_PAD = 0.08  # of the drawn extent on each side
_MIN_SPAN = 0.01  # degrees: a single point gets a neighbourhood around it


def _world(lon: float, lat: float) -> tuple[float, float]:
    """The point's place in the Web Mercator world, 0 to 1 from the top left (the integer
    world of geo.web_mercator_world, scaled)."""
    wx, wy = web_mercator_world(lon, lat)
    return wx / _WORLD, wy / _WORLD


def _positions(geometry: dict[str, Any]) -> Iterable[list[float]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        yield coords
    elif kind in ("MultiPoint", "LineString"):
        yield from coords
    elif kind in ("Polygon", "MultiLineString"):
        for ring in coords:
            yield from ring
    elif kind == "MultiPolygon":
        for polygon in coords:
            for ring in polygon:
                yield from ring


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for polygon in coords for ring in polygon]
    return []


@lru_cache(maxsize=128)
def outline(kommunekode: str) -> dict[str, Any] | None:
    """A municipality's boundary, simplified for a small map (about 100 m), from the reference
    data; None for a code outside it."""
    from shapely.geometry import mapping, shape

    from chalicelib.domain.reference import load_municipalities

    try:
        (municipality,) = load_municipalities([kommunekode])
    except ValueError:
        return None
    simplified = shape(municipality.boundary).simplify(0.001, preserve_topology=True)
    return dict(mapping(simplified))


class _Frame:
    """Maps longitude/latitude into the SVG's pixels, keeping the map's proportions."""

    def __init__(self, positions: list[list[float]]) -> None:
        lons = [p[0] for p in positions]
        lats = [p[1] for p in positions]
        west, east = min(lons), max(lons)
        south, north = min(lats), max(lats)
        if east - west < _MIN_SPAN:
            west, east = west - _MIN_SPAN, east + _MIN_SPAN
        if north - south < _MIN_SPAN / 2:
            south, north = south - _MIN_SPAN / 2, north + _MIN_SPAN / 2
        (x0, y0), (x1, y1) = _world(west, north), _world(east, south)
        pad_x, pad_y = (x1 - x0) * _PAD, (y1 - y0) * _PAD
        x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
        self.scale = min(WIDTH / (x1 - x0), HEIGHT / (y1 - y0))
        # centre the drawn extent in the frame
        self.ox = x0 - (WIDTH / self.scale - (x1 - x0)) / 2
        self.oy = y0 - (HEIGHT / self.scale - (y1 - y0)) / 2

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = _world(lon, lat)
        return (x - self.ox) * self.scale, (y - self.oy) * self.scale

    def path(self, geometry: dict[str, Any]) -> str:
        parts = []
        for ring in _rings(geometry):
            points = [self.point(lon, lat) for lon, lat, *_ in ring]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        return "".join(parts)


def svg_map(
    features: list[dict[str, Any]],
    outlines: list[dict[str, Any]],
    label: str,
    *,
    frame_on_outlines: bool = False,
) -> str:
    """The map as an inline SVG element, or "" when there is nothing to draw.

    `features` are GeoJSON features (CRS84); `outlines` the boundaries behind them. The view is
    the features' extent (or the outlines' when there are no features, or when asked)."""
    drawn = [f for f in features if f.get("geometry")]
    framing = [p for f in drawn for p in _positions(f["geometry"])]
    if frame_on_outlines or not framing:
        framing = [p for g in outlines for p in _positions(g)] + framing
    if not framing:
        return ""
    frame = _Frame(framing)
    shapes = [
        f'<path d="{frame.path(g)}" fill="#fff" stroke="#555" stroke-width="1.5" '
        'fill-rule="evenodd"/>'
        for g in outlines
    ]
    for f in drawn:
        geometry = f["geometry"]
        if geometry["type"] == "Point":
            x, y = frame.point(*geometry["coordinates"][:2])
            shapes.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#0b4f8a" stroke="#fff" '
                'stroke-width="1.5"/>'
            )
        else:
            shapes.append(
                f'<path d="{frame.path(geometry)}" fill="#0b4f8a" fill-opacity=".25" '
                'stroke="#0b4f8a" stroke-width="2" fill-rule="evenodd"/>'
            )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{e(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f"{''.join(shapes)}</svg>"
    )
