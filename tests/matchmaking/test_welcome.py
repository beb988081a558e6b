"""The welcome feed: new businesses of a municipality with their nearest networks (JSON, Atom)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import orjson
import pytest
import requests

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.models import Curation, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.matchmaking.nearby import distance_km
from chalicelib.matchmaking.welcome import new_businesses
from chalicelib.store import Store, open_store
from chalicelib.web.http import HttpRequest
from tests.conftest import ADAPTERS, fresh_store, store_url
from tests.factories import business, network, personal

ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
HERE = (11.8729, 54.7691)  # Nykøbing F


def _square(lon: float, lat: float, d: float) -> dict:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    s.upsert_municipalities(load_municipalities(["376", "390"]))
    at = Point(lon=HERE[0], lat=HERE[1])
    s.upsert_businesses(
        [
            business("10000004", founded=date(2026, 11, 2), location=at),
            business("10000012", founded=date(2026, 10, 1)),  # before `since`
            business("10000020", founded=date(2026, 11, 20), reklamebeskyttet=True, location=at),
            personal("10000039", founded=date(2026, 11, 10), location=at),
            business("10000047", founded=date(2026, 11, 5), municipality="390"),
            business("10000055", founded=date(2026, 11, 6), curated=Curation(hidden=True)),
            business("10000063", founded=date(2026, 11, 7), outside_area=True),
        ]
    )
    s.upsert_networks(
        [
            # a meeting place about 1.3 km east
            network("east-net", name="Øst", meeting_place=Point(lon=11.893, lat=54.7691)),
            # an area that covers the businesses, meeting 15 km away
            network(
                "area-net",
                name="Området",
                meeting_place=Point(lon=12.1, lat=54.8),
                area=_square(HERE[0], HERE[1], 0.05),
            ),
            network("far-net", name="Fjern", meeting_place=Point(lon=12.3, lat=55.0)),
            network("farther-net", name="Fjernere", meeting_place=Point(lon=12.5, lat=55.2)),
        ]
    )
    yield s
    s.close()


def _get(store: Store, code: str = "376", **params: str) -> tuple[int, bytes, str]:
    params.setdefault("since", "2026-11-01")
    req = HttpRequest(
        path=f"/municipalities/{code}/new-businesses",
        params={k: [v] for k, v in params.items()},
        headers={},
        base_url="http://test",
    )
    resp = new_businesses(store, req, code)
    return resp.status, resp.body, resp.media_type


def test_json_lists_new_public_businesses_newest_first_with_networks(store: Store) -> None:
    status, body, media = _get(store)
    assert status == 200 and media == "application/geo+json"
    doc = orjson.loads(body)
    assert doc["municipality"] == {
        "kommunekode": "376",
        "name": "Guldborgsund",
        "official_name": "Guldborgsund Kommune",
        "business_contact": None,
    }
    assert doc["title"] == "Nye virksomheder i Guldborgsund Kommune"
    assert doc["description"].startswith("3 nye virksomheder registreret i CVR siden 1. november")
    # not the old one, not the other municipality, not hidden, not moved away
    assert [f["id"] for f in doc["features"]] == ["10000020", "10000039", "10000004"]
    nearest = doc["features"][2]["properties"]["nearest_networks"]
    # the welcome rule: the network meeting 1.3 km away before the one whose area holds the
    # business but which meets 15 km away, then the next; true distances to where they meet
    assert [n["id"] for n in nearest] == ["east-net", "area-net", "far-net"]
    expected = distance_km(HERE, (11.893, 54.7691))
    assert nearest[0]["distance_km"] == pytest.approx(expected, abs=0.05)
    assert not nearest[0]["within_area"] and nearest[1]["within_area"]
    assert nearest[1]["distance_km"] == pytest.approx(distance_km(HERE, (12.1, 54.8)), abs=0.05)
    assert nearest[0]["distance_km"] < nearest[1]["distance_km"] < nearest[2]["distance_km"]
    assert [r["da"] for r in nearest[1]["reasons"]][:2] == [
        "Du ligger i netværkets område",
        f"Mødes {nearest[1]['distance_km']:.1f} km fra dig".replace(".", ","),
    ]


def test_marketing_protected_businesses_are_flagged(store: Store) -> None:
    doc = orjson.loads(_get(store)[1])
    flags = {f["id"]: f["properties"]["marketing_allowed"] for f in doc["features"]}
    assert flags == {"10000020": False, "10000039": True, "10000004": True}
    protected = next(f for f in doc["features"] if f["id"] == "10000020")["properties"]
    assert protected["phone"] is None and protected["email"] is None


def test_privacy_rules_apply_in_the_feed(store: Store) -> None:
    doc = orjson.loads(_get(store)[1])
    sole = next(f for f in doc["features"] if f["id"] == "10000039")
    assert sole["properties"]["address"] is None
    assert sole["properties"]["location_precision"] == "grid"
    assert sole["geometry"]["coordinates"] != list(HERE)


def test_atom_feed_in_danish_and_english(store: Store) -> None:
    status, body, media = _get(store, f="atom")
    assert status == 200 and media == "application/atom+xml"
    feed = ET.fromstring(body)
    assert feed.find("a:title", ATOM_NS).text == "Nye virksomheder i Guldborgsund Kommune"
    assert feed.find("a:subtitle", ATOM_NS).text == (
        "3 nye virksomheder registreret i CVR siden 1. november 2026, med de nærmeste netværk"
    )
    entries = feed.findall("a:entry", ATOM_NS)
    assert [e.find("a:id", ATOM_NS).text for e in entries] == [
        "urn:cvr:10000020",
        "urn:cvr:10000039",
        "urn:cvr:10000004",
    ]
    first = entries[0]
    terms = [c.get("term") for c in first.findall("a:category", ATOM_NS)]
    assert "reklamebeskyttet" in terms
    content = first.find("a:content", ATOM_NS).text
    assert "Nærmeste netværk: Øst (1,3 km); Området (i netværkets område, mødes 15," in content
    assert "må ikke kontaktes med markedsføring" in content
    english = ET.fromstring(_get(store, f="atom", lang="en")[1])
    assert english.find("a:title", ATOM_NS).text == "New businesses in Guldborgsund Municipality"
    assert english.find("a:subtitle", ATOM_NS).text.startswith(
        "3 new businesses registered in CVR since 1 November 2026"
    )
    content = english.find("a:entry/a:content", ATOM_NS).text
    assert "Nearest networks" in content and "2-4 employees" in content
    assert "Registered: 20 November 2026" in content
    # distances in each language's decimals
    km = re.search(r"Øst \((\d+)([.,])(\d) km\)", content)
    assert km is not None and km.group(2) == "."
    danish = ET.fromstring(_get(store, f="atom")[1]).find("a:entry/a:content", ATOM_NS).text
    assert f"Øst ({km.group(1)},{km.group(3)} km)" in danish and "2-4 ansatte" in danish


def test_a_page_of_several_is_not_counted_as_the_whole(store: Store) -> None:
    first = ET.fromstring(_get(store, f="atom", limit="1")[1])
    assert first.find("a:subtitle", ATOM_NS).text == (
        "Virksomheder registreret i CVR siden 1. november 2026, med de nærmeste netværk"
    )
    none = ET.fromstring(_get(store, "390", f="atom", since="2026-11-30")[1])
    assert none.find("a:subtitle", ATOM_NS).text == (
        "Ingen nye virksomheder registreret i CVR siden 30. november 2026"
    )


def test_pages_follow_next_links_and_see_each_business_once(store: Store) -> None:
    seen: list[str] = []
    params = {"limit": "1"}
    for _ in range(10):
        doc = orjson.loads(_get(store, **params)[1])
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        params = {k: v[0] for k, v in parse_qs(urlsplit(nxt[0]).query).items()}
    assert sorted(seen) == ["10000004", "10000020", "10000039"]


def test_without_networks_the_feed_still_answers(tmp_path: Path) -> None:
    s = open_store(store_url("sqlite", tmp_path))
    s.upsert_municipalities(load_municipalities(["390"]))
    s.upsert_businesses([business("10000047", founded=date(2026, 11, 5), municipality="390")])
    doc = orjson.loads(_get(s, "390")[1])
    assert doc["features"][0]["properties"]["nearest_networks"] == []
    atom = ET.fromstring(_get(s, "0390", f="atom")[1])
    assert "Ingen netværk" in atom.find("a:entry/a:content", ATOM_NS).text


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "last week"}, "since"),
        ({"since": "2026-13-01"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"limit": "²"}, "limit"),
        ({"f": "xml"}, "f"),
        ({"lang": "de"}, "lang"),
        ({"colour": "red"}, "colour"),
        ({"cursor": "forged"}, "cursor"),
    ],
)
def test_bad_input_names_the_parameter(store: Store, params: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        _get(store, **params)
    assert err.value.parameter == parameter


def test_unknown_municipality_is_not_found(store: Store) -> None:
    for code in ("101", "abc", "12345"):
        with pytest.raises(NotFound):
            _get(store, code)


def test_over_http_json_atom_and_errors(api: str, http: requests.Session, demo_store) -> None:
    url = f"{api}/municipalities/376/new-businesses"
    since = "2025-06-01"
    r = http.get(url, params={"since": since, "limit": "1000"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/geo+json")
    doc = r.json()
    expected = _public_new(demo_store, "376", date.fromisoformat(since))
    assert sorted(f["id"] for f in doc["features"]) == expected
    assert all(f["properties"]["nearest_networks"] for f in doc["features"])
    atom = http.get(url, params={"since": since}, headers={"Accept": "application/atom+xml"})
    assert atom.status_code == 200 and atom.headers["Content-Type"].startswith(
        "application/atom+xml"
    )
    assert ET.fromstring(atom.content).tag == "{http://www.w3.org/2005/Atom}feed"
    bad = http.get(url, params={"since": "yesterday"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["parameter"] == "since"
    missing = http.get(f"{api}/municipalities/999/new-businesses", timeout=10)
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    spec = http.get(f"{api}/api", timeout=10).json()
    assert "/municipalities/{kommunekode}/new-businesses" in spec["paths"]


def _public_new(store: Store, code: str, since: date) -> list[str]:
    """The independent answer: every business of the store, filtered in Python."""
    ids = []
    page_after = None
    from chalicelib.store import FeatureQuery

    while True:
        page = store.query("businesses", FeatureQuery(limit=10_000, after=page_after))
        for f in page.features:
            doc = orjson.loads(f)
            p = doc["properties"]
            if (
                p["municipality"] == code.zfill(4)
                and p["founded"]
                and p["founded"] >= since.isoformat()
            ):
                ids.append(doc["id"])
        if page.next_after is None:
            return sorted(ids)
        page_after = page.next_after


def test_atom_stays_well_formed_with_control_characters_in_a_name(tmp_path: Path) -> None:
    s = open_store(store_url("sqlite", tmp_path))
    s.upsert_municipalities(load_municipalities(["376"]))
    s.upsert_businesses(
        [business("10000047", name="Bell\x07 & <Co> \x01ApS", founded=date(2026, 11, 5))]
    )
    feed = ET.fromstring(_get(s, "376", f="atom")[1])
    assert feed.find("a:entry/a:title", ATOM_NS).text == "Bell & <Co> ApS"
    links = [link.get("href") for link in feed.findall("a:link", ATOM_NS)]
    assert any("f=atom" in href for href in links)
