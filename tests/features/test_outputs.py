"""The output side of items and item, in-process on the demo data of both stores: the formats
(GeoJSON, JSON-FG, CSV) by `f` and by `Accept` in each CRS, `properties` and `skipGeometry`,
and the features' schema (Part 5) with the links to it.

JSON-FG is validated against the official JSON-FG 1.0 schemas (tests/fixtures/json-fg, offline)
and compared with the GeoJSON answer; CSV is read back with Python's csv module and compared
value by value with the GeoJSON answer; the schema is checked against every demo feature.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import shapely
from jsonschema import Draft202012Validator
from shapely.geometry import shape

from chalicelib.domain.crs import EPSG25832
from chalicelib.domain.geo import CRS84, EPSG4326
from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.features.documents import CONFORMANCE
from chalicelib.features.formats import WKT_COLUMN, csv_value
from chalicelib.features.schemas import property_names, temporal_property
from tests.conftest import walk
from tests.features.test_formats import _valid

GEOJSON = "application/geo+json"
JSONFG = "application/vnd.ogc.fg+json"
CSV = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"
SCHEMA_JSON = "application/schema+json"
COLLECTIONS = list(COLLECTION_INFO)
CRSES = [CRS84, EPSG4326, EPSG25832]
PART5 = [
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/schemas",
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/advanced-property-roles",
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/returnables-and-receivables",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
]
PAGE = 7


def _items(api: str, cid: str) -> str:
    return f"{api}/collections/{cid}/items"


def _geojson(http: requests.Session, url: str, **params: Any) -> dict[str, Any]:
    r = http.get(url, params={"f": "geojson", **params})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == GEOJSON
    return r.json()


def _first_id(http: requests.Session, api: str, cid: str) -> str:
    return _geojson(http, _items(api, cid), limit=1)["features"][0]["id"]


def _rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _links(header: str) -> dict[str, str]:
    """A Link header's targets by relation."""
    out = {}
    for part in re.findall(r"<([^>]*)>;\s*rel=\"([^\"]+)\"", header):
        out[part[1]] = part[0]
    return out


def _same_geometry(wkt: str, geometry: dict[str, Any] | None) -> None:
    if geometry is None:
        assert wkt == ""
        return
    assert shapely.equals_exact(shapely.from_wkt(wkt), shape(geometry), tolerance=0), wkt[:80]


# -- media types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "accept", "media"),
    [
        (None, None, GEOJSON),
        ("json", None, GEOJSON),
        ("geojson", "text/csv", GEOJSON),
        ("jsonfg", None, JSONFG),
        ("csv", None, CSV),
        (None, "application/geo+json", GEOJSON),
        (None, "application/json", "application/json"),
        (None, "application/vnd.ogc.fg+json", JSONFG),
        (None, "text/csv", CSV),
        (None, "text/csv;q=0.5, application/vnd.ogc.fg+json", JSONFG),
        (None, "text/html, */*;q=0.1", HTML),
        (None, "image/png, */*;q=0.1", GEOJSON),
    ],
)
def test_items_and_item_are_negotiated_by_f_and_accept(
    api: str, http: requests.Session, f: str | None, accept: str | None, media: str
) -> None:
    fid = _first_id(http, api, "businesses")
    params = {"f": f} if f else {}
    headers = {"Accept": accept} if accept else {}
    for url in (_items(api, "businesses"), f"{_items(api, 'businesses')}/{fid}"):
        r = http.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == media
        # a page is also in the browser's language
        assert r.headers["Vary"] == ("Accept, Accept-Language" if media == HTML else "Accept")


def test_an_accept_without_any_offer_is_a_406(api: str, http: requests.Session) -> None:
    r = http.get(_items(api, "businesses"), headers={"Accept": "application/xml"})
    assert r.status_code == 406 and r.json()["code"] == "NotAcceptable"


# -- JSON-FG --------------------------------------------------------------------------------


@pytest.mark.parametrize("crs", CRSES)
@pytest.mark.parametrize("cid", COLLECTIONS)
def test_jsonfg_items_validate_and_carry_what_geojson_carries(
    api: str, http: requests.Session, cid: str, crs: str
) -> None:
    url = _items(api, cid)
    plain = _geojson(http, url, limit=PAGE)["features"]
    in_crs = _geojson(http, url, limit=PAGE, crs=crs)["features"]
    r = http.get(url, params={"limit": PAGE, "f": "jsonfg", "crs": crs})
    assert r.status_code == 200 and r.headers["Content-Type"] == JSONFG
    assert r.headers["Content-Crs"] == f"<{crs}>"
    doc = _valid(r.content)
    assert doc["featureType"] == cid and doc["coordRefSys"] == crs
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["self"]["type"] == JSONFG and "profile" in rels
    if "next" in rels:
        assert rels["next"]["type"] == JSONFG
        assert parse_qs(urlparse(rels["next"]["href"]).query)["f"] == ["jsonfg"]
    temporal = temporal_property(cid)
    assert [f["id"] for f in doc["features"]] == [f["id"] for f in plain]
    for fg, wgs84, moved in zip(doc["features"], plain, in_crs, strict=True):
        assert fg["properties"] == wgs84["properties"]
        if crs == CRS84:
            assert fg["place"] is None and fg["geometry"] == wgs84["geometry"]
        else:  # the geometry in the CRS asked for, and the WGS 84 one beside it
            assert fg["place"] == moved["geometry"]
            assert fg["geometry"] == wgs84["geometry"]
        if temporal is None:
            assert fg["time"] is None
        else:
            value = wgs84["properties"][temporal[0]]
            assert fg["time"] == (None if value is None else {"date": value})


@pytest.mark.parametrize("crs", CRSES)
@pytest.mark.parametrize("cid", COLLECTIONS)
def test_jsonfg_item_is_a_valid_root_feature(
    api: str, http: requests.Session, cid: str, crs: str
) -> None:
    fid = _first_id(http, api, cid)
    url = f"{_items(api, cid)}/{fid}"
    plain = _geojson(http, url)
    r = http.get(url, params={"f": "jsonfg", "crs": crs})
    assert r.status_code == 200 and r.headers["Content-Type"] == JSONFG
    doc = _valid(r.content)
    assert doc["type"] == "Feature" and doc["id"] == fid and doc["featureType"] == cid
    assert doc["properties"] == plain["properties"]
    assert doc["geometry"] == (plain["geometry"] if crs == CRS84 or doc["place"] else None)
    if crs != CRS84 and plain["geometry"]:
        assert doc["place"] == _geojson(http, url, crs=crs)["geometry"]
    assert {link["rel"] for link in doc["links"]} >= {"self", "collection", "profile"}


def test_jsonfg_businesses_carry_their_founding_date_as_time(
    api: str, http: requests.Session
) -> None:
    doc = http.get(_items(api, "businesses"), params={"limit": 200, "f": "jsonfg"}).json()
    dated = [f for f in doc["features"] if f["properties"]["founded"]]
    assert dated, "the demo has founding dates"
    assert all(f["time"] == {"date": f["properties"]["founded"]} for f in dated)
    undated = [f for f in doc["features"] if not f["properties"]["founded"]]
    assert all(f["time"] is None for f in undated)


# -- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("crs", CRSES)
@pytest.mark.parametrize("cid", COLLECTIONS)
def test_csv_items_read_back_value_by_value_as_the_geojson(
    api: str, http: requests.Session, cid: str, crs: str
) -> None:
    url = _items(api, cid)
    features = _geojson(http, url, limit=PAGE, crs=crs)["features"]
    r = http.get(url, params={"limit": PAGE, "f": "csv", "crs": crs})
    assert r.status_code == 200 and r.headers["Content-Type"] == CSV
    assert r.headers["Content-Disposition"] == f'inline; filename="{cid}.csv"'
    assert r.headers["Content-Crs"] == f"<{crs}>"
    assert r.content.endswith(b"\r\n") and not r.content.startswith(b"\xef\xbb\xbf")
    rows = _rows(r.content.decode("utf-8"))
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert header == ["id", *property_names(cid), WKT_COLUMN]
    assert len(rows) == len(features)
    for row, feature in zip(rows, features, strict=True):
        assert row["id"] == feature["id"]
        for name in property_names(cid):
            assert row[name] == csv_value(feature["properties"][name]), (feature["id"], name)
        _same_geometry(row[WKT_COLUMN], feature["geometry"])


def test_csv_pages_by_its_link_header_like_geojson(api: str, http: requests.Session) -> None:
    url = _items(api, "businesses")
    params = {"limit": 10, "municipality": "390", "industry": "F"}
    expected = [f["id"] for page in walk(http, url, **params) for f in page["features"]]
    seen: list[str] = []
    r = http.get(url, params={**params, "f": "csv"})
    while True:
        assert r.status_code == 200, r.text
        seen += [row["id"] for row in _rows(r.text)]
        links = _links(r.headers["Link"])
        assert {"self", "collection"} <= set(links)
        assert 'type="text/csv; charset=utf-8"' in r.headers["Link"]
        if "next" not in links:
            break
        assert parse_qs(urlparse(links["next"]).query)["f"] == ["csv"]
        r = http.get(links["next"])
    assert seen == expected and len(seen) > 10


@pytest.mark.parametrize("crs", CRSES)
def test_csv_item_is_one_row(api: str, http: requests.Session, crs: str) -> None:
    for cid in COLLECTIONS:
        fid = _first_id(http, api, cid)
        url = f"{_items(api, cid)}/{fid}"
        feature = _geojson(http, url, crs=crs)
        r = http.get(url, params={"f": "csv", "crs": crs})
        assert r.status_code == 200 and r.headers["Content-Type"] == CSV
        assert set(_links(r.headers["Link"])) == {"self", "alternate", "collection"}
        (row,) = _rows(r.text)
        assert row["id"] == fid
        assert all(row[n] == csv_value(feature["properties"][n]) for n in property_names(cid))
        _same_geometry(row[WKT_COLUMN], feature["geometry"])


# -- properties and skipGeometry ------------------------------------------------------------


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_properties_keeps_only_the_named_ones_in_every_format(
    api: str, http: requests.Session, cid: str
) -> None:
    names = list(property_names(cid))
    picked = [names[-1], names[0]]  # the order asked for, not the model's
    url = _items(api, cid)
    full = _geojson(http, url, limit=PAGE)["features"]
    fid = full[0]["id"]
    params = {"limit": PAGE, "properties": ",".join(picked)}
    geo = _geojson(http, url, **params)["features"]
    one = _geojson(http, f"{url}/{fid}", properties=",".join(picked))
    for got, whole in zip([*geo, one], [*full, full[0]], strict=True):
        assert list(got["properties"]) == picked
        assert got["properties"] == {n: whole["properties"][n] for n in picked}
        assert got["geometry"] == whole["geometry"]
    fg = http.get(url, params={**params, "f": "jsonfg"})
    doc = _valid(fg.content)
    assert [list(f["properties"]) for f in doc["features"]] == [picked] * len(full)
    text = http.get(url, params={**params, "f": "csv"}).text
    assert next(csv.reader(io.StringIO(text))) == ["id", *picked, WKT_COLUMN]
    assert [r["id"] for r in _rows(text)] == [f["id"] for f in full]
    none = _geojson(http, url, limit=PAGE, properties="")["features"]
    assert all(f["properties"] == {} for f in none)


def test_jsonfg_time_stays_when_properties_leaves_the_date_out(
    api: str, http: requests.Session
) -> None:
    doc = http.get(
        _items(api, "businesses"), params={"limit": 100, "f": "jsonfg", "properties": "name"}
    ).json()
    full = _geojson(http, _items(api, "businesses"), limit=100)["features"]
    for f, whole in zip(doc["features"], full, strict=True):
        founded = whole["properties"]["founded"]
        assert f["time"] == (None if founded is None else {"date": founded})


@pytest.mark.parametrize("f", ["geojson", "jsonfg", "csv"])
@pytest.mark.parametrize("crs", [CRS84, EPSG25832])
def test_skip_geometry_drops_the_geometry_in_every_format(
    api: str, http: requests.Session, f: str, crs: str
) -> None:
    for cid in COLLECTIONS:
        url = _items(api, cid)
        fid = _first_id(http, api, cid)
        for target in (url, f"{url}/{fid}"):
            params = {"f": f, "crs": crs, "skipGeometry": "true"}
            if target == url:
                params["limit"] = str(PAGE)
            r = http.get(target, params=params)
            assert r.status_code == 200, r.text
            if f == "csv":
                assert all(row[WKT_COLUMN] == "" for row in _rows(r.text))
                continue
            doc = _valid(r.content) if f == "jsonfg" else r.json()
            features = doc.get("features", [doc])
            assert features and all(x["geometry"] is None for x in features)
            assert all(x.get("place") is None for x in features)
            assert all(x["properties"] for x in features)
        kept = _geojson(http, url, limit=PAGE, skipGeometry="false")["features"]
        assert kept == _geojson(http, url, limit=PAGE)["features"]


def test_the_etag_follows_the_output_options(api: str, http: requests.Session) -> None:
    url = _items(api, "businesses")
    variants = [
        {},
        {"properties": "name"},
        {"properties": "name,founded"},
        {"skipGeometry": "true"},
        {"f": "jsonfg"},
        {"f": "csv"},
        {"f": "csv", "properties": "name"},
    ]
    tags = []
    for extra in variants:
        r = http.get(url, params={"limit": 5, **extra})
        assert r.status_code == 200
        tags.append(r.headers["ETag"])
        again = http.get(url, params={"limit": 5, **extra}, headers={"If-None-Match": tags[-1]})
        assert again.status_code == 304 and again.content == b""
    assert len(set(tags)) == len(variants)
    by_accept = http.get(url, params={"limit": 5}, headers={"Accept": "text/csv"})
    assert by_accept.headers["ETag"] not in (tags[0], tags[4])


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"f": "xml"}, "f"),
        ({"f": "CSV"}, "f"),
        ({"properties": "nosuch"}, "properties"),
        ({"properties": "name,,founded"}, "properties"),
        ({"properties": "id"}, "properties"),
        ({"properties": "name", "f": "csv", "skipGeometry": "yes"}, "skipGeometry"),
        ({"skipGeometry": "1"}, "skipGeometry"),
        ({"skipGeometry": ""}, "skipGeometry"),
        ({"skipgeometry": "true"}, "skipgeometry"),
    ],
)
def test_bad_output_parameters_are_a_400_naming_them(
    api: str, http: requests.Session, params: dict[str, str], parameter: str
) -> None:
    fid = _first_id(http, api, "businesses")
    for url in (_items(api, "businesses"), f"{_items(api, 'businesses')}/{fid}"):
        r = http.get(url, params=params)
        assert r.status_code == 400, (url, params, r.text)
        body = r.json()
        assert body["parameter"] == parameter
        if parameter == "properties":  # names the property, and lists them all
            names = property_names("businesses")
            bad = next(n for n in params["properties"].split(",") if n not in names)
            assert f"unknown property '{bad}'" in body["description"]
            assert all(n in body["description"] for n in names)


# -- the schema (Part 5) --------------------------------------------------------------------


def _schema(http: requests.Session, api: str, cid: str) -> dict[str, Any]:
    r = http.get(f"{api}/collections/{cid}/schema")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == SCHEMA_JSON
    return r.json()


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_schema_is_a_part5_json_schema_with_roles(
    api: str, http: requests.Session, cid: str
) -> None:
    doc = _schema(http, api, cid)
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == f"{api}/collections/{cid}/schema" and "?" not in doc["$id"]
    assert doc["type"] == "object"
    props = doc["properties"]
    assert list(props) == ["id", "geometry", *property_names(cid)]  # non-queryables too
    for name, prop in props.items():
        if prop.get("format", "").startswith("geometry-"):
            assert "type" not in prop and "$ref" not in prop, name
        else:
            assert isinstance(prop["type"], str), name  # one type: GDAL reads dates as dates
        assert "$ref" not in str(prop)
    roles = {n: p["x-ogc-role"] for n, p in props.items() if "x-ogc-role" in p}
    temporal = temporal_property(cid)
    expected = {"id": "id", "geometry": "primary-geometry"}
    if temporal:
        expected[temporal[0]] = "primary-instant"
        assert props[temporal[0]]["type"] == "string" and props[temporal[0]]["format"] == "date"
    assert roles == expected
    assert props["id"]["type"] == "string"
    assert [p["x-ogc-propertySeq"] for p in props.values()] == list(range(1, len(props) + 1))
    # the same document as JSON, by f and by Accept
    again = http.get(f"{api}/collections/{cid}/schema", headers={"Accept": "application/json"})
    assert again.headers["Content-Type"] == "application/json" and again.json() == doc
    assert http.get(f"{api}/collections/{cid}/schema", params={"f": "csv"}).status_code == 400


def test_business_dates_are_typed_as_dates(api: str, http: requests.Session) -> None:
    props = _schema(http, api, "businesses")["properties"]
    for name in ("founded", "ceased"):
        assert (props[name]["type"], props[name]["format"]) == ("string", "date")
    assert (props["updated_at"]["type"], props["updated_at"]["format"]) == (
        "string",
        "date-time",
    )


_GEOMETRY_TYPES = {
    "geometry-point": {"Point"},
    "geometry-multipolygon": {"MultiPolygon"},
    "geometry-polygon-or-multipolygon": {"Polygon", "MultiPolygon"},
    "geometry-any": {"Point", "Polygon", "MultiPolygon", "LineString", "MultiPoint"},
}


def _without_nulls(value: Any) -> Any:
    """A value with its null members left out: a property that may be null is not `required`
    in the schema, and typed by the values it takes."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_every_demo_feature_matches_the_schema(api: str, http: requests.Session, cid: str) -> None:
    doc = _schema(http, api, cid)
    props = {k: v for k, v in doc["properties"].items() if k not in ("id", "geometry")}
    validator = Draft202012Validator(
        {
            "type": "object",
            "properties": props,
            "required": [n for n in doc["required"] if n != "id"],
            "additionalProperties": False,
        },
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    id_validator = Draft202012Validator(doc["properties"]["id"])
    allowed = _GEOMETRY_TYPES[doc["properties"]["geometry"]["format"]]
    features = [f for page in walk(http, _items(api, cid), limit=10_000) for f in page["features"]]
    assert features
    for f in features:
        errors = [e.message for e in validator.iter_errors(_without_nulls(f["properties"]))]
        assert errors == [], (f["id"], errors[:3])
        assert set(f["properties"]) == set(props), f["id"]  # every property is in the schema
        assert list(id_validator.iter_errors(f["id"])) == []
        assert f["geometry"] is None or f["geometry"]["type"] in allowed, f["id"]
        for name in doc["required"]:
            assert name == "id" or f["properties"][name] is not None, (f["id"], name)


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_collections_link_their_schema_as_describedby(
    api: str, http: requests.Session, cid: str
) -> None:
    one = http.get(f"{api}/collections/{cid}").json()
    listed = {c["id"]: c for c in http.get(f"{api}/collections").json()["collections"]}
    for doc in (one, listed[cid]):
        schema_links = [
            link for link in doc["links"] if link["href"] == f"{api}/collections/{cid}/schema"
        ]
        rels = {link["rel"] for link in schema_links}
        # describedby (RFC 8288), describedBy (GDAL 3.6 compares case-sensitively), Part 5's
        assert rels == {
            "describedby",
            "describedBy",
            "http://www.opengis.net/def/rel/ogc/1.0/schema",
        }
        assert all(link["type"] == SCHEMA_JSON for link in schema_links)
        items = {link["type"]: link["href"] for link in doc["links"] if link["rel"] == "items"}
        assert set(items) == {GEOJSON, JSONFG, CSV, "text/html"}
        for media, href in items.items():
            answer = http.get(href, params={"limit": 1}).headers["Content-Type"]
            assert answer.split(";")[0] == media.split(";")[0]


def test_conformance_declares_part5(api: str, http: requests.Session) -> None:
    declared = http.get(api + "/conformance").json()["conformsTo"]
    assert set(PART5) <= set(declared)
    assert set(PART5) <= set(CONFORMANCE)
    assert not [c for c in declared if "json-fg" in c]  # JSON-FG's API class needs `profile`


def test_unknown_collection_schema_is_a_404(api: str, http: requests.Session) -> None:
    r = http.get(f"{api}/collections/nope/schema")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


# -- the API document -----------------------------------------------------------------------


def test_openapi_declares_the_formats_options_and_schemas(api: str, http: requests.Session) -> None:
    doc = http.get(api + "/api").json()
    params = doc["components"]["parameters"]

    def declared(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out = {}
        for p in op["parameters"]:
            target = params[p["$ref"].rsplit("/", 1)[-1]]
            out[target["name"]] = target
        return out

    for cid in COLLECTIONS:
        for path in (f"/collections/{cid}/items", f"/collections/{cid}/items/{{featureId}}"):
            op = doc["paths"][path]["get"]
            named = declared(op)
            assert named["f"]["schema"]["enum"] == ["json", "geojson", "jsonfg", "csv", "html"]
            assert named["skipGeometry"]["schema"]["type"] == "boolean"
            prop = named["properties"]["schema"]
            assert prop["type"] == "array" and prop["items"]["enum"] == list(property_names(cid))
            content = op["responses"]["200"]["content"]
            assert {GEOJSON, "application/json", JSONFG, CSV} <= set(content)
            assert "Link" in op["responses"]["200"]["headers"]
        schema_op = doc["paths"][f"/collections/{cid}/schema"]["get"]
        assert SCHEMA_JSON in schema_op["responses"]["200"]["content"]
        assert {"200", "400", "406"} <= set(schema_op["responses"])
