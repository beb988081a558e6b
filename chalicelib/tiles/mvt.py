"""A tile's content: the public businesses in it as points, or as clusters at the map's low zooms.

The tile carries a few of each feature's public properties (never more than its GeoJSON
feature, which the privacy rules have shaped already), so a map can draw and filter without
asking for the features themselves:
- from `POINT_ZOOM` on, one point per business: id, name, industry, size, status, networks;
- below it, one point per occupied cell of an 8 x 8 grid, at the mean position of the
  businesses in the cell, with `count` and the counts per industry section (`n_F`, and
  `n_unknown` where the section is unknown), so a filter by section is a sum the map can do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import mapbox_vector_tile
from shapely.geometry import Point

from chalicelib.tiles.matrix import EXTENT, tile_position

LAYER = "businesses"
POINT_ZOOM = 13  # about 3 km a tile in Denmark: the zoom of a town's streets
GRID = 8  # cluster cells per tile side
CLUSTER_CELL = EXTENT // GRID  # grid units per cluster cell: 32 px on a 256 px tile
POINT_PROPERTIES = ("name", "industry_code", "industry_section", "employees", "status", "networks")


def _clamped(v: int) -> int:
    return min(EXTENT, max(0, v))


def encode_points(features: Iterable[dict[str, Any]], z: int, y: int, x: int) -> bytes:
    """One point per business, with its id as the MVT feature id where it is a number."""
    out = []
    for f in features:
        lon, lat = f["geometry"]["coordinates"][:2]
        px, py = tile_position(z, y, x, lon, lat)
        props = {"id": str(f["id"])}
        props.update((k, v) for k in POINT_PROPERTIES if (v := f["properties"].get(k)) is not None)
        item: dict[str, Any] = {"geometry": Point(_clamped(px), _clamped(py)), "properties": props}
        if str(f["id"]).isdigit():
            item["id"] = int(f["id"])
        out.append(item)
    return _encode(out)


def encode_clusters(features: Iterable[dict[str, Any]], z: int, y: int, x: int) -> bytes:
    """The businesses counted per grid cell; a cell's point is its businesses' mean place."""
    cells: dict[tuple[int, int], list[Any]] = {}  # cell -> [count, sum x, sum y, {section: n}]
    for f in features:
        lon, lat = f["geometry"]["coordinates"][:2]
        px, py = (_clamped(v) for v in tile_position(z, y, x, lon, lat))
        key = (min(px // CLUSTER_CELL, GRID - 1), min(py // CLUSTER_CELL, GRID - 1))
        cell = cells.setdefault(key, [0, 0, 0, {}])
        cell[0] += 1
        cell[1] += px
        cell[2] += py
        section = f["properties"].get("industry_section") or "unknown"
        cell[3][section] = cell[3].get(section, 0) + 1
    out = []
    for (cx, cy), (n, sx, sy, sections) in sorted(cells.items()):
        props: dict[str, Any] = {"count": n, "cluster": True}
        props.update((f"n_{s}", c) for s, c in sorted(sections.items()))
        out.append(
            {
                "id": cy * GRID + cx + 1,
                "geometry": Point(round(sx / n), round(sy / n)),
                "properties": props,
            }
        )
    return _encode(out)


def _encode(features: list[dict[str, Any]]) -> bytes:
    layer = {"name": LAYER, "features": features}
    return bytes(
        mapbox_vector_tile.encode(
            [layer], default_options={"extents": EXTENT, "y_coord_down": True}
        )
    )
