"""Filters, the temporal property and EPSG:25832 through the API, on the demo data of both
stores, each answer checked against one computed here from every feature (walked without any
filter), never against the service's own answer to the same question."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import walk as walk_pages

UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"


def walk(http: requests.Session, url: str, **params: object) -> list[dict[str, Any]]:
    """Every feature of an items request, following `next` links."""
    return [f for page in walk_pages(http, url, **params) for f in page["features"]]


@pytest.fixture(scope="module")
def everything(api: str, http: requests.Session) -> list[dict[str, Any]]:
    return walk(http, api + "/collections/businesses/items", limit=10_000)


def _ids(http: requests.Session, api: str, **params: object) -> list[str]:
    return sorted(f["id"] for f in walk(http, api + "/collections/businesses/items", **params))


def _matched(http: requests.Session, api: str, **params: object) -> int | None:
    r = http.get(api + "/collections/businesses/items", params={"limit": 1, **params})
    assert r.status_code == 200, r.text
    return r.json().get("numberMatched")


CASES = [
    ({"filter": "founded >= DATE('2020-01-01')"}, lambda p: (p["founded"] or "") >= "2020-01-01"),
    ({"filter": "founded > '2020-01-01'"}, lambda p: (p["founded"] or "") > "2020-01-01"),
    ({"filter": "ceased < DATE('2024-01-01')"}, lambda p: (p["ceased"] or "9") < "2024-01-01"),
    (
        {"filter": "industry_text LIKE '%ømr%' AND municipality IN ('0390')"},
        lambda p: "ømr" in (p["industry_text"] or "") and p["municipality"] == "0390",
    ),
    (
        {"filter": "founded >= '2020-01-01T' AND name ILIKE 'a%'", "filter-lang": "cql-text"},
        lambda p: (p["founded"] or "") >= "2020-01-01" and p["name"].lower().startswith("a"),
    ),
    (
        {
            "filter": '{"op":"and","args":[{"op":"=","args":[{"property":"employees"},"2-4"]},'
            '{"op":"isNull","args":[{"property":"ceased"}]}]}',
            "filter-lang": "cql2-json",
        },
        lambda p: p["employees"] == "2-4" and p["ceased"] is None,
    ),
    ({"datetime": "2020-01-01T/.."}, lambda p: (p["founded"] or "") >= "2020-01-01"),
    (
        {"datetime": "0000-01-01T00:00:00Z/2005-06-30"},
        lambda p: p["founded"] is not None and p["founded"] <= "2005-06-30",
    ),
    ({"city": "Sakskøbing"}, lambda p: p["city"] == "Sakskøbing"),
    (
        {"bbox": "11.8,54.7,12.0,54.8", "filter": "status = 'active' AND NOT (employees = '0')"},
        None,  # checked on the geometry below
    ),
]


@pytest.mark.parametrize(("params", "keep"), CASES, ids=[str(c[0]) for c in CASES])
def test_filters_select_exactly_the_matching_businesses(
    api: str, http: requests.Session, everything: list, params: dict, keep
) -> None:
    if keep is None:

        def keep_feature(f: dict) -> bool:
            x, y = f["geometry"]["coordinates"]
            p = f["properties"]
            inside = 11.8 <= x <= 12.0 and 54.7 <= y <= 54.8
            # CQL2's three-valued logic: NOT (employees = '0') is unknown, so not selected,
            # for a business without a size group
            sized = p["employees"] is not None and p["employees"] != "0"
            return inside and p["status"] == "active" and sized

        want = sorted(f["id"] for f in everything if keep_feature(f))
    else:
        want = sorted(f["id"] for f in everything if keep(f["properties"]))
    assert want and len(want) < len(everything)
    assert _ids(http, api, limit=500, **params) == want
    assert _matched(http, api, **params) in (len(want), None)


def test_queryables_describe_every_filterable_property(api: str, http: requests.Session) -> None:
    r = http.get(api + "/collections/businesses/queryables")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/schema+json"
    doc = r.json()
    props = doc["properties"]
    assert props["founded"] == {
        "title": "founded",
        "type": "string",
        "format": "date",
        "x-ogc-role": "primary-instant",
    }
    assert props["reklamebeskyttet"]["type"] == "boolean"
    assert props["geometry"]["format"] == "geometry-point"
    assert props["networks"]["type"] == "string"  # a list published as ;-joined text
    collection = http.get(api + "/collections/businesses").json()
    rels = {link["rel"]: link["href"] for link in collection["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"] == r.url
    conformance = http.get(api + "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conformance


def test_a_utm32_bbox_selects_exactly_and_answers_in_metres(
    api: str, http: requests.Session, everything: list
) -> None:
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    box = (688_000.0, 6_068_000.0, 700_000.0, 6_080_000.0)

    def inside(f: dict) -> bool:
        e, n = to_utm.transform(*f["geometry"]["coordinates"])
        return box[0] <= e <= box[2] and box[1] <= n <= box[3]

    want = {f["id"]: f for f in everything if f["geometry"] and inside(f)}
    assert want
    got = walk(
        http,
        api + "/collections/businesses/items",
        limit=500,
        bbox=",".join(str(v) for v in box),
        **{"bbox-crs": UTM, "crs": UTM},
    )
    assert sorted(f["id"] for f in got) == sorted(want)
    for f in got:
        e, n = to_utm.transform(*want[f["id"]]["geometry"]["coordinates"])
        assert abs(f["geometry"]["coordinates"][0] - e) <= 0.001
        assert abs(f["geometry"]["coordinates"][1] - n) <= 0.001
    r = http.get(api + "/collections/businesses/items", params={"limit": 1, "crs": "EPSG:25832"})
    assert r.headers["Content-Crs"] == f"<{UTM}>"
