"""The clients in the project's venv: pyogrio (a current wheel, GDAL 3.12's OAPIF driver) and
OWSLib (CQL2 `filter` by hand, as a script would send it).

GDAL 3.12, unlike 3.6, reads the OpenAPI `limit` for its page size (1000 here, after a first
request of 20 that reads the schema), sends `crs=` for the CRS open option when the collection
lists it, and translates `where` to CQL2 text when the service conforms to Part 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.e2e.gis import expected
from tests.e2e.gis.conftest import run_pyogrio
from tests.e2e.gis.expected import BBOX, FILTER_NAMES

UTM32 = "http://www.opengis.net/def/crs/EPSG/0/25832"


def _filters(http: requests.Session, server: str) -> dict[str, expected.Filter]:
    feats = expected.features(http, server, "businesses")
    return {**expected.business_filters(feats), **expected.bbox_filters(feats)}


@pytest.mark.parametrize("name", FILTER_NAMES)
def test_pyogrio_where_selects_what_the_data_says(
    server: str, http: requests.Session, tmp_path: Path, name: str
) -> None:
    """read_dataframe(where=EXPR): the ids of exactly the businesses the data has for EXPR."""
    flt = _filters(http, server)[name]
    want = expected.ids(flt.select(expected.features(http, server, "businesses")))
    assert want, f"the demo data has no business for {flt.expression}"
    run = run_pyogrio(tmp_path, f"OAPIF:{server}/", "businesses", where=flt.expression)
    assert run.ids == want, (
        f"{flt.expression}: pyogrio read {len(run.ids)}, the data has {len(want)}\n" + run.explain()
    )


@pytest.mark.parametrize("name", ["bbox-industry-code-like", "bbox-founded-since-2020"])
def test_pyogrio_bbox_and_where(
    server: str, http: requests.Session, tmp_path: Path, name: str
) -> None:
    flt = _filters(http, server)[name]
    want = expected.ids(flt.select(expected.features(http, server, "businesses")))
    assert want, f"the demo data has no business in {BBOX} for {flt.expression}"
    run = run_pyogrio(
        tmp_path, f"OAPIF:{server}/", "businesses", where=flt.expression, bbox=list(BBOX)
    )
    assert any("bbox=" in u for u in run.item_urls), run.explain()
    assert run.ids == want, run.explain()


def test_pyogrio_picks_pages_of_at_least_1000(server: str, tmp_path: Path) -> None:
    """GDAL 3.12 without PAGE_SIZE: after its first, small, schema request, pages of 1000."""
    run = run_pyogrio(tmp_path, f"OAPIF:{server}/", "businesses", columns=["name"])
    pages = [u for u in run.item_urls if "cursor=" in u or "limit=1000" in u]
    assert pages, run.explain()
    limits = [int(u.split("limit=")[1].split("&")[0]) for u in run.item_urls[1:]]
    assert limits and min(limits) >= 1000, run.explain()


def test_utm32_round_trip_to_the_millimetre(
    server: str, http: requests.Session, tmp_path: Path
) -> None:
    """GDAL 3.12 with CRS=EPSG:25832 asks for crs=.../25832 and gets eastings and northings
    that PROJ computes from the API's CRS84 points to within 1 mm; and a box in UTM 32N
    (bbox-crs) selects the points whose UTM coordinates fall inside it. GDAL 3.6 has no CRS
    open option (`ogrinfo --format OAPIF`), so the round trip runs on GDAL 3.12."""
    from pyproj import Transformer

    to_utm = Transformer.from_crs("OGC:CRS84", "EPSG:25832", always_xy=True)
    feats = {str(f["id"]): f for f in expected.features(http, server, "businesses")}
    run = run_pyogrio(tmp_path, f"OAPIF:{server}/", "businesses", points=True, CRS="EPSG:25832")
    assert any("crs=" in u and "25832" in u for u in run.item_urls), run.explain()
    assert "25832" in str(run.doc["crs"]), run.doc["crs"]
    assert {p[0] for p in run.doc["points"]} == set(feats)
    worst = 0.0
    for fid, x, y in run.doc["points"]:
        lon, lat = feats[fid]["geometry"]["coordinates"][:2]
        e, n = to_utm.transform(lon, lat)
        worst = max(worst, abs(e - x), abs(n - y))
    assert worst <= 0.001, f"{worst:.4f} m off"

    # a box in UTM 32N around Nykøbing Falster (bbox is in the layer's CRS for pyogrio)
    e0, n0 = to_utm.transform(BBOX[0], BBOX[1])
    box = (e0, n0, e0 + 9000.0, n0 + 7000.0)

    def inside(f: dict) -> bool:
        e, n = to_utm.transform(*f["geometry"]["coordinates"][:2])
        return box[0] <= e <= box[2] and box[1] <= n <= box[3]

    want = {fid for fid, f in feats.items() if inside(f)}
    assert want
    boxed = run_pyogrio(
        tmp_path, f"OAPIF:{server}/", "businesses", CRS="EPSG:25832", bbox=list(box)
    )
    assert any("bbox-crs=" in u and "25832" in u for u in boxed.item_urls), boxed.explain()
    assert boxed.ids == want, boxed.explain()


# -- OWSLib: CQL2 filter --------------------------------------------------------------------

CQL2 = {
    # name: (cql2-text, cql2-json), the meaning: expected.business_filters
    "founded-since-2020": (
        "founded >= DATE('2020-01-01')",
        {"op": ">=", "args": [{"property": "founded"}, {"date": "2020-01-01"}]},
    ),
    "ceased-before-2024": (
        "ceased < DATE('2024-01-01')",
        {"op": "<", "args": [{"property": "ceased"}, {"date": "2024-01-01"}]},
    ),
    "industry-text-like": (
        "industry_text LIKE '%Tømr%'",
        {"op": "like", "args": [{"property": "industry_text"}, "%Tømr%"]},
    ),
    "municipality-in": (
        "municipality IN ('0376','0390')",
        {"op": "in", "args": [{"property": "municipality"}, ["0376", "0390"]]},
    ),
    "municipality-in-part": (
        "municipality IN ('0390','0101')",
        {"op": "in", "args": [{"property": "municipality"}, ["0390", "0101"]]},
    ),
}


@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize("name", list(CQL2))
def test_owslib_cql2_filter(server: str, http: requests.Session, name: str, lang: str) -> None:
    """OWSLib's collection_items with `filter` and `filter-lang` (its keyword arguments go
    to the query string as they are; its `cql=` would POST, which the API does not take)."""
    from owslib.ogcapi.features import Features

    text, doc = CQL2[name]
    flt = _filters(http, server)[name]
    want = expected.ids(flt.select(expected.features(http, server, "businesses")))
    assert want, f"the demo data has no business for {flt.expression}"
    api = Features(server + "/")
    params = {
        "filter": text if lang == "cql2-text" else json.dumps(doc, ensure_ascii=False),
        "filter-lang": lang,
        "limit": 10000,
    }
    page = api.collection_items("businesses", **params)
    assert not [link for link in page["links"] if link["rel"] == "next"]
    got = {str(f["id"]) for f in page["features"]}
    assert page["numberMatched"] == len(want), api.request
    assert got == want, api.request


def test_owslib_sortby_pages_through_the_sorted_selection(
    server: str, http: requests.Session
) -> None:
    """OWSLib's `sortby=(property, "desc")`, which it sends as `sortby=-property`: the
    municipality's businesses, newest first, page after page by the `next` links, each once,
    in order."""
    from owslib.ogcapi.features import Features

    kept = [
        f
        for f in expected.features(http, server, "businesses")
        if f["properties"]["municipality"] == "0376"
    ]
    api = Features(server + "/")
    page = api.collection_items(
        "businesses", municipality="0376", sortby=("founded", "desc"), limit=500
    )
    got = list(page["features"])
    nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    while nxt:
        doc = http.get(nxt[0], timeout=60).json()
        got += doc["features"]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
    assert page["numberMatched"] == len(kept) == len(got) > 500
    assert {str(f["id"]) for f in got} == expected.ids(kept)
    dates = [f["properties"]["founded"] or "" for f in got]
    undated = dates.count("")
    assert dates[:undated] == [""] * undated  # descending: the missing dates first
    assert dates[undated:] == sorted(dates[undated:], reverse=True)
