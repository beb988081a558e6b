"""The network meeting places as vector tiles, on the demo data: each in exactly one tile at a
zoom, where its feature is, with the network's id and public properties only; the collection
and its tilesets link the tiles; the items' filters select what a tile holds."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import mapbox_vector_tile
import requests

from chalicelib.tiles.matrix import EXTENT, tile_bbox
from chalicelib.tiles.mvt import PLACE_PROPERTIES
from tests.conftest import walk

COLLECTION = "/collections/network-meeting-places"
TILES = COLLECTION + "/tiles/WebMercatorQuad"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    s = math.sin(math.radians(lat))
    n = 1 << z
    return (
        math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n),
        math.floor((lon + 180.0) / 360.0 * n),
    )


def _places(http: requests.Session, api: str, **params: str) -> list[dict[str, Any]]:
    pages = walk(http, f"{api}{COLLECTION}/items", limit=1000, **params)
    return [f for page in pages for f in page["features"]]


def _tile(http: requests.Session, api: str, z: int, y: int, x: int, **params: str) -> list:
    r = http.get(f"{api}{TILES}/{z}/{y}/{x}", params=params or None, timeout=30)
    assert r.status_code == 200, r.text
    layers = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    return layers.get("network-meeting-places", {}).get("features", []) if layers else []


def test_every_meeting_place_is_in_one_tile_where_its_feature_is(
    api: str, http: requests.Session
) -> None:
    places = _places(http, api)
    assert len(places) > 3
    by_id = {f["id"]: f for f in places}
    z = 11
    tiles = Counter(_tile_of(*f["geometry"]["coordinates"], z) for f in places)
    seen: Counter = Counter()
    for y, x in tiles:
        west, _, east, _ = tile_bbox(z, y, x)
        for p in _tile(http, api, z, y, x):
            props = p["properties"]
            seen[props["id"]] += 1
            feature = by_id[props["id"]]
            assert _tile_of(*feature["geometry"]["coordinates"], z) == (y, x)
            px, _ = p["geometry"]["coordinates"]
            lon = feature["geometry"]["coordinates"][0]
            assert abs(px - (lon - west) / (east - west) * EXTENT) <= 1
            assert set(props) <= {"id", *PLACE_PROPERTIES}
            for k, v in props.items():
                assert k == "id" or feature["properties"][k] == v, k
    assert seen == Counter(set(by_id))  # each once, none left out


def test_the_items_filters_select_what_a_tile_holds(api: str, http: requests.Session) -> None:
    everything = {p["properties"]["id"] for p in _tile(http, api, 0, 0, 0)}
    for code in ("376", "390"):
        want = {f["id"] for f in _places(http, api, municipality=code)}
        assert want and want < everything
        got = {p["properties"]["id"] for p in _tile(http, api, 0, 0, 0, municipality=code)}
        assert got == want


def test_the_collection_links_its_tiles(api: str, http: requests.Session) -> None:
    coll = http.get(api + COLLECTION).json()
    href = next(x["href"] for x in coll["links"] if x["rel"].endswith("tilesets-vector"))
    tileset = http.get(href).json()["tilesets"][0]
    assert [layer["id"] for layer in tileset["layers"]] == ["network-meeting-places"]
    template = next(x["href"] for x in tileset["links"] if x["rel"] == "item")
    assert template.endswith(
        "/network-meeting-places/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    )
    again = http.get(f"{api}{TILES}/0/0/0")
    tag = again.headers["ETag"]
    assert http.get(f"{api}{TILES}/0/0/0", headers={"If-None-Match": tag}).status_code == 304
    assert http.get(f"{api}{TILES}/0/0/0?industry=F").status_code == 400  # not its filter
