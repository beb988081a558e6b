"""`sortby` and `/sortables` through the API on the demo data (of the store this run uses),
each order checked against one computed here with Python's stable sorts from every feature
walked without sortby; and the order's rules (Danish text, missing values, ties) on features
written out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.domain.reference import load_municipalities
from chalicelib.domain.sorting import page_after, sort_features
from chalicelib.features.service import FeaturesService
from chalicelib.store import shared
from chalicelib.store.sqlite import SQLiteStore
from chalicelib.web.http import HttpRequest
from tests.conftest import walk as walk_pages
from tests.factories import business, cvr_number

ITEMS = "/collections/businesses/items"
_DANISH = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # the three letters after z, in order


def walk(http: requests.Session, url: str, **params: object) -> list[dict[str, Any]]:
    return [f for page in walk_pages(http, url, **params) for f in page["features"]]


@pytest.fixture(scope="module")
def everything(api: str, http: requests.Session) -> list[dict[str, Any]]:
    return walk(http, api + ITEMS, limit=10_000)


def _danish(text: str) -> str:
    return text.casefold().translate(_DANISH)


def test_founded_newest_first_then_name_is_the_order_python_gives(
    api: str, http: requests.Session, everything: list[dict[str, Any]]
) -> None:
    want = sorted(everything, key=lambda f: f["id"])
    want = sorted(want, key=lambda f: (_danish(f["properties"]["name"]), f["properties"]["name"]))
    want = sorted(  # newest first; without a date first, as descending puts missing values
        want,
        key=lambda f: (f["properties"]["founded"] is None, f["properties"]["founded"] or ""),
        reverse=True,  # Python's sort stays stable when reversed: ties keep the name order
    )
    got = walk(http, api + ITEMS, sortby="-founded,name", limit=97)
    assert [f["id"] for f in got] == [f["id"] for f in want]
    assert len(got) == len(everything) > 97  # several pages, each feature once


def test_ascending_puts_missing_values_last_and_plus_may_arrive_as_a_space(
    api: str, http: requests.Session, everything: list[dict[str, Any]]
) -> None:
    by_id = sorted(everything, key=lambda f: f["id"])
    want = sorted(
        by_id,
        key=lambda f: (f["properties"]["ceased"] is None, f["properties"]["ceased"] or ""),
    )
    for sortby in ("ceased", "+ceased", " ceased"):  # ' ceased': `+ceased` unescaped
        got = walk(http, api + ITEMS, sortby=sortby, limit=1000)
        assert [f["id"] for f in got] == [f["id"] for f in want], sortby


def test_sortby_with_a_filter_orders_the_selection_and_counts_it(
    api: str, http: requests.Session, everything: list[dict[str, Any]]
) -> None:
    kept = [f for f in everything if f["properties"]["municipality"] == "0390"]
    want = sorted(sorted(kept, key=lambda f: f["id"]), key=lambda f: f["properties"]["postcode"])
    first = http.get(
        api + ITEMS, params={"municipality": "0390", "sortby": "postcode", "limit": 50}
    ).json()
    assert first["numberMatched"] == len(kept)
    got = walk(http, api + ITEMS, municipality="0390", sortby="postcode", limit=50)
    assert [f["id"] for f in got] == [f["id"] for f in want]


def test_networks_sort_by_name_descending(api: str, http: requests.Session) -> None:
    networks = walk(http, api + "/collections/networks/items", limit=1000)
    want = sorted(
        sorted(networks, key=lambda f: f["id"]),
        key=lambda f: (_danish(f["properties"]["name"]), f["properties"]["name"]),
        reverse=True,
    )
    got = walk(http, api + "/collections/networks/items", sortby="-name", limit=5)
    assert [f["properties"]["name"] for f in got] == [f["properties"]["name"] for f in want]


@pytest.mark.parametrize(
    ("sortby", "says"),
    [
        ("shoe_size", "not sortable"),
        ("--name", "not a property name"),
        ("name;drop", "not a property name"),
        ("", "not a property name"),
        ("a,b,c,d,e,f", "at most 5"),
    ],
)
def test_a_bad_sortby_is_a_400_that_says_what_is_wrong(
    api: str, http: requests.Session, sortby: str, says: str
) -> None:
    r = http.get(api + ITEMS, params={"sortby": sortby})
    assert r.status_code == 400
    assert r.json()["parameter"] == "sortby" and says in r.json()["description"]


def test_sortables_are_the_queryables_without_the_geometry(
    api: str, http: requests.Session
) -> None:
    for cid in ("businesses", "networks", "network-meeting-places", "municipalities"):
        collection = http.get(f"{api}/collections/{cid}").json()
        rel = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
        (href,) = [link["href"] for link in collection["links"] if link["rel"] == rel]
        sortables = http.get(href).json()
        queryables = http.get(f"{api}/collections/{cid}/queryables").json()
        assert set(sortables["properties"]) == set(queryables["properties"]) - {"geometry"}
        assert sortables["$id"] == href
    conformance = http.get(api + "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting" in conformance


# -- the rules of the order, on features written out here ---------------------------------------


def _f(fid: str, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": None, "properties": props}


def test_text_sorts_in_danish_order_without_case() -> None:
    names = ["Åbo Maler", "zebra ApS", "Ærø Kaffe", "Østerby VVS", "alfa", "Zebra ApS", "Aage"]
    features = [_f(str(i), name=n) for i, n in enumerate(names)]
    got = [f["properties"]["name"] for f in sort_features(features, [("name", False)])]
    assert got == [
        "Aage",
        "alfa",
        "Zebra ApS",
        "zebra ApS",
        "Ærø Kaffe",
        "Østerby VVS",
        "Åbo Maler",
    ]


def test_missing_values_come_last_ascending_and_first_descending_ties_by_id() -> None:
    features = [_f("3", d="2020"), _f("1"), _f("2", d="2020"), _f("0", d="2019")]
    up = [f["id"] for f in sort_features(features, [("d", False)])]
    down = [f["id"] for f in sort_features(features, [("d", True)])]
    assert up == ["0", "2", "3", "1"]
    assert down == ["1", "2", "3", "0"]  # ties stay by id, ascending, in both directions


def test_a_page_starts_after_the_last_position_even_when_that_feature_is_gone() -> None:
    keys = [("d", False)]
    ordered = sort_features([_f(str(i), d=str(i % 3)) for i in range(9)], keys)
    first, onward = page_after(ordered, keys, None, 4)
    assert onward is not None
    rest = [f for f in ordered if f["id"] != first[-1]["id"]]  # the last one shown is deleted
    second, _ = page_after(rest, keys, onward, 100)
    assert [f["id"] for f in first + second] == [f["id"] for f in ordered]


def test_a_selection_too_large_to_sort_is_a_400_naming_sortby(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"))
    store.create_table()
    store.upsert_municipalities(load_municipalities(["376"]))
    store.upsert_businesses([business(cvr_number(n)) for n in range(30)])
    monkeypatch.setattr(shared, "SORT_MAX", 20)  # the rule at a size a test can reach
    service = FeaturesService(store)

    def get(**params: str) -> Any:
        req = HttpRequest(
            path=ITEMS, params={k: [v] for k, v in params.items()}, headers={}, base_url="http://x"
        )
        return service.items(req, "businesses")

    from chalicelib.domain.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="sortby orders at most 20"):
        get(sortby="name")
    assert get(sortby="name", filter=f"id <= '{sorted(cvr_number(n) for n in range(30))[9]}'")
    store.close()
