"""The Gsearch v2.0 geocoder against a local stand-in of the service, and the UTM conversion
against PROJ (pyproj, a dev-only dependency)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pyproj import Transformer

from chalicelib.domain.utm import utm32_to_wgs84, wgs84_to_utm32
from chalicelib.intake.geocode import AddressRef, Geocoder, GeocoderUnavailable
from chalicelib.intake.geocode.gsearch import GsearchGeocoder, point_of
from tests.standins.gsearch_server import GsearchStandIn, fold

TOKEN = "test-token-0123456789"
NYKOBING = "0a3f50a0-2b7c-32b8-e044-0003ba298018"
ROSKILDE = "0a3f50a0-75a0-32b8-e044-0003ba298018"
NYKOBING_POINT = (11.8741512, 54.7691327)
ROSKILDE_POINT = (12.0803224, 55.6415214)


# -- conversion ------------------------------------------------------------------------------


def _denmark_grid() -> list[tuple[float, float]]:
    """Points every 0.2 degree of longitude and 0.15 of latitude across Denmark's box."""
    lons = [8 + i * 0.2 for i in range(37)]  # 8.0 .. 15.2
    lats = [54.5 + j * 0.15 for j in range(23)]  # 54.5 .. 57.8
    return [(lon, lat) for lon in lons for lat in lats]


def test_wgs84_to_utm32_matches_proj_to_a_millimetre() -> None:
    proj = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    for lon, lat in _denmark_grid():
        x, y = wgs84_to_utm32(lon, lat)
        px, py = proj.transform(lon, lat)
        assert abs(x - px) < 1e-3 and abs(y - py) < 1e-3, (lon, lat)


def test_utm32_to_wgs84_matches_proj_to_1e7_degrees() -> None:
    proj = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    for lon, lat in _denmark_grid():
        x, y = proj.transform(lon, lat)
        lon2, lat2 = utm32_to_wgs84(x, y)
        assert abs(lon2 - lon) < 1e-7 and abs(lat2 - lat) < 1e-7, (lon, lat)


def test_utm_round_trip() -> None:
    for lon, lat in _denmark_grid():
        lon2, lat2 = utm32_to_wgs84(*wgs84_to_utm32(lon, lat))
        assert abs(lon2 - lon) < 1e-9 and abs(lat2 - lat) < 1e-9, (lon, lat)


def test_utm_known_point_central_meridian() -> None:
    """On the central meridian (9 E) easting is exactly the false easting."""
    x, _ = wgs84_to_utm32(9.0, 56.0)
    assert x == pytest.approx(500000.0, abs=1e-6)


# -- the stand-in ----------------------------------------------------------------------------


@pytest.fixture
def standin() -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as server:
        server.add_address(
            NYKOBING, "Langgade", "12B", "4800", "Nykøbing F", "0376", *NYKOBING_POINT, "2", "th"
        )
        server.add_address(ROSKILDE, "Langgade", "12B", "4000", "Roskilde", "0265", *ROSKILDE_POINT)
        yield server


def _geocoder(server: GsearchStandIn, token: str | None = TOKEN, **kw: Any) -> GsearchGeocoder:
    """Short timeouts and backoff, so failure tests stay fast."""
    options: dict[str, Any] = {"timeout": 0.5, "retries": 2, "backoff": 0.01, **kw}
    return GsearchGeocoder(server.base_url, token, **options)


def _near(got: tuple[float, float] | None, want: tuple[float, float]) -> bool:
    return got is not None and abs(got[0] - want[0]) < 1e-7 and abs(got[1] - want[1]) < 1e-7


def test_standin_folds_case_and_accents(standin: GsearchStandIn) -> None:
    assert fold("Nykøbing F") == ["nykobing", "f"]
    hits = standin.search("Langgade 12B, 4800 Nykøbing F", 5)
    assert [h["id"] for h in hits] == [NYKOBING]
    assert [h["id"] for h in standin.search("LANGGADE 12b nykobing", 5)] == [NYKOBING]
    assert hits[0]["visningstekst"] == "Langgade 12B, 2. th, 4800 Nykøbing F"
    assert standin.search("Langgade 12B", 1) == standin.search("Langgade 12B", 5)[:1]


def test_is_a_geocoder(standin: GsearchStandIn) -> None:
    geocoder: Geocoder = _geocoder(standin)
    assert geocoder.lookup(AddressRef("txt:x", "Langgade 12B, 4000 Roskilde")) is not None


# -- choosing the hit ------------------------------------------------------------------------


def test_lookup_by_address_id_case_insensitive(standin: GsearchStandIn) -> None:
    ref = AddressRef(f"dar:{ROSKILDE}", "Langgade 12B", address_id=ROSKILDE.upper())
    assert _near(_geocoder(standin).lookup(ref), ROSKILDE_POINT)


def test_lookup_by_postcode(standin: GsearchStandIn) -> None:
    geocoder = _geocoder(standin)
    full = AddressRef("txt:a", "Langgade 12B, 4800 Nykøbing F", postcode="4800")
    assert _near(geocoder.lookup(full), NYKOBING_POINT)
    # Both towns answer; the second result is the one in the postcode of the reference.
    short = AddressRef("txt:b", "Langgade 12B", postcode="4000")
    assert _near(geocoder.lookup(short), ROSKILDE_POINT)


def test_point_is_rounded_to_7_decimals(standin: GsearchStandIn) -> None:
    got = _geocoder(standin).lookup(AddressRef("txt:a", "Langgade 12B", postcode="4800"))
    assert got is not None
    assert all(round(v, 7) == v for v in got)


def test_unknown_id_falls_back_to_postcode(standin: GsearchStandIn) -> None:
    ref = AddressRef("dar:x", "Langgade 12B", address_id="ffffffff-0000", postcode="4800")
    assert _near(_geocoder(standin).lookup(ref), NYKOBING_POINT)


def test_without_id_or_postcode_the_first_hit(standin: GsearchStandIn) -> None:
    assert _near(_geocoder(standin).lookup(AddressRef("txt:a", "Langgade 12B")), NYKOBING_POINT)


def test_not_found_is_none(standin: GsearchStandIn) -> None:
    ref = AddressRef("txt:a", "Ukendtvej 99, 9999 Intetsted", postcode="9999")
    assert _geocoder(standin).lookup(ref) is None
    assert standin.requests == 1


def test_hit_in_another_postcode_is_not_taken(standin: GsearchStandIn) -> None:
    ref = AddressRef("txt:a", "Langgade 12B", postcode="5000")
    assert standin.search("Langgade 12B", 5)  # the service does know namesakes
    assert _geocoder(standin).lookup(ref) is None


def test_empty_text_asks_nothing(standin: GsearchStandIn) -> None:
    assert _geocoder(standin).lookup(AddressRef("txt:", "  ")) is None
    assert standin.requests == 0


def test_result_without_geometry_is_none(standin: GsearchStandIn) -> None:
    record = standin.add_address(
        "11111111-2222-3333-4444-555555555555", "Nulvej", "1", "6000", "Kolding", "0621", 9.5, 55.5
    )
    record["geometri"] = None
    del record["vejpunkt_geometri"]
    assert _geocoder(standin).lookup(AddressRef("txt:a", "Nulvej 1", postcode="6000")) is None


def test_road_point_when_no_access_point(standin: GsearchStandIn) -> None:
    record = standin.add_address(
        "11111111-2222-3333-4444-555555555555", "Vejvej", "2", "6000", "Kolding", "0621", 9.5, 55.5
    )
    del record["geometri"]
    got = _geocoder(standin).lookup(AddressRef("txt:a", "Vejvej 2", postcode="6000"))
    assert _near(got, (9.5, 55.5))


def test_point_of_geometries() -> None:
    x, y = wgs84_to_utm32(10.2, 56.15)
    assert _near(point_of({"geometri": {"type": "Point", "coordinates": [x, y]}}), (10.2, 56.15))
    multi = {"type": "MultiPoint", "coordinates": [[x, y], [0, 0]]}
    assert _near(point_of({"geometri": multi}), (10.2, 56.15))
    # Degrees (a request in another SRS) are taken as they are.
    degrees = {"type": "Point", "coordinates": [10.2, 56.15]}
    assert point_of({"geometri": degrees}) == (10.2, 56.15)
    bad: list[Any] = [
        None,
        {},
        {"type": "LineString", "coordinates": [[x, y], [x + 1, y]]},
        {"type": "Point", "coordinates": ["a", "b"]},
        {"type": "Point", "coordinates": [True, y]},
        {"type": "MultiPoint", "coordinates": []},
    ]
    for geometry in bad:
        assert point_of({"geometri": geometry}) is None, geometry


# -- the token -------------------------------------------------------------------------------


def test_token_query_and_limit_are_sent(standin: GsearchStandIn) -> None:
    _geocoder(standin).lookup(AddressRef("txt:a", "Langgade 12B, 4800 Nykøbing F"))
    assert standin.last_params == {
        "q": "Langgade 12B, 4800 Nykøbing F",
        "limit": "5",
        "token": TOKEN,
    }


def test_wrong_token_is_unavailable_without_retry(standin: GsearchStandIn) -> None:
    with pytest.raises(GeocoderUnavailable, match="token is wrong"):
        _geocoder(standin, token="not-the-token").lookup(AddressRef("txt:a", "Langgade 12B"))
    assert standin.requests == 1


def test_missing_token_is_unavailable(standin: GsearchStandIn) -> None:
    with pytest.raises(GeocoderUnavailable, match="token is missing"):
        _geocoder(standin, token=None).lookup(AddressRef("txt:a", "Langgade 12B"))
    assert "token" not in (standin.last_params or {})


# -- faults ----------------------------------------------------------------------------------

REF = AddressRef("txt:a", "Langgade 12B", postcode="4800")


def test_server_errors_are_retried_then_succeed(standin: GsearchStandIn) -> None:
    standin.fail_next(2, status=500)
    assert _near(_geocoder(standin).lookup(REF), NYKOBING_POINT)
    assert standin.requests == 3


def test_gateway_timeout_is_retried(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=504)
    assert _near(_geocoder(standin).lookup(REF), NYKOBING_POINT)
    assert standin.requests == 2


def test_persistent_server_errors_are_unavailable(standin: GsearchStandIn) -> None:
    standin.fail_next(10, status=500)
    with pytest.raises(GeocoderUnavailable, match=r"HTTP 500.*3 attempts"):
        _geocoder(standin, retries=2).lookup(REF)
    assert standin.requests == 3


def test_slow_server_is_unavailable_in_bounded_time(standin: GsearchStandIn) -> None:
    standin.delay = 2.0
    started = time.monotonic()
    with pytest.raises(GeocoderUnavailable, match="2 attempts"):
        _geocoder(standin, timeout=0.2, retries=1).lookup(REF)
    assert time.monotonic() - started < 1.0
    assert standin.requests == 2


def test_server_down_is_unavailable_then_recovers(standin: GsearchStandIn) -> None:
    geocoder = _geocoder(standin)
    assert geocoder.lookup(REF) is not None
    standin.down()
    started = time.monotonic()
    with pytest.raises(GeocoderUnavailable, match="cannot be reached") as info:
        geocoder.lookup(REF)
    assert time.monotonic() - started < 1.0
    assert TOKEN not in str(info.value)
    standin.up()
    assert _near(geocoder.lookup(REF), NYKOBING_POINT)


def test_short_retry_after_is_honoured(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429, retry_after="1")
    started = time.monotonic()
    assert _near(_geocoder(standin).lookup(REF), NYKOBING_POINT)
    assert time.monotonic() - started >= 0.95
    assert standin.requests == 2


def test_rate_limit_without_retry_after_backs_off(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429)
    assert _near(_geocoder(standin).lookup(REF), NYKOBING_POINT)
    assert standin.requests == 2


@pytest.mark.parametrize("retry_after", ["60", "soon"])
def test_long_retry_after_is_unavailable_at_once(standin: GsearchStandIn, retry_after: str) -> None:
    standin.fail_next(1, status=429, retry_after=retry_after)
    started = time.monotonic()
    with pytest.raises(GeocoderUnavailable, match="429"):
        _geocoder(standin).lookup(REF)
    assert time.monotonic() - started < 0.5
    assert standin.requests == 1


def test_retry_after_as_past_http_date_retries_at_once(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert _near(_geocoder(standin).lookup(REF), NYKOBING_POINT)


@pytest.mark.parametrize(
    "body", [b"<html>Service Unavailable</html>", b'{"message": "ok"}', b"", b"[1, 2"]
)
def test_garbage_body_is_unavailable(standin: GsearchStandIn, body: bytes) -> None:
    standin.fail_next(1, status=200, body=body)
    with pytest.raises(GeocoderUnavailable, match="JSON"):
        _geocoder(standin).lookup(REF)
    assert standin.requests == 1


def test_non_dict_items_are_ignored(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=200, body=b'[1, "x", null]')
    assert _geocoder(standin).lookup(AddressRef("txt:a", "Langgade 12B")) is None


@pytest.mark.parametrize("status", [400, 404])
def test_other_client_errors_are_unavailable_without_retry(
    standin: GsearchStandIn, status: int
) -> None:
    standin.fail_next(1, status=status)
    with pytest.raises(GeocoderUnavailable, match=f"HTTP {status}"):
        _geocoder(standin).lookup(REF)
    assert standin.requests == 1
