"""The OGC API - Features service, in-process through the Chalice app, on the demo data."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from chalicelib.domain.geo import GRID_LAT_STEP, GRID_LON_STEP
from tests.conftest import walk

GEOJSON = "application/geo+json"


def test_landing_page_links(api: str, http: requests.Session) -> None:
    r = http.get(api + "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert all(link["href"].startswith(api) for link in rels.values())


def test_conformance_classes(api: str, http: requests.Session) -> None:
    classes = http.get(api + "/conformance").json()["conformsTo"]
    for c in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}" in classes


def test_openapi_is_self_contained_and_declares_every_parameter(
    api: str, http: requests.Session
) -> None:
    r = http.get(api + "/api")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    refs = [v for v in _walk_values(doc, "$ref")]
    assert refs and all(ref.startswith("#/") for ref in refs), "external $ref found"
    for ref in refs:  # every internal $ref resolves
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    params = doc["components"]["parameters"]
    assert params["limit"]["schema"]["maximum"] == 10_000
    assert params["limit"]["schema"]["minimum"] == 1
    declared = {
        p["$ref"].rsplit("/", 1)[-1]
        for p in doc["paths"]["/collections/businesses/items"]["get"]["parameters"]
    }
    assert {
        "bbox",
        "limit",
        "datetime",
        "cursor",
        "municipality",
        "industry",
        "network",
        "status",
        "q",
    } <= declared
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = set(op["responses"])
            if op["tags"][0] in ("Administration", "Self-registration"):
                assert {"400", "500"} <= responses, (method, path)
                if op.get("security"):
                    assert {"401", "403"} <= responses, (method, path)
                continue
            assert method == "get" and {"200", "400", "406", "500"} <= responses, path
            if "{featureId}" in path:
                assert "404" in responses
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def _walk_values(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            else:
                yield from _walk_values(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_values(v, key)


def test_collections_and_collection_agree(api: str, http: requests.Session) -> None:
    listed = {c["id"]: c for c in http.get(api + "/collections").json()["collections"]}
    assert set(listed) == {"businesses", "networks", "network-meeting-places", "municipalities"}
    for cid, c in listed.items():
        one = http.get(f"{api}/collections/{cid}").json()
        for key in ("id", "title", "description", "extent"):
            assert one[key] == c[key]
        assert any(link["rel"] == "items" and link["type"] == GEOJSON for link in one["links"])


def test_items_are_geojson_with_links_counts_and_timestamp(
    api: str, http: requests.Session
) -> None:
    r = http.get(api + "/collections/businesses/items", params={"limit": 10})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == GEOJSON
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"]) == 10
    assert doc["numberMatched"] > 1000
    rels = {link["rel"] for link in doc["links"]}
    assert {"self", "next", "collection"} <= rels
    assert doc["timeStamp"].endswith("Z")


def test_paging_walks_every_feature_exactly_once(api: str, http: requests.Session) -> None:
    pages = walk(http, api + "/collections/businesses/items", limit=350)
    ids = [f["id"] for p in pages for f in p["features"]]
    assert len(pages) >= 3
    assert len(ids) == len(set(ids)) == pages[0]["numberMatched"]
    assert all(p["numberMatched"] == pages[0]["numberMatched"] for p in pages)
    again = [
        f["id"]
        for p in walk(http, api + "/collections/businesses/items", limit=350)
        for f in p["features"]
    ]
    assert again == ids  # stable order


def test_filtered_paging_keeps_its_filters(api: str, http: requests.Session) -> None:
    params = {"bbox": "11.6,54.6,12.1,54.95", "industry": "F", "limit": 25}
    pages = walk(http, api + "/collections/businesses/items", **params)
    feats = [f for p in pages for f in p["features"]]
    assert len(feats) == pages[0]["numberMatched"] > 25
    for f in feats:
        x, y = f["geometry"]["coordinates"]
        assert 11.6 <= x <= 12.1 and 54.6 <= y <= 54.95
        assert f["properties"]["industry_section"] == "F"


def test_property_filters(api: str, http: requests.Session) -> None:
    url = api + "/collections/businesses/items"
    for params, check in [
        ({"municipality": "390"}, lambda p: p["municipality"] == "0390"),
        ({"municipality": "0376"}, lambda p: p["municipality"] == "0376"),
        ({"industry": "4332"}, lambda p: p["industry_code"].startswith("4332")),
        ({"status": "ceased"}, lambda p: p["status"] == "ceased" and p["ceased"]),
        ({"q": "holding"}, lambda p: "holding" in p["name"].lower()),
        (
            {"datetime": "2010-01-01/2010-06-30"},
            lambda p: "2010-01-01" <= p["founded"] <= "2010-06-30",
        ),
    ]:
        doc = http.get(url, params={**params, "limit": 10_000}).json()
        assert doc["features"], params
        assert all(check(f["properties"]) for f in doc["features"]), params
    nets = http.get(api + "/collections/networks/items").json()["features"]
    net = max(nets, key=lambda n: n["properties"]["member_count"])
    members = http.get(url, params={"network": net["id"], "limit": 1000}).json()["features"]
    everyone = http.get(url, params={"limit": 10_000}).json()["features"]
    assert len(everyone) < 10_000
    named = [f["id"] for f in everyone if net["id"] in f["properties"]["networks"].split("|")]
    assert sorted(f["id"] for f in members) == sorted(named)
    assert len(members) == net["properties"]["member_count"] > 0


def test_single_feature_and_its_links(api: str, http: requests.Session) -> None:
    first = http.get(api + "/collections/businesses/items", params={"limit": 1}).json()
    fid = first["features"][0]["id"]
    r = http.get(f"{api}/collections/businesses/items/{fid}")
    assert r.status_code == 200 and r.headers["Content-Type"] == GEOJSON
    doc = r.json()
    assert doc["id"] == fid and doc["type"] == "Feature"
    assert {link["rel"] for link in doc["links"]} == {"self", "alternate", "collection"}


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/collections/businesses/items", {"bbox": "abc"}, "bbox"),
        ("/collections/businesses/items", {"bbox": "11,54,12"}, "bbox"),
        ("/collections/businesses/items", {"bbox": "11,54,12,55,1"}, "bbox"),
        ("/collections/businesses/items", {"bbox": "11,55,12,54"}, "bbox"),
        ("/collections/businesses/items", {"bbox": "11,54,12,95"}, "bbox"),
        ("/collections/businesses/items", {"limit": "0"}, "limit"),
        ("/collections/businesses/items", {"limit": "-1"}, "limit"),
        ("/collections/businesses/items", {"limit": "unlimited"}, "limit"),
        ("/collections/businesses/items", {"datetime": "yesterday"}, "datetime"),
        ("/collections/businesses/items", {"cursor": "tampered"}, "cursor"),
        ("/collections/businesses/items", {"ooga": "booga"}, "ooga"),
        ("/collections/businesses/items", {"municipality": "Guldborgsund"}, "municipality"),
        ("/collections/businesses/items", {"industry": "ZZ"}, "industry"),
        ("/collections/businesses/items", {"crs": "EPSG:3857"}, "crs"),
        ("/collections/businesses/items", {"filter": "nosuch = 1"}, "filter"),
        ("/collections/businesses/items", {"filter": "founded >= 3"}, "filter"),
        ("/collections/businesses/items", {"filter": "founded >>= 3"}, "filter"),
        (
            "/collections/businesses/items",
            {"filter": "name = 'x'", "filter-lang": "sql"},
            "filter-lang",
        ),
        ("/collections/businesses/items", {"filter": "{", "filter-lang": "cql2-json"}, "filter"),
        ("/collections/businesses/items", {"filter-lang": "cql2-text"}, "filter-lang"),
        ("/collections/businesses/items", {"founded": "yesterday"}, "founded"),
        ("/collections/businesses/items", {"reklamebeskyttet": "maybe"}, "reklamebeskyttet"),
        (
            "/collections/businesses/items",
            {"bbox-crs": "EPSG:25832", "bbox": "11,54,12,55"},
            "bbox",
        ),
        ("/collections/networks/items", {"member_count": "many"}, "member_count"),
        ("/collections/networks/items", {"industry": "F"}, "industry"),
        ("/collections/businesses/items/12345678", {"foo": "1"}, "foo"),
        ("/collections", {"bbox": "1,2,3,4"}, "bbox"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    api: str, http: requests.Session, path: str, params: dict, parameter: str
) -> None:
    r = http.get(api + path, params=params)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["parameter"] == parameter
    assert body["code"] and body["description"]
    assert "Traceback" not in r.text


def test_repeated_parameter_is_a_400(api: str, http: requests.Session) -> None:
    r = http.get(api + "/collections/businesses/items?limit=5&limit=6")
    assert r.status_code == 400 and r.json()["parameter"] == "limit"


def test_tampered_next_cursor_is_a_400(api: str, http: requests.Session) -> None:
    doc = http.get(api + "/collections/businesses/items", params={"limit": 5}).json()
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    query = parse_qs(urlparse(nxt).query)
    cursor = query["cursor"][0]
    forged = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    r = http.get(api + "/collections/businesses/items", params={"limit": 5, "cursor": forged})
    assert r.status_code == 400 and r.json()["parameter"] == "cursor"
    moved = http.get(
        api + "/collections/businesses/items",
        params={"limit": 5, "status": "active", "cursor": cursor},
    )
    assert moved.status_code == 400 and moved.json()["parameter"] == "cursor"


@pytest.mark.parametrize(
    "path",
    [
        "/collections/nope",
        "/collections/nope/items",
        "/collections/businesses/items/00000000",
        "/collections/businesses/items/not-a-cvr",
        "/collections/networks/items/nope",
        "/collections/municipalities/items/999",
    ],
)
def test_unknown_collection_or_feature_is_a_404(
    api: str, http: requests.Session, path: str
) -> None:
    r = http.get(api + path)
    assert r.status_code == 404
    assert r.json()["code"] == "NotFound"


def test_limit_above_maximum_is_clamped(api: str, http: requests.Session) -> None:
    r = http.get(api + "/collections/businesses/items", params={"limit": 10_000_000})
    assert r.status_code == 200
    doc = r.json()
    assert 0 < doc["numberReturned"] <= 10_000
    pages = walk(http, api + "/collections/businesses/items", limit=10_000_000)
    assert sum(p["numberReturned"] for p in pages) == doc["numberMatched"]


def test_accept_is_honoured_and_json_is_the_default(api: str, http: requests.Session) -> None:
    url = api + "/collections/businesses/items?limit=1"
    assert http.get(url).headers["Content-Type"] == GEOJSON
    assert http.get(url, headers={"Accept": "application/json"}).headers["Content-Type"] == (
        "application/json"
    )
    # a browser names HTML above anything else: it gets the page
    browser = http.get(url, headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.headers["Content-Type"] == "text/html; charset=utf-8"
    assert http.get(url, headers={"Accept": "image/png, */*;q=0.8"}).headers["Content-Type"] == (
        GEOJSON
    )
    r = http.get(url, headers={"Accept": "image/png"})
    assert r.status_code == 406 and r.json()["code"] == "NotAcceptable"
    assert http.get(api + "/", headers={"Accept": "application/xml"}).status_code == 406


def test_etag_cache_control_and_conditional_get(api: str, http: requests.Session) -> None:
    url = api + "/collections/businesses/items?limit=50&municipality=390"
    r = http.get(url)
    etag = r.headers["ETag"]
    assert "max-age" in r.headers["Cache-Control"] and "public" in r.headers["Cache-Control"]
    assert http.get(url).headers["ETag"] == etag  # same data, same validator
    assert http.get(url + "&status=active").headers["ETag"] != etag
    not_modified = http.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    for path in (
        "/",
        "/api",
        "/collections",
        "/collections/businesses/items/" + r.json()["features"][0]["id"],
    ):
        h = http.get(api + path).headers
        assert h["ETag"] and "max-age" in h["Cache-Control"]


def test_cors_for_any_origin(api: str, http: requests.Session) -> None:
    r = http.get(api + "/collections/networks/items", headers={"Origin": "https://kommune.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = http.options(
        api + "/collections/networks/items",
        headers={"Origin": "https://kommune.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 200
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]


def test_epsg4326_output_is_latitude_first(api: str, http: requests.Session) -> None:
    url = api + "/collections/businesses/items"
    crs84 = http.get(url, params={"limit": 3}).json()["features"]
    r = http.get(url, params={"limit": 3, "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    swapped = r.json()["features"]
    for a, b in zip(crs84, swapped, strict=True):
        assert b["geometry"]["coordinates"] == a["geometry"]["coordinates"][::-1]


def test_bbox_returns_only_intersecting_features(api: str, http: requests.Session) -> None:
    bbox = (11.85, 54.75, 11.90, 54.78)
    doc = http.get(
        api + "/collections/businesses/items",
        params={"bbox": ",".join(map(str, bbox)), "limit": 10_000},
    ).json()
    assert 0 < doc["numberMatched"] == doc["numberReturned"]
    for f in doc["features"]:
        x, y = f["geometry"]["coordinates"]
        assert bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]
    munis = http.get(
        api + "/collections/municipalities/items", params={"bbox": "12.3,54.95,12.4,55.0"}
    ).json()
    assert [f["id"] for f in munis["features"]] == ["0390"]


def test_no_personally_owned_business_shows_address_or_exact_point(
    api: str, http: requests.Session, demo_store
) -> None:
    """Every personally owned demo business without opt-in, in every page of the API."""
    pages = walk(http, api + "/collections/businesses/items", limit=10_000)
    checked = 0
    for f in (f for p in pages for f in p["features"]):
        b = demo_store.get_business(f["id"])
        if not b.personally_owned or b.curated.show_address:
            continue
        props = f["properties"]
        assert props["address"] is None, f["id"]
        if not b.curated.show_contact:
            assert props["phone"] is None and props["email"] is None and props["website"] is None
        if props["location_precision"] == "postcode":  # already the postcode's point
            assert b.location_precision == "postcode"
        else:
            exact = [b.location.lon, b.location.lat]
            assert f["geometry"]["coordinates"] != exact, f["id"]
            assert props["location_precision"] == "grid"
            lon, lat = f["geometry"]["coordinates"]
            assert abs((lon / GRID_LON_STEP) % 1 - 0.5) < 1e-3
            assert abs((lat / GRID_LAT_STEP) % 1 - 0.5) < 1e-3
        single = http.get(f"{api}/collections/businesses/items/{f['id']}").json()
        assert single["properties"]["address"] is None
        checked += 1
    assert checked > 0.3 * len([f for p in pages for f in p["features"]])
    # and none is found by a tiny bbox around its exact point
    b = next(
        demo_store.get_business(f["id"])
        for p in pages
        for f in p["features"]
        if demo_store.get_business(f["id"]).personally_owned
        and not demo_store.get_business(f["id"]).curated.show_address
        and demo_store.get_business(f["id"]).location_precision == "address"
    )
    tiny = [
        b.location.lon - 1e-5,
        b.location.lat - 1e-5,
        b.location.lon + 1e-5,
        b.location.lat + 1e-5,
    ]
    found = http.get(
        api + "/collections/businesses/items", params={"bbox": ",".join(map(str, tiny))}
    ).json()["features"]
    assert b.id not in [f["id"] for f in found]


def test_errors_never_leak_internals(api: str, http: requests.Session) -> None:
    for path in [
        "/collections/businesses/items?" + urlencode({"bbox": "1e999,1,2,3"}),
        "/collections/businesses/items?" + urlencode({"q": "x" * 500}),
        "/collections/businesses/items/" + "9" * 300,
    ]:
        r = http.get(api + path)
        assert r.status_code in (400, 404)
        text = json.dumps(r.json())
        assert "Traceback" not in text and "sqlite" not in text.lower()
