"""`/places`: the towns of the reference data by name or postcode (also without a geocoder),
and addresses from Gsearch when one is configured (a stand-in here), limited to a municipality
when asked; a geocoder that fails costs the addresses only and the answer says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.config import Settings
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import wsgi_call
from tests.standins.gsearch_server import GsearchStandIn

TOKEN = "places-token"


@pytest.fixture()
def gsearch() -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as server:
        server.add_address("a1", "Langgade", "12", "4800", "Nykøbing F", "376", 11.8729, 54.7691)
        server.add_address("a2", "Langgade", "14", "4800", "Nykøbing F", "376", 11.8735, 54.7693)
        server.add_address("a3", "Langgade", "12", "4760", "Vordingborg", "390", 11.91, 55.01)
        yield server


def _app(tmp: Path, gsearch: GsearchStandIn | None) -> tuple[WsgiApp, Services]:
    services = Services(
        Settings(
            store_url=f"sqlite:///{tmp / 'm.db'}",
            blobs_url=str(tmp / "blobs"),
            geocoder_url=gsearch.base_url if gsearch else None,
            geocoder_token=TOKEN if gsearch else None,
        )
    )
    return WsgiApp(ROUTES, services), services


def _places(app: WsgiApp, query: str) -> tuple[int, dict[str, Any]]:
    answer = wsgi_call(app, "GET", "/places", query, HOST="127.0.0.1:8000")
    return answer["status"], orjson.loads(answer["body"])


def test_towns_by_name_and_by_postcode_without_a_geocoder(tmp_path: Path) -> None:
    app, services = _app(tmp_path, None)
    try:
        status, doc = _places(app, "q=stubbek")
        assert status == 200 and doc["complete"] is True
        first = doc["features"][0]
        assert first["properties"] == {
            "name": "4850 Stubbekøbing",
            "kind": "town",
            "postcode": "4850",
        }
        lon, lat = first["geometry"]["coordinates"]
        assert 11.9 < lon < 12.1 and 54.8 < lat < 54.95
        # folded spellings find it too; a postcode finds its district
        assert _places(app, "q=nykobing")[1]["features"][0]["properties"]["postcode"] in (
            "4800",
            "4500",
            "7900",
        )
        assert _places(app, "q=4850")[1]["features"][0]["properties"]["name"] == "4850 Stubbekøbing"
        # in one municipality only: Nykøbing Mors (7900) and Nykøbing Sj (4500) are not in 376
        names = [
            f["properties"]["name"]
            for f in _places(app, "q=nyk%C3%B8bing&municipality=376")[1]["features"]
        ]
        assert names == ["4800 Nykøbing F"]
    finally:
        services.close()


@pytest.mark.parametrize(
    "query", ["q=a", "", "q=" + "x" * 101, "q=stege&limit=0", "q=stege&limit=21", "q=stege&nope=1",
              "q=stege&municipality=12345"],
)  # fmt: skip
def test_bad_questions_are_400s_that_say_what(tmp_path: Path, query: str) -> None:
    app, services = _app(tmp_path, None)
    try:
        status, doc = _places(app, query)
        assert status == 400 and doc["description"] and doc.get("parameter")
    finally:
        services.close()


def test_addresses_come_from_the_geocoder_in_the_asked_municipality(
    tmp_path: Path, gsearch: GsearchStandIn
) -> None:
    app, services = _app(tmp_path, gsearch)
    try:
        status, doc = _places(app, "q=langgade%2012&municipality=376")
        assert status == 200 and doc["complete"] is True
        addresses = [f for f in doc["features"] if f["properties"]["kind"] == "address"]
        assert [a["properties"]["name"] for a in addresses] == ["Langgade 12, 4800 Nykøbing F"]
        lon, lat = addresses[0]["geometry"]["coordinates"]
        assert abs(lon - 11.8729) < 1e-5 and abs(lat - 54.7691) < 1e-5
        assert doc["features"][0] == addresses[0]  # it looks like an address: first
        assert (
            gsearch.last_params is not None
            and gsearch.last_params["filter"] == "kommunekode = '0376'"
        )
        # the token went to the geocoder, never into the answer
        assert TOKEN not in orjson.dumps(doc).decode()
    finally:
        services.close()


def test_a_failing_geocoder_costs_the_addresses_only(
    tmp_path: Path, gsearch: GsearchStandIn
) -> None:
    app, services = _app(tmp_path, gsearch)
    try:
        gsearch.fail_next(5, 503)
        status, doc = _places(app, "q=nyk%C3%B8bing")
        assert status == 200 and doc["complete"] is False
        assert doc["features"] and all(f["properties"]["kind"] == "town" for f in doc["features"])
    finally:
        services.close()
