"""A tile's content: the public businesses in it as points, or as clusters at the map's low zooms.

The tile carries a few of each feature's public properties (never more than its GeoJSON
feature, which the privacy rules have shaped already), so a map can draw and filter without
asking for the features themselves:
- from `POINT_ZOOM` on, one point per business: id, name, industry, size, status, networks,
  as long as the tile holds at most `POINTS_PER_TILE` of the selection;
- below it, and in a tile that holds more (a city centre at street zoom), one point per
  occupied cell of an 8 x 8 grid, at the mean position of the businesses in the cell, with
  `count` and the counts per industry section (`n_F`, and `n_unknown` where the section is
  unknown), so a filter by section is a sum the map can do.
A map tells them apart by `cluster` (true on a cluster only), never by the zoom.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.geo import WORLD_BITS
from chalicelib.store import ClusterCell, TilePoint
from chalicelib.tiles.matrix import EXTENT
from chalicelib.tiles.pbf import PointFeature, Scalar, encode_layer

LAYER = "businesses"
POINT_ZOOM = 13  # about 3 km a tile in Denmark: the zoom of a town's streets
# More points than this in one 256-pixel tile are a blot, not a map (one every 10 pixels or so),
# and the tile would outgrow 100 KB: the tile is clustered instead, and the map zooms further.
POINTS_PER_TILE = 500
POINT_PROPERTIES = ("name", "industry_code", "industry_section", "employees", "status", "networks")


PLACES_LAYER = "network-meeting-places"
PLACE_PROPERTIES = ("name", "member_count", "meeting_place_name", "municipalities", "website")


_EXTENT_BITS = EXTENT.bit_length() - 1  # 4096 = 2^12


def _clamped(v: int) -> int:
    return min(EXTENT, max(0, v))


def encode_points(features: Iterable[TilePoint], z: int, y: int, x: int) -> bytes:
    """One point per business, with its id as the MVT feature id where it is a number."""
    return _point_layer(LAYER, POINT_PROPERTIES, features, z, y, x, numeric_ids=True)


def encode_places(features: Iterable[TilePoint], z: int, y: int, x: int) -> bytes:
    """One point per network meeting place (a few hundred in the whole country: never
    clustered), with the network's id and the properties a map labels and links with."""
    return _point_layer(PLACES_LAYER, PLACE_PROPERTIES, features, z, y, x, numeric_ids=False)


def _point_layer(
    layer: str,
    keys: tuple[str, ...],
    features: Iterable[TilePoint],
    z: int,
    y: int,
    x: int,
    *,
    numeric_ids: bool,
) -> bytes:
    """A layer of GeoJSON points in the tile (by their world coordinates): each with `id` and
    those of `keys` it has (not empty), and with `numeric_ids` its id as the MVT feature id
    where it is a number. The place in the tile's grid is the world coordinates' bits below the
    tile's: integer arithmetic, the same rule that put the point in this tile."""
    shift = WORLD_BITS - z
    x0, y0 = x << shift, y << shift
    out: list[PointFeature] = []
    for f, wx, wy in features:
        fid = str(f["id"])
        props: dict[str, Scalar] = {"id": fid}
        p = f["properties"]
        for k in keys:
            if (v := p.get(k)) is not None and v != "":
                props[k] = v
        mvt_id = int(fid) if numeric_ids and fid.isdigit() else None
        px = ((wx - x0) << _EXTENT_BITS) >> shift
        py = ((wy - y0) << _EXTENT_BITS) >> shift
        out.append((mvt_id, px, py, props))
    return encode_layer(layer, out, EXTENT)


def encode_clusters(cells: Iterable[ClusterCell], z: int, y: int, x: int) -> bytes:
    """One point per occupied cell, at the mean place of its businesses, with their count and
    their counts per industry section."""
    scale = EXTENT / (1 << (WORLD_BITS - z))  # grid units per world unit at this zoom
    out: list[PointFeature] = []
    for c in cells:
        props: dict[str, Scalar] = {"count": c.count, "cluster": True}
        props.update((f"n_{s or 'unknown'}", n) for s, n in sorted(c.sections.items()))
        px = round(c.sum_wx / c.count * scale) - x * EXTENT
        py = round(c.sum_wy / c.count * scale) - y * EXTENT
        out.append((c.cell + 1, _clamped(px), _clamped(py), props))
    return encode_layer(LAYER, out, EXTENT)
