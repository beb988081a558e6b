"""OGC API - Tiles on the demo data (of the store this run uses): every business in exactly one
tile, cluster counts equal to the items' counts of the same selection, points where the
features are (also as GDAL's MVT driver places them), the public properties only, the tile
documents, and the errors."""

from __future__ import annotations

import math
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
import requests

from chalicelib.tiles.matrix import EXTENT, tile_bbox
from chalicelib.tiles.mvt import POINT_ZOOM
from tests.conftest import walk

ITEMS = "/collections/businesses/items"
TILES = "/collections/businesses/tiles/WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"


def _tile_col(lon: float, z: int) -> int:
    return math.floor((lon + 180.0) / 360.0 * (1 << z))


def _tile_row(lat: float, z: int) -> int:
    s = math.sin(math.radians(lat))
    return math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * (1 << z))


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(row, column) of the tile holding a point, computed here independently of the server."""
    return _tile_row(lat, z), _tile_col(lon, z)


def _features(http: requests.Session, api: str, **params: object) -> list[dict[str, Any]]:
    pages = walk(http, api + ITEMS, limit=10_000, **params)
    return [f for p in pages for f in p["features"] if f["geometry"] is not None]


def _tile(http: requests.Session, api: str, z: int, y: int, x: int, **params: object) -> list:
    r = http.get(f"{api}{TILES}/{z}/{y}/{x}", params=params or None, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == MVT
    layers = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    return layers.get("businesses", {}).get("features", []) if layers else []


@pytest.fixture(scope="module")
def placed(api: str, http: requests.Session) -> list[dict[str, Any]]:
    return _features(http, api)


@pytest.fixture(scope="module")
def busiest(placed: list[dict[str, Any]]) -> tuple[int, int, int]:
    """The point-zoom tile holding the most businesses."""
    counts = Counter(_tile_of(*f["geometry"]["coordinates"][:2], POINT_ZOOM) for f in placed)
    (y, x), _ = counts.most_common(1)[0]
    return POINT_ZOOM, y, x


def test_cluster_counts_per_tile_and_section_equal_the_features_there(
    api: str, http: requests.Session, placed: list[dict[str, Any]]
) -> None:
    z = 9
    want = Counter(_tile_of(*f["geometry"]["coordinates"][:2], z) for f in placed)
    want_sections = Counter(
        (_tile_of(*f["geometry"]["coordinates"][:2], z), f["properties"]["industry_section"])
        for f in placed
    )
    assert len(want) > 1  # the demo spans several tiles at this zoom
    got: Counter = Counter()
    got_sections: Counter = Counter()
    for y, x in want:
        for c in _tile(http, api, z, y, x):
            assert c["properties"]["cluster"] is True
            got[(y, x)] += c["properties"]["count"]
            sections = {k[2:]: v for k, v in c["properties"].items() if k.startswith("n_")}
            assert sum(sections.values()) == c["properties"]["count"]
            for s, n in sections.items():
                got_sections[((y, x), None if s == "unknown" else s)] += n
    assert got == want
    assert got_sections == want_sections
    assert sum(got.values()) == len(placed)


def test_a_filtered_tile_counts_what_the_same_items_query_selects(
    api: str, http: requests.Session
) -> None:
    z = 8
    for params in (
        {"industry": "F"},
        {"filter": "employees IN ('2-4', '5-9')"},
        {"status": "ceased"},
    ):
        chosen = _features(http, api, **params)
        want = Counter(_tile_of(*f["geometry"]["coordinates"][:2], z) for f in chosen)
        assert want, params
        got = Counter()
        for y, x in want:
            got[(y, x)] = sum(c["properties"]["count"] for c in _tile(http, api, z, y, x, **params))
        assert got == want, params


def test_points_are_the_features_in_the_tile_with_their_public_properties(
    api: str, http: requests.Session, placed: list[dict[str, Any]], busiest: tuple[int, int, int]
) -> None:
    z, y, x = busiest
    by_id = {f["id"]: f for f in placed}
    want = {f["id"] for f in placed if _tile_of(*f["geometry"]["coordinates"][:2], z) == (y, x)}
    points = _tile(http, api, z, y, x)
    assert {p["properties"]["id"] for p in points} == want
    assert len(points) == len(want) > 1
    west, _, east, _ = tile_bbox(z, y, x)
    for p in points:
        feature = by_id[p["properties"]["id"]]
        lon = feature["geometry"]["coordinates"][0]
        px, py = p["geometry"]["coordinates"]
        # the grid's x is linear in longitude; its y is within the tile from the top
        assert abs(px - (lon - west) / (east - west) * EXTENT) <= 1
        assert 0 <= py <= EXTENT
        for key, value in p["properties"].items():
            assert key == "id" or feature["properties"][key] == value, key


def test_neighbouring_tiles_share_no_business(
    api: str, http: requests.Session, busiest: tuple[int, int, int]
) -> None:
    z, y, x = busiest
    seen: Counter = Counter()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            seen.update(p["properties"]["id"] for p in _tile(http, api, z, y + dy, x + dx))
    assert seen and max(seen.values()) == 1


def test_gdal_places_the_points_where_the_features_are(
    api: str,
    http: requests.Session,
    placed: list[dict[str, Any]],
    busiest: tuple[int, int, int],
    tmp_path: Path,
) -> None:
    z, y, x = busiest
    r = http.get(f"{api}{TILES}/{z}/{y}/{x}", timeout=60)
    tile = tmp_path / "tile.mvt"
    tile.write_bytes(r.content)
    out = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GeoJSON",
            "-t_srs",
            "EPSG:4326",
            "/vsistdout/",
            str(tile),
            "-oo",
            f"Z={z}",
            "-oo",
            f"X={x}",
            "-oo",
            f"Y={y}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    import json

    read = json.loads(out.stdout)["features"]
    by_id = {f["id"]: f for f in placed}
    assert len(read) == len([p for p in _tile(http, api, z, y, x)])
    cell = (tile_bbox(z, y, x)[2] - tile_bbox(z, y, x)[0]) / EXTENT
    for f in read:
        lon, lat = f["geometry"]["coordinates"][:2]
        want = by_id[f["properties"]["id"]]["geometry"]["coordinates"]
        assert abs(lon - want[0]) <= cell and abs(lat - want[1]) <= cell


def test_hidden_and_protected_details_never_reach_a_tile(
    api: str, http: requests.Session, placed: list[dict[str, Any]], busiest: tuple[int, int, int]
) -> None:
    z, y, x = busiest
    keys = {k for p in _tile(http, api, z, y, x) for k in p["properties"]}
    assert not keys & {"phone", "email", "website", "address", "reklamebeskyttet"}


def test_a_revalidated_tile_is_a_304(api: str, http: requests.Session) -> None:
    url = f"{api}{TILES}/9/160/272"
    first = http.get(url, timeout=30)
    assert first.status_code == 200
    again = http.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304


def test_tile_documents_link_the_tiles(api: str, http: requests.Session) -> None:
    assert any(
        link["rel"].endswith("tiling-schemes") for link in http.get(api + "/").json()["links"]
    )
    conf = http.get(api + "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conf
    coll = http.get(api + "/collections/businesses").json()
    tiles_href = next(x["href"] for x in coll["links"] if x["rel"].endswith("tilesets-vector"))
    tilesets = http.get(tiles_href).json()["tilesets"]
    template = next(x["href"] for x in tilesets[0]["links"] if x["rel"] == "item")
    assert template.endswith("/{tileMatrix}/{tileRow}/{tileCol}")
    tms = http.get(api + "/tileMatrixSets/WebMercatorQuad").json()
    assert tms["tileMatrices"][0]["matrixWidth"] == 1
    assert tms["tileMatrices"][9]["matrixWidth"] == 512


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (TILES + "/9/160/x", 400),
        (TILES + "/21/0/0", 404),
        (TILES + "/9/512/0", 404),
        ("/collections/businesses/tiles/WorldCRS84Quad/0/0/0", 404),
        ("/collections/networks/tiles/WebMercatorQuad/0/0/0", 404),  # areas: GeoJSON
        (TILES + "/9/160/272?bbox=1,2,3,4", 400),
        (TILES + "/9/160/272?industry=ZZ", 400),
    ],
)
def test_bad_tile_requests_are_4xx_that_say_why(
    api: str, http: requests.Session, path: str, status: int
) -> None:
    r = http.get(api + path, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()["description"]


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/tileMatrixSets", "text/html", 406),
        ("/tileMatrixSets/WebMercatorQuad", "application/xml", 406),
        ("/collections/businesses/tiles", "text/html", 406),
        ("/collections/businesses/tiles?f=json", "text/html", 200),  # f= wins, as on /items
        ("/tileMatrixSets", "application/json", 200),
        (TILES + "/9/160/272", "application/geo+json", 406),
        (TILES + "/9/160/272", "*/*", 200),
        (TILES + "/9/160/272", "image/webp,*/*;q=0.8", 200),  # what browsers send for images
        (TILES + "/9/160/272", MVT, 200),
    ],
)
def test_tile_resources_negotiate_like_the_feature_documents(
    api: str, http: requests.Session, path: str, accept: str, status: int
) -> None:
    r = http.get(api + path, headers={"Accept": accept}, timeout=30)
    assert r.status_code == status, r.text
    if status == 406 and "text/html" in accept:  # a browser: the error is a page that says it
        assert r.headers["Content-Type"].startswith("text/html")
        assert "cannot produce any of" in r.text
    elif status == 406:
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()["description"]
