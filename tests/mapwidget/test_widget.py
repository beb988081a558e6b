"""The embeddable map widget's files, its data endpoint and the demo page, in-process on the
demo data (the widget in a real browser: tests/e2e/test_widget_browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import walk

# -- the built widget --------------------------------------------------------------------------


def test_widget_files_are_served_with_types_and_long_caching(
    api: str, http: requests.Session, built_widget: Path
) -> None:
    for name, media in (("mikrokort.js", "text/javascript"), ("mikrokort.css", "text/css")):
        r = http.get(f"{api}/widget/{name}")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith(media)
        assert r.content == (built_widget / name).read_bytes()
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "max-age=86400" in r.headers["Cache-Control"]
        etag = r.headers["ETag"]
        again = http.get(f"{api}/widget/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        # the content hash in ?v= pins the version: cached for a year
        version = etag.strip('"')
        pinned = http.get(f"{api}/widget/{name}", params={"v": version})
        assert "immutable" in pinned.headers["Cache-Control"]
        stale = http.get(f"{api}/widget/{name}", params={"v": "0" * 12})
        assert "immutable" not in stale.headers["Cache-Control"]
    # a CMS's own cache buster does not break the embed
    assert http.get(f"{api}/widget/mikrokort.js", params={"ver": "6.4"}).status_code == 200


def test_the_script_names_the_stylesheet_version_it_loads(
    api: str, http: requests.Session, built_widget: Path
) -> None:
    css_etag = http.get(f"{api}/widget/mikrokort.css").headers["ETag"].strip('"')
    script = http.get(f"{api}/widget/mikrokort.js").text
    assert f"mikrokort.css?v={css_etag}" in script
    assert "window.L=" not in script.replace(" ", "")  # Leaflet's ES module: no global L


@pytest.mark.parametrize(
    "name",
    [
        "package.json",
        "mikrokort.js.map",
        "..%2Fpackage.json",
        "..%2F..%2Fapp.py",
        "%2e%2e%2f%2e%2e%2fapp.py",
        "mikrokort.js%00.css",
        "MIKROKORT.JS",
        "index.js",
    ],
)
def test_nothing_but_the_built_files_is_reachable(
    api: str, http: requests.Session, name: str
) -> None:
    r = http.get(f"{api}/widget/{name}")
    assert r.status_code == 404
    assert r.json()["code"] == "NotFound"


def test_asset_names_are_a_fixed_list(tmp_path: Path) -> None:
    from chalicelib.mapwidget.widget import ASSETS, built_file

    assert built_file("../../app.py") is None
    assert built_file("/etc/passwd") is None
    assert set(ASSETS) == {"mikrokort.js", "mikrokort.css"}


# -- the compact map data -------------------------------------------------------------------


def _map_data(http: requests.Session, api: str, code: str) -> dict[str, Any]:
    r = http.get(f"{api}/municipalities/{code}/map-data")
    assert r.status_code == 200, r.text
    return r.json()


def _active_items(http: requests.Session, api: str, code: str) -> list[dict[str, Any]]:
    """The municipality's active public businesses, as the items API gives them."""
    pages = walk(
        http,
        f"{api}/collections/businesses/items",
        municipality=code,
        status="active",
        limit=10000,
    )
    return [f for page in pages for f in page["features"]]


def test_map_data_holds_exactly_the_public_active_businesses(
    api: str, http: requests.Session
) -> None:
    for code in ("376", "390"):
        doc = _map_data(http, api, code)
        assert doc["version"] == 1
        assert doc["municipality"]["kommunekode"] == code
        assert doc["municipality"]["boundary"]["type"] in ("Polygon", "MultiPolygon")
        fields = doc["fields"]
        public = {f["id"]: f for f in _active_items(http, api, code)}
        rows = {row[0]: dict(zip(fields, row, strict=True)) for row in doc["businesses"]}
        assert rows, "no businesses in the map data"
        assert rows.keys() == public.keys()
        networks = doc["networks"]
        for cvr, row in rows.items():
            feature = public[cvr]
            p = feature["properties"]
            lon, lat = feature["geometry"]["coordinates"]
            assert (row["lon"], row["lat"]) == (round(lon, 5), round(lat, 5))
            assert row["name"] == p["name"]
            assert row["employees"] == p["employees"]
            # the street address only where the public feature has one (privacy rules)
            assert row["address"] == p["address"]
            assert row["precision"] == p["location_precision"]
            assert row["postcode"] == p["postcode"]
            assert doc["postcodes"].get(p["postcode"]) == p["city"]
            code_, section, text = doc["industries"][row["industry"]]
            assert (code_, section, text) == (
                p["industry_code"],
                p["industry_section"],
                p["industry_text"],
            )
            assert "|".join(sorted(networks[i]["id"] for i in row["networks"])) == p["networks"]
        # no contact details of businesses at all: the map does not need them
        raw = http.get(f"{api}/municipalities/{code}/map-data").text
        for cvr in list(rows)[:200]:
            props = public[cvr]["properties"]
            for contact in (props["phone"], props["email"]):
                if contact:
                    assert contact not in raw
        listed = walk(http, f"{api}/collections/networks/items", municipality=code)
        listed_ids = {f["id"] for page in listed for f in page["features"]}
        assert listed_ids <= {n["id"] for n in networks}
        for n in networks:
            assert n["meeting_place"] is None or len(n["meeting_place"]) == 2
            assert n["area"] is None or n["area"]["type"] in ("Polygon", "MultiPolygon")
        assert doc["tiles"]["url"]


@pytest.fixture(scope="module")
def tiled_api(demo_env: dict[str, str], app_transport: Any) -> str:
    """The demo store served with a row limit below both demo municipalities' counts."""
    adapter = "sqlite" if demo_env["MIKROKORT_STORE"].startswith("sqlite") else "dynamodb"
    return app_transport.add(f"tiled-{adapter}", {**demo_env, "MIKROKORT_MAP_ROWS_MAX": "50"})


def test_a_municipality_past_the_row_limit_gets_counts_not_rows(
    api: str, tiled_api: str, http: requests.Session
) -> None:
    for code in ("376", "390"):
        full = _map_data(http, api, code)
        assert full["tiled"] is None and len(full["businesses"]) > 50
        # the size choices: micro-businesses (0-9, or no figure) and the rest, every group once
        assert full["sizes"]["micro"] == [None, "0", "1", "2-4", "5-9"]
        assert full["sizes"]["larger"][0] == "10-19" and full["sizes"]["larger"][-1] == "1000+"
        doc = _map_data(http, tiled_api, code)
        assert doc["businesses"] == [] and doc["industries"] == [] and doc["postcodes"] == {}
        placed = [f for f in _active_items(http, api, code) if f["geometry"] is not None]

        def counts(features: list[dict[str, Any]]) -> dict[str, Any]:
            sections: dict[str, int] = {}
            for f in features:
                s = f["properties"]["industry_section"] or "unknown"
                sections[s] = sections.get(s, 0) + 1
            return {"count": len(features), "section_counts": sections}

        micro = [
            f for f in placed if f["properties"]["employees"] in (None, "0", "1", "2-4", "5-9")
        ]
        larger = [f for f in placed if f not in micro]
        assert micro and larger and any(f["properties"]["employees"] is None for f in micro)
        sizes = {"micro": counts(micro), "larger": counts(larger)}
        assert doc["tiled"] == {**counts(placed), "sizes": sizes}
        sections = counts(placed)["section_counts"]
        assert set(doc["sections"]) == set(sections) - {"unknown"}
        # the rest of the document is the full one's: boundary, networks, tiles, attribution
        for key in ("municipality", "networks", "tiles", "attribution", "version", "sizes"):
            assert doc[key] == full[key], key
        # its own validator: the row limit is part of what the answer depends on
        tag = http.get(f"{tiled_api}/municipalities/{code}/map-data").headers["ETag"]
        assert tag != http.get(f"{api}/municipalities/{code}/map-data").headers["ETag"]
        again = http.get(
            f"{tiled_api}/municipalities/{code}/map-data", headers={"If-None-Match": tag}
        )
        assert again.status_code == 304


def test_map_data_is_cacheable(api: str, http: requests.Session) -> None:
    r = http.get(f"{api}/municipalities/376/map-data")
    assert r.headers["Content-Type"] == "application/json"
    assert "max-age=300" in r.headers["Cache-Control"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    again = http.get(
        f"{api}/municipalities/0376/map-data", headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/municipalities/999/map-data", 404, None),
        ("/municipalities/abc/map-data", 404, None),
        ("/municipalities/376/map-data?f=xml", 400, "f"),
        ("/municipalities/376/map-data?limit=5", 400, "limit"),
        ("/municipalities/376/map-data?f=json&f=json", 400, "f"),
    ],
)
def test_map_data_errors_name_the_parameter(
    api: str, http: requests.Session, path: str, status: int, parameter: str | None
) -> None:
    r = http.get(api + path)
    assert r.status_code == status, r.text
    assert r.json().get("parameter") == parameter


def test_map_data_refuses_media_it_cannot_make(api: str, http: requests.Session) -> None:
    r = http.get(f"{api}/municipalities/376/map-data", headers={"Accept": "text/html"})
    assert r.status_code == 406


def test_map_data_is_in_the_openapi_document(api: str, http: requests.Session) -> None:
    doc = http.get(api + "/api").json()
    op = doc["paths"]["/municipalities/{kommunekode}/map-data"]["get"]
    assert {"200", "304", "400", "404", "406"} <= set(op["responses"])
    schema = doc["components"]["schemas"]["MapData"]
    assert {"municipality", "fields", "businesses", "networks"} <= set(schema["required"])


def _feature(cvr: str, networks: list[str], geometry: bool = True) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": cvr,
        "geometry": {"type": "Point", "coordinates": [11.1234567, 54.7654321]}
        if geometry
        else None,
        "properties": {
            "name": f"Firma {cvr}",
            "industry_code": "433200",
            "industry_section": "F",
            "industry_text": "Tømrere",
            "employees": "2-4",
            "address": None,
            "postcode": "4800",
            "city": "Nykøbing F",
            "location_precision": "grid",
            "networks": "|".join(networks),
            "phone": "+45 11 22 33 44",
            "email": "hemmelig@example.dk",
        },
    }


def _network(nid: str, codes: list[str]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": nid,
        "geometry": None,  # no area: the marker is the meeting place
        "properties": {
            "name": nid,
            "municipalities": "|".join(c.zfill(4) for c in codes),
            "meeting_place_lon": 11.5,
            "meeting_place_lat": 54.5,
            "member_count": 3,
        },
    }


def test_map_data_keeps_the_networks_that_matter_and_no_contact_details() -> None:
    from chalicelib.mapwidget.widget import build_map_data

    municipality = {
        "type": "Feature",
        "id": "0376",
        "geometry": {"type": "Polygon", "coordinates": [[[11, 54], [12, 54], [12, 55], [11, 54]]]},
        "properties": {"kommunekode": "0376", "name": "Guldborgsund"},
    }
    doc = build_map_data(
        municipality,
        [
            _feature("10000001", ["over-the-border"]),
            _feature("10000002", []),
            _feature("10000003", [], geometry=False),
        ],
        [
            _network("here", ["376"]),
            _network("elsewhere", ["390"]),
            _network("over-the-border", ["390"]),
        ],
        {"url": "https://t/{z}/{x}/{y}.png", "attribution": "T"},
    )
    assert [n["id"] for n in doc["networks"]] == ["here", "over-the-border"]
    assert doc["networks"][0]["meeting_place"] == [11.5, 54.5]
    assert [row[0] for row in doc["businesses"]] == ["10000001", "10000002"]  # no place: left out
    assert doc["businesses"][0][1:3] == [11.12346, 54.76543]
    assert doc["businesses"][0][-1] == [1]
    text = str(doc)
    assert "hemmelig" not in text and "+45" not in text
    assert doc["sections"] == {"F": ["Bygge og anlæg", "Construction"]}


def test_page_policy_allows_the_configured_tile_server() -> None:
    from chalicelib.mapwidget.widget import page_policy

    assert "img-src 'self' data: https:;" in page_policy("https://tile.example/{z}/{x}/{y}.png")
    assert "http://127.0.0.1:9999;" in page_policy("http://127.0.0.1:9999/{z}/{x}/{y}.png")
    assert "http://*.tiles.example;" in page_policy("http://{s}.tiles.example/{z}/{x}/{y}.png")
    assert "frame-ancestors 'none';" in page_policy("https://tile.example/{z}/{x}/{y}.png")
    assert "frame-ancestors *;" in page_policy("https://t.example/{z}/{x}/{y}.png", "*")


def test_demo_page_embeds_two_widgets(api: str, http: requests.Session) -> None:
    r = http.get(api + "/demo")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    page = r.text
    assert page.count("data-mikrokort ") == 3  # two widgets, plus the snippet shown
    assert 'data-municipality="376" data-lang="da"' in page
    assert 'data-municipality="390" data-lang="en"' in page
    assert f'<script src="{api}/widget/mikrokort.js" defer></script>' in page
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
