"""The Gsearch stand-in is as strict as the real service (SDFIdk/gsearch v2.0): prefix-AND in one
text column, the filter, srid and limit as the controller checks them, its error documents.

These tests speak HTTP to the stand-in with urllib3, as any client would, so they check the
protocol the geocoder relies on, not the stand-in's internals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import urllib3

from chalicelib.domain.utm import wgs84_to_utm32
from tests.standins.gsearch_server import GsearchStandIn

TOKEN = "standin-token"
ADDRESS = "0a3f50a0-2b7c-32b8-e044-0003ba298018"
POINT = (11.8741512, 54.7691327)


@pytest.fixture
def standin() -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as server:
        server.add_address(
            ADDRESS, "Langgade", "12B", "4800", "Nykøbing F", "0376", *POINT, "2", "th"
        )
        server.add_address(
            "0a3f50a0-2b7c-32b8-e044-0003ba298019",
            "Langgade",
            "14",
            "4800",
            "Nykøbing F",
            "0376",
            11.875,
            54.769,
        )
        server.add_address(
            "0a3f50a0-2b7c-32b8-e044-0003ba29801a",
            "Ågade",
            "3",
            "8000",
            "Aarhus C",
            "0751",
            10.2,
            56.15,
        )
        server.add_address(
            "0a3f50a0-2b7c-32b8-e044-0003ba29801b",
            "Sankt Knuds Gade",
            "7",
            "5000",
            "Odense C",
            "0461",
            10.39,
            55.39,
        )
        yield server


def _get(
    server: GsearchStandIn, resource: str, header: str | None = TOKEN, **params: str
) -> tuple[int, Any, dict[str, str]]:
    headers = {"token": header} if header else {}
    resp = urllib3.request(
        "GET", f"{server.base_url}/{resource}", fields=params, headers=headers, retries=False
    )
    try:
        body = orjson.loads(resp.data)
    except orjson.JSONDecodeError:
        body = resp.data
    return resp.status, body, dict(resp.headers)


def _ids(server: GsearchStandIn, q: str, resource: str = "adresse", **params: str) -> list[str]:
    status, body, _ = _get(server, resource, q=q, **params)
    assert status == 200, body
    return [hit["husnummer" if resource == "adresse" else "husnummertekst"] for hit in body]


# -- matching ----------------------------------------------------------------------------------


def test_every_word_must_start_a_word_of_the_address(standin: GsearchStandIn) -> None:
    assert _ids(standin, "lang 12") == ["12B"]
    assert _ids(standin, "Langgade 1") == ["12B", "14"]  # prefixes: 1 starts 12b and 14
    assert _ids(standin, "Langgade 12B 2 th 4800 Nykøbing F") == ["12B"]
    assert _ids(standin, "Langgade 12B Roskilde") == []  # one word unmatched: nothing


@pytest.mark.parametrize(
    "q",
    [
        "Langgade 12B, 02. th, 4800 Nykøbing F",  # a zero-padded floor: DAR writes "2"
        "Langgade 12B-14, 2. th",  # a range's second number is no word of house 12B
        "Ågade 3, 8000 Århus C",  # DAR's postcode name is "Aarhus C"
        "Langgade12B",  # words are not split inside
    ],
)
def test_what_the_real_service_does_not_match(standin: GsearchStandIn, q: str) -> None:
    assert _ids(standin, q) == []


def test_separators_are_spaces_and_case_does_not_matter(standin: GsearchStandIn) -> None:
    assert _ids(standin, "LANGGADE-12b (nykøbing)!") == ["12B"]


def test_the_unaccent_column_matches_plain_spellings_of_the_street_only(
    standin: GsearchStandIn,
) -> None:
    assert _ids(standin, "Aagade 3") == ["3"]  # å -> aa in the street's second column
    assert _ids(standin, "Ågade 3 Aarhus") == ["3"]
    assert _ids(standin, "Aagade 3 Århus") == []  # the query itself is never unaccented
    assert _ids(standin, "Skt Knuds Gade 7") == ["7"]  # xsyn: skt = sankt


def test_the_husnummer_resource_has_one_hit_per_house(standin: GsearchStandIn) -> None:
    standin.add_address(
        "0a3f50a0-2b7c-32b8-e044-0003ba29801c",
        "Langgade",
        "12B",
        "4800",
        "Nykøbing F",
        "0376",
        *POINT,
        "3",
        "tv",
    )
    assert _ids(standin, "Langgade 12B") == ["12B", "12B"]
    assert _ids(standin, "Langgade 12B", "husnummer") == ["12B"]
    assert _ids(standin, "Langgade 12B 2 th", "husnummer") == []  # no floor in a house


def test_a_query_of_punctuation_finds_nothing(standin: GsearchStandIn) -> None:
    assert _ids(standin, ".") == []


def test_a_word_to_tsquery_cannot_read_is_the_services_400(standin: GsearchStandIn) -> None:
    status, body, _ = _get(standin, "adresse", q="Hans' Gade")
    assert status == 400
    assert body["status"] == "BAD_REQUEST" and "syntax error in tsquery" in body["message"]


# -- the filter --------------------------------------------------------------------------------


def test_filters_narrow_the_matches(standin: GsearchStandIn) -> None:
    assert _ids(standin, "Langgade", filter="husnummer = '14'") == ["14"]
    assert _ids(standin, "Langgade", filter="postnummer = '4800' AND husnummer LIKE '12%'") == [
        "12B"
    ]
    assert _ids(standin, "12B 4800", filter=f"id = '{ADDRESS.upper()}'") == ["12B"]
    assert _ids(standin, "Langgade", "husnummer", filter="husnummertekst = '12B'") == ["12B"]
    assert _ids(standin, "Langgade", filter="postnummer = '8000'") == []


@pytest.mark.parametrize(
    ("cql", "message"),
    [
        ("husnummertekst = '1'", 'column "husnummertekst" does not exist'),  # an adresse has none
        ("postnummer == 4800", "Parse error"),
        ("id = 'not-a-uuid'", "invalid input syntax for type uuid"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_services_document(
    standin: GsearchStandIn, cql: str, message: str
) -> None:
    status, body, _ = _get(standin, "adresse", q="Langgade", filter=cql)
    assert status == 400 and body["status"] == "BAD_REQUEST"
    assert message in body["message"] and set(body) == {"status", "message", "errors"}


# -- parameters as the controller checks them --------------------------------------------------


def test_geometries_are_multipoints_in_25832_by_default(standin: GsearchStandIn) -> None:
    status, body, headers = _get(standin, "husnummer", q="Langgade 12B")
    assert status == 200
    assert headers["Content-Crs"] == "<https://www.opengis.net/def/crs/EPSG/0/25832>"
    x, y = body[0]["geometri"]["coordinates"][0]
    assert body[0]["geometri"]["type"] == "MultiPoint"
    assert (x, y) == pytest.approx(wgs84_to_utm32(*POINT), abs=1e-6)
    assert set(body[0]) == {
        "id", "kommunekode", "kommunenavn", "vejkode", "vejnavn", "husnummertekst",
        "supplerendebynavn", "postnummer", "postnummernavn", "visningstekst", "geometri",
        "vejpunkt_geometri",
    }  # fmt: skip


def test_srid_4326_answers_degrees(standin: GsearchStandIn) -> None:
    status, body, headers = _get(standin, "adresse", q="Langgade 12B", srid="4326")
    assert status == 200 and headers["Content-Crs"].endswith("/4326>")
    lon, lat = body[0]["geometri"]["coordinates"][0]
    assert (lon, lat) == pytest.approx(POINT, abs=1e-7)


def test_a_srid_outside_the_allow_list_is_400(standin: GsearchStandIn) -> None:
    status, body, _ = _get(standin, "adresse", q="Langgade", srid="3044")
    assert status == 400 and body["message"].startswith("SRID is not allowed. Allow list:")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "Langgade", "limit": "101"}, "getAdresse.limit: must be less than or equal to 100"),
        ({"q": "Langgade", "limit": "0"}, "getAdresse.limit: must be greater than 0"),
        ({"q": "Langgade", "limit": "ti"}, "Failed to convert value"),
        ({"q": "   "}, "getAdresse.q: must not be blank"),
        ({}, "Required request parameter 'q'"),
    ],
)
def test_bad_parameters_are_400(
    standin: GsearchStandIn, params: dict[str, str], message: str
) -> None:
    status, body, _ = _get(standin, "adresse", **params)
    assert status == 400 and message in body["message"]


def test_limit_defaults_to_10_and_bounds_the_answer(standin: GsearchStandIn) -> None:
    for i in range(12):
        standin.add_address(
            f"0a3f50a0-2b7c-32b8-e044-0003ba2990{i:02d}",
            "Langgade",
            "12B",
            "4800",
            "Nykøbing F",
            "0376",
            *POINT,
            str(i + 3),
            "th",
        )
    assert len(_ids(standin, "Langgade 12B")) == 10
    assert len(_ids(standin, "Langgade 12B", limit="3")) == 3


def test_an_unknown_resource_is_404(standin: GsearchStandIn) -> None:
    status, _, _ = _get(standin, "adresser", q="Langgade")
    assert status == 404


# -- the token and the faults ------------------------------------------------------------------


def test_the_token_is_read_from_the_header_or_the_parameter(standin: GsearchStandIn) -> None:
    assert _get(standin, "adresse", q="Langgade")[0] == 200
    assert _get(standin, "adresse", header="wrong", q="Langgade")[0] == 403
    status, body, _ = _get(standin, "adresse", header=None, q="Langgade")
    assert status == 403 and b"403 Forbidden" in body
    assert _get(standin, "adresse", header=None, q="Langgade", token=TOKEN)[0] == 200


def test_connection_issues_are_the_services_400_document(standin: GsearchStandIn) -> None:
    standin.connection_issues_next(1)
    status, body, _ = _get(standin, "adresse", q="Langgade")
    assert (status, body) == (
        400,
        {"status": "BAD_REQUEST", "message": "Connection issues", "errors": None},
    )
    assert _get(standin, "adresse", q="Langgade")[0] == 200
