"""The Gsearch v2.0 geocoder against a local stand-in of the service (which matches as the real
SQL does: tests/standins/gsearch_server.py), and the UTM conversion against PROJ (pyproj, a
dev-only dependency)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pyproj import Transformer

from chalicelib.domain.utm import utm32_to_wgs84, wgs84_to_utm32
from chalicelib.intake.geocode import AddressRef, Answer, Geocoder, GeocoderUnavailable
from chalicelib.intake.geocode.gsearch import GsearchGeocoder, point_of
from chalicelib.intake.geocode.locate import address_ref
from tests.standins.gsearch_server import GsearchStandIn

TOKEN = "test-token-0123456789"
NYKOBING = "0a3f50a0-2b7c-32b8-e044-0003ba298018"
ROSKILDE = "0a3f50a0-75a0-32b8-e044-0003ba298018"
NYKOBING_POINT = (11.8741512, 54.7691327)
ROSKILDE_POINT = (12.0803224, 55.6415214)
AARHUS = "0a3f50a1-0a4c-32b8-e044-0003ba298018"
AARHUS_POINT = (10.2107306, 56.1531911)
UNKNOWN_ID = "6f1e2d3c-4b5a-4978-8877-665544332211"


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


# -- the stand-in and the client -------------------------------------------------------------


@pytest.fixture
def standin() -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as server:
        server.add_address(
            NYKOBING, "Langgade", "12B", "4800", "Nykøbing F", "0376", *NYKOBING_POINT, "2", "th"
        )
        server.add_address(ROSKILDE, "Langgade", "12B", "4000", "Roskilde", "0265", *ROSKILDE_POINT)
        server.add_address(AARHUS, "Bispegade", "3", "8000", "Aarhus C", "0751", *AARHUS_POINT)
        yield server


class Sleeps(list[float]):
    """Records the waits between attempts instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _geocoder(server: GsearchStandIn, token: str | None = TOKEN, **kw: Any) -> GsearchGeocoder:
    """Short timeouts, and waits recorded rather than slept, so failure tests stay fast."""
    options: dict[str, Any] = {"timeout": 0.5, "retries": 2, "backoff": 0.01, "sleep": Sleeps()}
    return GsearchGeocoder(server.base_url, token, **{**options, **kw})


def _ref(
    line: str, postcode: str = "4800", city: str = "Nykøbing F", address_id: str | None = None
) -> AddressRef:
    """The reference the locator makes of a register address (street and number parsed)."""
    ref = address_ref(line, postcode, city, address_id)
    assert ref is not None
    return ref


def _near(got: Answer | tuple[float, float] | None, want: tuple[float, float]) -> bool:
    point = got.point if isinstance(got, Answer) else got
    return point is not None and abs(point[0] - want[0]) < 1e-7 and abs(point[1] - want[1]) < 1e-7


def test_is_a_geocoder(standin: GsearchStandIn) -> None:
    geocoder: Geocoder = _geocoder(standin)
    assert _near(geocoder.lookup(_ref("Langgade 12B", "4000", "Roskilde")), ROSKILDE_POINT)


# -- by CVR's adresseId ------------------------------------------------------------------------


def test_lookup_by_address_id_asks_the_adresse_resource_with_an_id_filter(
    standin: GsearchStandIn,
) -> None:
    answer = _geocoder(standin).lookup(_ref("Langgade 12B, 2. th", address_id=NYKOBING.upper()))
    assert _near(answer, NYKOBING_POINT) and answer.via == "id"
    assert standin.requests == 1
    assert standin.last_path == "/rest/gsearch/v2.0/adresse"
    assert standin.last_params == {
        "q": "12B 4800",
        "filter": f"id = '{NYKOBING}'",
        "limit": "1",
        "srid": "25832",
    }


def test_the_id_finds_an_address_whose_street_the_register_spells_otherwise(
    standin: GsearchStandIn,
) -> None:
    """By id, q holds only house number and postcode: an old street name cannot miss."""
    answer = _geocoder(standin).lookup(_ref("Bispensgade 3", "8000", "Århus C", AARHUS))
    assert _near(answer, AARHUS_POINT) and answer.via == "id"


def test_an_unknown_id_goes_on_by_street_and_number(standin: GsearchStandIn) -> None:
    answer = _geocoder(standin).lookup(_ref("Langgade 12B", address_id=UNKNOWN_ID))
    assert _near(answer, NYKOBING_POINT) and answer.via == "text"
    assert standin.requests == 2 and standin.last_path == "/rest/gsearch/v2.0/husnummer"


def test_an_id_of_another_house_than_the_line_names_is_not_taken(standin: GsearchStandIn) -> None:
    """The register line says 12B in Roskilde, its id is Nykøbing's: the line's house wins."""
    answer = _geocoder(standin).lookup(_ref("Langgade 12B", "4000", "Roskilde", NYKOBING))
    assert _near(answer, ROSKILDE_POINT) and answer.via == "text"
    wrong_number = _geocoder(standin).lookup(_ref("Langgade 7", address_id=NYKOBING))
    assert wrong_number.point is None


def test_an_id_that_is_no_uuid_is_not_sent(standin: GsearchStandIn) -> None:
    answer = _geocoder(standin).lookup(_ref("Langgade 12B", address_id="ffffffff-0000"))
    assert _near(answer, NYKOBING_POINT)
    assert standin.requests == 1 and standin.last_path == "/rest/gsearch/v2.0/husnummer"


# -- by street and house number --------------------------------------------------------------


def test_lookup_sends_street_and_number_with_a_postcode_and_house_filter(
    standin: GsearchStandIn,
) -> None:
    answer = _geocoder(standin).lookup(_ref("Langgade 12B-14, 02. th"))
    assert _near(answer, NYKOBING_POINT) and answer.via == "text"
    assert standin.last_params == {
        "q": "Langgade 12B",
        "filter": "postnummer = '4800' AND husnummertekst = '12B'",
        "limit": "10",
        "srid": "25832",
    }


@pytest.mark.parametrize(
    ("line", "postcode", "city", "point"),
    [
        ("Langgade 12B, 02. th", "4800", "Nykøbing F", NYKOBING_POINT),  # DAR writes floor "2"
        ("Langgade 12B-14", "4800", "Nykøbing F", NYKOBING_POINT),  # a range: its first house
        ("Langgade 12 b, 2. th", "4000", "Roskilde", ROSKILDE_POINT),  # letter apart, lower case
        ("Bispegade 3", "8000", "Århus C", AARHUS_POINT),  # DAR: "Aarhus C"
    ],
)
def test_register_lines_the_whole_text_query_misses_are_found(
    standin: GsearchStandIn, line: str, postcode: str, city: str, point: tuple[float, float]
) -> None:
    ref = _ref(line, postcode, city)
    assert standin.search(ref.text) == []  # the register's whole line: no prefix-AND match
    assert _near(_geocoder(standin).lookup(ref), point)


def test_a_prefix_hit_on_another_house_number_is_never_taken(standin: GsearchStandIn) -> None:
    standin.add_address(
        "5d8e7f60-1a2b-4c3d-9e8f-001122334455",
        "Torvet",
        "14",
        "4800",
        "Nykøbing F",
        "0376",
        11.87,
        54.77,
    )
    assert [h["husnummer"] for h in standin.search("Torvet 1")] == ["14"]  # the trap
    answer = _geocoder(standin).lookup(_ref("Torvet 1"))
    assert answer.point is None and "no house Torvet 1" in (answer.reason or "")


def test_a_lenient_answer_with_other_house_numbers_is_refused_and_said(
    standin: GsearchStandIn,
) -> None:
    """Even if the service ignored the house filter, a neighbour's number is no answer."""
    house = standin.search("Langgade 12B 4800", 1, "husnummer")[0]
    neighbours = [{**house, "husnummertekst": n} for n in ("12", "120", "12C")]
    standin.fail_next(1, status=200, body=orjson.dumps(neighbours))
    answer = _geocoder(standin).lookup(_ref("Langgade 12B"))
    assert answer.point is None
    assert answer.reason == "no house Langgade 12B, 4800 in DAR (only house numbers 12, 120, 12C)"


def test_the_same_house_twice_far_apart_is_not_guessed(standin: GsearchStandIn) -> None:
    for i, (town, lon) in enumerate((("Tinghøj", 11.80), ("Sønderby", 11.95))):
        standin.add_address(
            f"7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5{i}",
            "Kirkevej",
            "5",
            "4800",
            "Nykøbing F",
            "0376",
            lon,
            54.76,
            supplerendebynavn=town,
        )
    answer = _geocoder(standin).lookup(_ref("Kirkevej 5"))
    assert answer.point is None and "2 different houses" in (answer.reason or "")


def test_hit_in_another_postcode_is_not_taken(standin: GsearchStandIn) -> None:
    assert standin.search("Langgade 12B")  # the service does know namesakes
    answer = _geocoder(standin).lookup(_ref("Langgade 12B", "5000", "Odense C"))
    assert answer.point is None


def test_a_line_without_house_number_asks_nothing(standin: GsearchStandIn) -> None:
    for line in ("Langgade", "Postboks 123"):
        answer = _geocoder(standin).lookup(_ref(line))
        assert answer.point is None and "no house number" in (answer.reason or "")
    assert standin.requests == 0


def test_query_words_the_service_would_read_as_operators_are_not_sent(
    standin: GsearchStandIn,
) -> None:
    standin.add_address(
        "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b",
        "Sankt Hans' Gade",
        "4",
        "4800",
        "Nykøbing F",
        "0376",
        11.86,
        54.77,
    )
    answer = _geocoder(standin).lookup(_ref("Sankt Hans' Gade 4"))
    assert answer.point is not None
    assert standin.last_params is not None and standin.last_params["q"] == "Sankt Hans Gade 4"


def test_point_is_rounded_to_7_decimals(standin: GsearchStandIn) -> None:
    got = _geocoder(standin).lookup(_ref("Langgade 12B")).point
    assert got is not None
    assert all(round(v, 7) == v for v in got)


def test_result_without_geometry_is_none(standin: GsearchStandIn) -> None:
    record = standin.add_address(
        "11111111-2222-3333-4444-555555555555", "Nulvej", "1", "6000", "Kolding", "0621", 9.5, 55.5
    )
    house = standin.house(record)
    house["geometri"] = None
    del house["vejpunkt_geometri"]
    assert _geocoder(standin).lookup(_ref("Nulvej 1", "6000", "Kolding")).point is None


def test_road_point_when_no_access_point(standin: GsearchStandIn) -> None:
    record = standin.add_address(
        "11111111-2222-3333-4444-555555555555", "Vejvej", "2", "6000", "Kolding", "0621", 9.5, 55.5
    )
    del standin.house(record)["geometri"]
    assert _near(_geocoder(standin).lookup(_ref("Vejvej 2", "6000", "Kolding")), (9.5, 55.5))


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


def test_the_token_is_a_header_never_part_of_the_url(standin: GsearchStandIn) -> None:
    assert _geocoder(standin).lookup(_ref("Langgade 12B")).point is not None
    assert standin.last_headers is not None and standin.last_headers["token"] == TOKEN
    assert standin.last_params is not None and "token" not in standin.last_params


def test_wrong_token_is_unavailable_without_retry(standin: GsearchStandIn) -> None:
    with pytest.raises(GeocoderUnavailable, match="token is wrong"):
        _geocoder(standin, token="not-the-token").lookup(_ref("Langgade 12B"))
    assert standin.requests == 1


def test_missing_token_is_unavailable(standin: GsearchStandIn) -> None:
    with pytest.raises(GeocoderUnavailable, match="token is missing"):
        _geocoder(standin, token=None).lookup(_ref("Langgade 12B"))
    assert standin.last_headers is not None and "token" not in standin.last_headers


# -- faults ----------------------------------------------------------------------------------

LINE = "Langgade 12B"


def test_server_errors_are_retried_then_succeed(standin: GsearchStandIn) -> None:
    standin.fail_next(2, status=500)
    sleeps = Sleeps()
    assert _near(_geocoder(standin, sleep=sleeps).lookup(_ref(LINE)), NYKOBING_POINT)
    assert standin.requests == 3 and sleeps == [0.01, 0.02]  # backoff doubles


def test_gateway_timeout_is_retried(standin: GsearchStandIn) -> None:
    """The gateway cuts a query off after 10 s with 504 (gsearch doc/README.md)."""
    standin.fail_next(1, status=504)
    assert _near(_geocoder(standin).lookup(_ref(LINE)), NYKOBING_POINT)
    assert standin.requests == 2


def test_connection_issues_are_retried_as_transient(standin: GsearchStandIn) -> None:
    """Gsearch answers its database connection failing with 400 "Connection issues"."""
    standin.connection_issues_next(2)
    assert _near(_geocoder(standin).lookup(_ref(LINE)), NYKOBING_POINT)
    assert standin.requests == 3


def test_persistent_connection_issues_are_unavailable(standin: GsearchStandIn) -> None:
    standin.connection_issues_next(5)
    with pytest.raises(GeocoderUnavailable, match=r"database trouble.*Connection issues.*2 att"):
        _geocoder(standin, retries=1).lookup(_ref(LINE))
    assert standin.requests == 2


def test_a_lost_database_connection_409_is_retried(standin: GsearchStandIn) -> None:
    body = b'{"status": "CONFLICT", "message": "Connection is closed", "errors": ["x"]}'
    standin.fail_next(1, status=409, body=body)
    assert _near(_geocoder(standin).lookup(_ref(LINE)), NYKOBING_POINT)


def test_persistent_server_errors_are_unavailable(standin: GsearchStandIn) -> None:
    standin.fail_next(10, status=500)
    with pytest.raises(GeocoderUnavailable, match=r"HTTP 500.*3 attempts"):
        _geocoder(standin, retries=2).lookup(_ref(LINE))
    assert standin.requests == 3


def test_slow_server_is_unavailable_after_the_attempts(standin: GsearchStandIn) -> None:
    standin.delay = 2.0
    with pytest.raises(GeocoderUnavailable, match=r"cannot be reached.*2 attempts"):
        _geocoder(standin, timeout=0.2, retries=1).lookup(_ref(LINE))
    assert standin.requests == 2


def test_server_down_is_unavailable_then_recovers(standin: GsearchStandIn) -> None:
    geocoder = _geocoder(standin)
    assert geocoder.lookup(_ref(LINE)).point is not None
    standin.down()
    with pytest.raises(GeocoderUnavailable, match="cannot be reached") as info:
        geocoder.lookup(_ref(LINE))
    assert TOKEN not in str(info.value)
    standin.up()
    assert _near(geocoder.lookup(_ref(LINE)), NYKOBING_POINT)


def test_short_retry_after_is_honoured(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429, retry_after="1")
    sleeps = Sleeps()
    assert _near(_geocoder(standin, sleep=sleeps).lookup(_ref(LINE)), NYKOBING_POINT)
    assert sleeps == [1.0] and standin.requests == 2


def test_rate_limit_without_retry_after_backs_off(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429)
    sleeps = Sleeps()
    assert _near(_geocoder(standin, sleep=sleeps).lookup(_ref(LINE)), NYKOBING_POINT)
    assert sleeps == [0.01] and standin.requests == 2


@pytest.mark.parametrize("retry_after", ["60", "soon"])
def test_long_retry_after_is_unavailable_at_once(standin: GsearchStandIn, retry_after: str) -> None:
    standin.fail_next(1, status=429, retry_after=retry_after)
    sleeps = Sleeps()
    with pytest.raises(GeocoderUnavailable, match="429"):
        _geocoder(standin, sleep=sleeps).lookup(_ref(LINE))
    assert sleeps == [] and standin.requests == 1


def test_retry_after_as_past_http_date_retries_at_once(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    sleeps = Sleeps()
    assert _near(_geocoder(standin, sleep=sleeps).lookup(_ref(LINE)), NYKOBING_POINT)
    assert sleeps == [0.0]


@pytest.mark.parametrize(
    "body", [b"<html>Service Unavailable</html>", b'{"message": "ok"}', b"", b"[1, 2"]
)
def test_garbage_body_is_unavailable(standin: GsearchStandIn, body: bytes) -> None:
    standin.fail_next(1, status=200, body=body)
    with pytest.raises(GeocoderUnavailable, match="JSON"):
        _geocoder(standin).lookup(_ref(LINE))
    assert standin.requests == 1


def test_non_dict_items_are_ignored(standin: GsearchStandIn) -> None:
    standin.fail_next(1, status=200, body=b'[1, "x", null]')
    assert _geocoder(standin).lookup(_ref(LINE)).point is None


def test_a_rejected_query_is_unavailable_without_retry_and_names_the_message(
    standin: GsearchStandIn,
) -> None:
    body = orjson.dumps(
        {"status": "BAD_REQUEST", "message": "getHusnummer.limit: must be 1..100", "errors": []}
    )
    standin.fail_next(1, status=400, body=body)
    with pytest.raises(GeocoderUnavailable, match=r"rejected the query \(HTTP 400: getHus"):
        _geocoder(standin).lookup(_ref(LINE))
    assert standin.requests == 1


def test_a_wrong_base_url_is_unavailable_without_retry(standin: GsearchStandIn) -> None:
    geocoder = GsearchGeocoder(standin.base_url + "/nothing", TOKEN, retries=2, sleep=Sleeps())
    with pytest.raises(GeocoderUnavailable, match=r"HTTP 404.*MIKROKORT_GEOCODER_URL"):
        geocoder.lookup(_ref(LINE))
    assert standin.requests == 1
