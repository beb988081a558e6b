"""The Danish base map in Debian's chromium: with a WMS configured, the widget's tiles come
from this service's /basemap route (drawn by a stand-in of Dataforsyningen's WMS, the token
never reaching the browser) and the map names the provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import Stub, Visit, state, widget
from tests.e2e.conftest import demo_site
from tests.standins.wms_server import WmsServer


@pytest.fixture(scope="module")
def wms() -> Iterator[WmsServer]:
    with WmsServer() as server:
        yield server


@pytest.fixture(scope="module")
def danish_site(stub: Stub, demo_stores: Any, wms: WmsServer) -> Iterator[str]:
    with demo_site(
        stub, demo_stores, MIKROKORT_BASEMAP_WMS=wms.url, MIKROKORT_BASEMAP_TOKEN=wms.token
    ) as url:
        yield url


def test_the_widget_draws_the_danish_base_map_through_the_service(
    browser: Any, danish_site: str, wms: WmsServer
) -> None:
    v = Visit(browser)
    try:
        page = v.open(danish_site + "/demo")
        page.wait_for_function(
            """() => [...document.querySelector('[data-mikrokort]').shadowRoot
                 .querySelectorAll('img.leaflet-tile-loaded')].length >= 4""",
            timeout=15_000,
        )
        s = state(page, 0)
        assert s["tiles"] and all(t.startswith(f"{danish_site}/basemap/") for t in s["tiles"])
        assert "Klimadatastyrelsen" in s["attribution"]
        assert widget(page, 0).locator(".mk-notice").is_hidden()  # no failure to report
        assert wms.requests and all(r["srs"] == "EPSG:3857" for r in wms.requests)
        # the browser asked this service only; the token stayed on the server
        assert not [u for u in v.requests if "token" in u or wms.url in u]
        assert v.errors == []
    finally:
        v.close()
