"""A tile at street zoom that holds more businesses than a point tile may (a city centre) is
clustered instead, on every adapter, with counts equal to the features in it; the tiles a zoom
further down, each holding fewer, are points again, and together they hold every business once.
A filter that leaves few enough makes the same tile points."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import orjson
import pytest

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business
from chalicelib.store import Store
from chalicelib.tiles.matrix import tile_bbox
from chalicelib.tiles.mvt import POINT_ZOOM, POINTS_PER_TILE
from chalicelib.tiles.service import TilesService
from chalicelib.web.http import HttpRequest
from tests.conftest import ADAPTERS, fresh_store

NYKOBING = (11.872, 54.767)  # Nykøbing Falster, Guldborgsund


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    s = math.sin(math.radians(lat))
    n = 1 << z
    row = math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n)
    return row, math.floor((lon + 180.0) / 360.0 * n)


DENSE = (POINT_ZOOM, *_tile_of(*NYKOBING, POINT_ZOOM))


def _crowded(n: int) -> list[Business]:
    """n active, placed businesses spread over the inner part of the DENSE tile."""
    west, south, east, north = tile_bbox(*DENSE)
    out = []
    for i, b in enumerate(generate_businesses(n * 3, seed=5)):
        if b.status != "active" or b.location is None or b.curated.hidden:
            continue
        fx, fy = (i * 0.6180339) % 1, (i * 0.4142135) % 1
        lon = west + (0.02 + 0.96 * fx) * (east - west)
        lat = south + (0.02 + 0.96 * fy) * (north - south)
        data = b.model_dump()
        data["location"] = {"lon": lon, "lat": lat}
        data["location_precision"] = "address"
        out.append(Business.model_validate(data))
        if len(out) == n:
            return out
    raise AssertionError("the demo generator made too few active businesses")


def _tile(service: TilesService, z: int, y: int, x: int, **params: str) -> list[dict[str, Any]]:
    req = HttpRequest(
        path=f"/collections/businesses/tiles/WebMercatorQuad/{z}/{y}/{x}",
        params={k: [v] for k, v in params.items()},
        headers={},
        base_url="http://127.0.0.1",
    )
    resp = service.tile(req, "businesses", "WebMercatorQuad", str(z), str(y), str(x))
    assert resp.status == 200, resp.body
    layers = mapbox_vector_tile.decode(resp.body, default_options={"y_coord_down": True})
    return layers.get("businesses", {}).get("features", []) if layers else []


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    yield s
    s.close()


def test_a_crowded_tile_is_clustered_and_the_next_zoom_is_points(store: Store) -> None:
    businesses = _crowded(POINTS_PER_TILE + 150)
    store.upsert_businesses(businesses)
    service = TilesService(store)

    shown = _public_in_dense_tile(store, businesses)
    assert len(shown) > POINTS_PER_TILE
    clusters = _tile(service, *DENSE)
    assert clusters and all(c["properties"]["cluster"] is True for c in clusters)
    assert sum(c["properties"]["count"] for c in clusters) == len(shown)
    sections = Counter()
    for c in clusters:
        sections.update({k[2:]: v for k, v in c["properties"].items() if k.startswith("n_") and v})
    assert sections == Counter(shown.values())

    z, y, x = DENSE
    seen: Counter = Counter()
    for dy in (0, 1):
        for dx in (0, 1):
            points = _tile(service, z + 1, 2 * y + dy, 2 * x + dx)
            assert len(points) <= POINTS_PER_TILE
            assert all("cluster" not in p["properties"] for p in points)
            seen.update(p["properties"]["id"] for p in points)
    assert seen == Counter(set(shown))


def test_a_filter_that_leaves_few_makes_the_crowded_tile_points(store: Store) -> None:
    businesses = _crowded(POINTS_PER_TILE + 150)
    store.upsert_businesses(businesses)
    service = TilesService(store)
    shown = _public_in_dense_tile(store, businesses)
    section, _ = Counter(shown.values()).most_common(1)[0]
    chosen = {cvr for cvr, s in shown.items() if s == section}
    assert 0 < len(chosen) <= POINTS_PER_TILE

    points = _tile(service, *DENSE, industry=section)
    assert {p["properties"]["id"] for p in points} == chosen
    assert all(p["properties"]["industry_section"] == section for p in points)


def _public_in_dense_tile(store: Store, businesses: list[Business]) -> dict[str, str]:
    """id -> industry section of the public features whose point lies in the DENSE tile (the
    public point of a sole proprietorship is its postcode's, not its address: the tile counts
    what the public sees)."""
    out = {}
    for b in businesses:
        raw = store.get_feature("businesses", b.id)
        assert raw is not None
        f = orjson.loads(raw)
        if _tile_of(*f["geometry"]["coordinates"][:2], DENSE[0]) == DENSE[1:]:
            out[b.id] = f["properties"].get("industry_section") or "unknown"
    return out
