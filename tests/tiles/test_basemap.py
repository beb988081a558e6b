"""The Danish base map route against a stand-in of Dataforsyningen's WMS: each Web Mercator
tile is one GetMap of its box in EPSG:3857 with the token kept on the server, kept after the
first answer, Denmark only; a refused token, a ServiceException (status 200), a 503 or a
non-image is a 502 that names no token and is not kept; the widget's map data points to the
route with the provider's attribution."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.config import Settings
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.tiles.basemap import PREFIX, mercator_box
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import wsgi_call
from tests.standins.wms_server import WmsServer

NYKOBING = (14, 8732, 5200)  # z, x, y: Nykøbing Falster
SAHARA = (14, 8192, 7000)


@pytest.fixture()
def wms() -> Iterator[WmsServer]:
    with WmsServer() as server:
        yield server


def _app(tmp: Path, wms: WmsServer | None, **extra: Any) -> tuple[WsgiApp, Services]:
    settings = Settings(
        store_url=f"sqlite:///{tmp / 'm.db'}",
        blobs_url=str(tmp / "blobs"),
        basemap_wms=wms.url if wms else None,
        basemap_token=wms.token if wms else None,
        **extra,
    )
    services = Services(settings)
    return WsgiApp(ROUTES, services), services


def _get(app: WsgiApp, path: str, **headers: str) -> dict[str, Any]:
    return wsgi_call(app, "GET", path, HOST="127.0.0.1:8000", **headers)


def _path(z: int, x: int, y: int) -> str:
    return f"/basemap/{z}/{x}/{y}.png"


def test_a_tile_is_one_getmap_of_its_box_and_is_kept(tmp_path: Path, wms: WmsServer) -> None:
    app, services = _app(tmp_path, wms)
    try:
        first = _get(app, _path(*NYKOBING))
        assert first["status"] == 200 and first["headers"]["Content-Type"] == "image/png"
        assert first["body"].startswith(b"\x89PNG")
        (asked,) = wms.requests
        assert not any("token" in path for path in wms.paths)  # a header, never the URL
        assert asked["srs"] == "EPSG:3857" and asked["layers"] == "dtk_skaermkort_daempet"
        assert (asked["width"], asked["height"]) == ("256", "256")
        box = [float(v) for v in asked["bbox"].split(",")]
        assert box == pytest.approx(mercator_box(*NYKOBING), abs=0.01)
        # the box is the tile's: 2 x 20037508.34 m / 2^14 wide, and Nykøbing (11.87 E) inside
        assert box[2] - box[0] == pytest.approx(2 * 20037508.342789244 / 2**14)
        assert box[0] < 11.8729 * 20037508.342789244 / 180 < box[2]
        merc_y = math.log(math.tan(math.pi / 4 + math.radians(54.7691) / 2)) * 6378137
        assert box[1] < merc_y < box[3]
        again = _get(app, _path(*NYKOBING))
        assert again["body"] == first["body"] and len(wms.requests) == 1  # kept
        assert (tmp_path / "blobs" / PREFIX).exists()
        etag = again["headers"]["ETag"]
        assert _get(app, _path(*NYKOBING), IF_NONE_MATCH=etag)["status"] == 304
        assert "max-age=604800" in again["headers"]["Cache-Control"]
    finally:
        services.close()


@pytest.mark.parametrize(
    "path",
    [_path(*SAHARA), "/basemap/4/8/5.png", "/basemap/19/1/1.png", "/basemap/14/x/1.png",
     "/basemap/14/99999/1.png", "/basemap/14/8732/%E0%A5%A7.png"],
)  # fmt: skip
def test_only_denmark_and_the_widgets_zooms_are_drawn(
    tmp_path: Path, wms: WmsServer, path: str
) -> None:
    app, services = _app(tmp_path, wms)
    try:
        answer = _get(app, path)
        assert answer["status"] == 404 and orjson.loads(answer["body"])["description"]
        assert wms.requests == []  # never asked: not an open proxy of the token
    finally:
        services.close()


@pytest.mark.parametrize("fault", ["exception", "unavailable", "not-an-image", "token"])
def test_a_wms_that_gives_no_tile_is_a_502_that_names_no_token_and_is_not_kept(
    tmp_path: Path, wms: WmsServer, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, services = _app(tmp_path, wms)
    try:
        if fault == "token":
            wms.token = "another-token"  # the one configured is refused by the gateway
        else:
            wms.fault = fault
        caplog.set_level(logging.WARNING, logger="mikrokort")
        answer = _get(app, _path(*NYKOBING))
        assert answer["status"] == 502
        doc = orjson.loads(answer["body"])
        assert doc["code"] == "BaseMapUnavailable"
        secret = "wms-test-token"
        assert secret not in answer["body"].decode() and secret not in caplog.text
        # once the service is well again, the tile is drawn: nothing bad was kept
        wms.fault, wms.token = None, secret
        assert _get(app, _path(*NYKOBING))["body"].startswith(b"\x89PNG")
    finally:
        services.close()


def test_without_a_configured_wms_there_is_no_route_and_the_map_keeps_its_tiles(
    tmp_path: Path,
) -> None:
    app, services = _app(tmp_path, None)
    try:
        assert _get(app, _path(*NYKOBING))["status"] == 404
    finally:
        services.close()


def test_the_map_data_points_the_widget_to_the_route(tmp_path: Path, wms: WmsServer) -> None:
    from chalicelib.domain.reference import load_municipalities

    app, services = _app(tmp_path, wms)
    try:
        services.store.upsert_municipalities(load_municipalities(["376"]))
        doc = orjson.loads(_get(app, "/municipalities/376/map-data")["body"])
        assert doc["tiles"] == {
            "url": "http://127.0.0.1:8000/basemap/{z}/{x}/{y}.png",
            "attribution": "Skærmkort: © Klimadatastyrelsen",
        }
    finally:
        services.close()


def test_many_readers_of_one_tile_get_the_same_image(tmp_path: Path, wms: WmsServer) -> None:
    wms.fault, wms.delay_s = "slow", 0.05
    app, services = _app(tmp_path, wms)
    try:
        bodies: list[bytes] = []
        lock = threading.Lock()

        def read() -> None:
            answer = _get(app, _path(*NYKOBING))
            with lock:
                bodies.append(answer["body"] if answer["status"] == 200 else b"")

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(bodies) == 8 and len(set(bodies)) == 1 and bodies[0].startswith(b"\x89PNG")
        assert 1 <= len(wms.requests) <= 8
    finally:
        services.close()
