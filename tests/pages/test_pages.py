"""Every resource of OGC API - Features as an HTML page (the `html` conformance class): asked
for with `f=html` or by a browser's Accept, in Danish or English, linked to each other, built
from the same data as the JSON (the privacy rules included), with schema.org markup on the
pages of a business and a network. Errors a browser meets are pages too."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import orjson
import pytest
import requests

from chalicelib.domain.models import Point
from chalicelib.store import FeatureQuery, Store, open_store
from tests.factories import business, network, personal

HTML = "text/html; charset=utf-8"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PAGES = (
    "/",
    "/conformance",
    "/collections",
    "/collections/businesses",
    "/collections/networks",
    "/collections/businesses/items",
    "/collections/networks/items",
    "/collections/network-meeting-places/items",
    "/collections/municipalities/items",
    "/collections/municipalities/items/376",
    "/collections/businesses/queryables",
    "/collections/businesses/sortables",
    "/collections/networks/schema",
    "/api",
)


class _Page(HTMLParser):
    """What the tests read from a page: its language, headings, links, table rows, JSON-LD."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.h1: list[str] = []
        self.links: list[str] = []
        self.rows = 0
        self.json_ld: list[Any] = []
        self._in: list[str] = []
        self._text: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "tr" and "tbody" in self._in:
            self.rows += 1
        if tag == "script" and a.get("type") == "application/ld+json":
            self._text = []
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._text:
            self.json_ld.append(json.loads("".join(self._text)))
            self._text = []
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "h1":
            self.h1.append(data.strip())
        if self._in and self._in[-1] == "script":
            self._text.append(data)
        elif "script" not in self._in and "style" not in self._in:
            self.text.append(data)


def _read(r: requests.Response) -> _Page:
    page = _Page()
    page.feed(r.text)
    return page


@pytest.mark.parametrize("path", PAGES)
def test_each_resource_is_a_page_for_f_html_and_for_a_browser(
    api: str, http: requests.Session, path: str
) -> None:
    data = http.get(api + path)
    assert data.status_code == 200 and "json" in data.headers["Content-Type"]
    by_f = http.get(api + path, params={"f": "html"})
    by_accept = http.get(api + path, headers={"Accept": BROWSER})
    for r in (by_f, by_accept):
        assert r.status_code == 200 and r.headers["Content-Type"] == HTML
        assert "Accept-Language" in r.headers["Vary"]
        page = _read(r)
        assert page.lang == "da" and len(page.h1) == 1 and page.h1[0]
    assert _read(by_f).h1 == _read(by_accept).h1
    english = http.get(api + path, params={"f": "html", "lang": "en"})
    browser_en = http.get(
        api + path, headers={"Accept": BROWSER, "Accept-Language": "en-GB,en;q=0.9,da;q=0.5"}
    )
    assert _read(english).lang == "en" and _read(browser_en).lang == "en"
    assert english.content != by_f.content
    # the JSON names its page, and the page its JSON
    page_links = [
        link for link in data.json().get("links", []) if link["type"].startswith("text/html")
    ]
    if "links" in data.json() and path != "/conformance":
        assert page_links, "the JSON links its page"
    assert 'rel="alternate"' in by_f.text


def test_the_conformance_declares_the_html_class(api: str, http: requests.Session) -> None:
    classes = http.get(api + "/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html" in classes


def test_api_clients_still_get_json(api: str, http: requests.Session) -> None:
    """What GDAL, QGIS and OWSLib send, and no Accept at all."""
    for accept in (None, "*/*", "application/json", "application/geo+json, application/json"):
        headers = {"Accept": accept} if accept else {}
        for path in ("/", "/collections", "/collections/businesses/items?limit=1"):
            r = http.get(api + path, headers=headers)
            assert "json" in r.headers["Content-Type"], (accept, path)


def test_pages_link_to_each_other_and_every_link_answers(api: str, http: requests.Session) -> None:
    """A walk from the landing page over the links of this site, as a visitor would click."""
    seen: set[str] = set()
    kinds: dict[str, int] = {}  # pages per kind of page: a few of each, not every business
    queue = [f"{api}/?f=html"]
    pages = 0
    while queue and pages < 150:
        url = queue.pop(0)
        parts = urlsplit(url)
        kind = re.sub(r"/items/[^/]+$", "/items/*", parts.path) + str(
            sorted(k for k, _ in parse_qsl(parts.query) if k not in ("f", "lang"))
        )
        if url in seen or kinds.get(kind, 0) >= 6:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        seen.add(url)
        r = http.get(url, headers={"Accept": BROWSER})
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        if not r.headers["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        for link in _read(r).links:
            target = urljoin(url, link)
            if urlsplit(target).netloc == urlsplit(api).netloc and "/widget/" not in target:
                queue.append(target.split("#")[0])
    assert pages >= 30
    visited = "\n".join(seen)
    for kind in ("/collections/businesses/items/", "/collections/networks/items/"):
        assert kind in visited


def test_the_items_page_shows_the_same_features_as_the_json(
    api: str, http: requests.Session
) -> None:
    params = {"municipality": "390", "industry": "F", "limit": "25"}
    data = http.get(api + "/collections/businesses/items", params=params).json()
    r = http.get(api + "/collections/businesses/items", params={**params, "f": "html"})
    page = _read(r)
    assert page.rows == data["numberReturned"] == 25
    for f in data["features"]:
        assert f"/collections/businesses/items/{f['id']}?" in r.text
    assert f"{data['numberMatched']:,}".replace(",", ".") in r.text  # "I alt 1.234."
    # the next page, as the page's own link gives it
    nxt = next(link for link in _read(r).links if "cursor=" in link)
    second = http.get(urljoin(r.url, nxt), headers={"Accept": BROWSER})
    assert second.status_code == 200 and _read(second).rows > 0
    json_next = next(link["href"] for link in data["links"] if link["rel"] == "next")
    following = http.get(json_next).json()
    assert {f["id"] for f in following["features"]} <= {
        href.rsplit("/", 1)[1].split("?")[0]
        for href in _read(second).links
        if "/collections/businesses/items/" in href
    }


def test_the_filter_form_sends_empty_fields_that_mean_any(api: str, http: requests.Session) -> None:
    """A form submitted with fields left empty (q=&industry=…) is read as no filter there."""
    r = http.get(
        api + "/collections/businesses/items",
        params={"f": "html", "q": "", "municipality": "376", "industry": "", "status": ""},
    )
    assert r.status_code == 200
    every = http.get(
        api + "/collections/businesses/items", params={"municipality": "376", "limit": 1}
    ).json()
    assert f"{every['numberMatched']:,}".replace(",", ".") in r.text
    # JSON keeps its strict reading: an empty q is an error there
    assert http.get(api + "/collections/businesses/items", params={"q": ""}).status_code == 400


def test_errors_a_browser_meets_are_pages(api: str, http: requests.Session) -> None:
    for path, params, status in (
        ("/collections/businesses/items", {"limit": "0"}, 400),
        ("/collections/nope", {}, 404),
        ("/collections/businesses/items/99999999", {}, 404),
        ("/", {"lang": "xx"}, 400),
    ):
        r = http.get(api + path, params=params, headers={"Accept": BROWSER})
        assert r.status_code == status and r.headers["Content-Type"] == HTML, (path, r.text)
        page = _read(r)
        assert len(page.h1) == 1 and any("/" in link for link in page.links)
        data = http.get(api + path, params=params)
        assert data.status_code == status and data.json()["description"] in r.text.replace(
            "&#x27;", "'"
        )


def _demo_feature(store: Store, collection: str, query: FeatureQuery) -> list[dict[str, Any]]:
    return [orjson.loads(f) for f in store.query(collection, query).features]


def test_a_business_page_and_its_markup_say_what_the_feature_says(
    api: str, http: requests.Session, demo_store: Store
) -> None:
    members = _demo_feature(
        demo_store, "businesses", FeatureQuery(network="erhvervsnetvaerk-falster", limit=5)
    )
    feature = next(f for f in members if f["properties"]["location_precision"] == "address")
    cvr = feature["id"]
    r = http.get(f"{api}/collections/businesses/items/{cvr}", params={"f": "html"})
    page = _read(r)
    assert page.h1 == [feature["properties"]["name"]]
    (ld,) = page.json_ld
    assert ld["@type"] == "LocalBusiness" and ld["identifier"]["value"] == cvr
    assert ld["address"]["streetAddress"] == feature["properties"]["address"]
    lon, lat = feature["geometry"]["coordinates"]
    assert (ld["geo"]["longitude"], ld["geo"]["latitude"]) == (lon, lat)
    assert "erhvervsnetvaerk-falster" in json.dumps(ld["memberOf"])
    assert any("/erhvervsnetvaerk-falster?" in link for link in page.links)


def test_a_network_page_lists_its_members(
    api: str, http: requests.Session, demo_store: Store
) -> None:
    nid = "erhvervsnetvaerk-falster"
    active = _demo_feature(
        demo_store, "businesses", FeatureQuery(network=nid, status="active", limit=1000)
    )
    found = demo_store.get_feature("networks", nid) or demo_store.get_feature(
        "network-meeting-places", nid
    )
    assert found is not None
    collection = "networks" if demo_store.get_feature("networks", nid) else "network-meeting-places"
    r = http.get(f"{api}/collections/{collection}/items/{nid}", params={"f": "html"})
    assert r.status_code == 200
    page = _read(r)
    (ld,) = page.json_ld
    assert ld["@type"] == "Organization" and ld["name"] == orjson.loads(found)["properties"]["name"]
    listed = {m["@id"].split("/items/")[1].split("?")[0] for m in ld.get("member", [])}
    assert listed == {f["id"] for f in active}
    for f in active:
        assert f"/collections/businesses/items/{f['id']}?" in r.text


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory, app_transport: Any) -> Iterator[str]:
    """A site whose data is hand-built: a name with markup, a personally owned firm, a
    marketing-protected one, a hidden one, and a network of them."""
    folder: Path = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{folder / 'm.db'}"
    store = open_store(url)
    store.create_table()
    store.upsert_businesses(
        [
            business("10000004", name="<script>alert(1)</script> & Søn ApS"),
            personal("10000012", address="Hemmelig Vej 7", location=Point(lon=11.9, lat=54.77)),
            business("10000020", name="Beskyttet ApS", reklamebeskyttet=True),
            business("10000039", name="Skjult ApS"),
        ]
    )
    from chalicelib.domain.models import Curation

    store.curate_business("10000039", Curation(hidden=True))
    store.upsert_networks(
        [network("test-net", members=["10000004", "10000012", "10000020", "10000039"])]
    )
    store.close()
    yield app_transport.add(
        "pages-crafted", {"MIKROKORT_STORE": url, "MIKROKORT_BLOBS": f"file://{folder / 'b'}"}
    )


def test_pages_escape_the_data_and_keep_the_privacy_rules(
    crafted: str, http: requests.Session
) -> None:
    r = http.get(f"{crafted}/collections/businesses/items/10000004", params={"f": "html"})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert _read(r).json_ld[0]["name"] == "<script>alert(1)</script> & Søn ApS"
    own = http.get(f"{crafted}/collections/businesses/items/10000012", params={"f": "html"})
    assert own.status_code == 200
    assert "Hemmelig Vej" not in own.text and "+45 12 34 56 78" not in own.text
    (ld,) = _read(own).json_ld
    assert "streetAddress" not in ld["address"] and "geo" not in ld and "telephone" not in ld
    protected = http.get(f"{crafted}/collections/businesses/items/10000020", params={"f": "html"})
    assert "+45 12 34 56 78" not in protected.text and "a@b.example" not in protected.text
    hidden = http.get(f"{crafted}/collections/businesses/items/10000039", params={"f": "html"})
    assert hidden.status_code == 404
    net = http.get(f"{crafted}/collections/networks/items/test-net", params={"f": "html"})
    if net.status_code == 404:
        net = http.get(
            f"{crafted}/collections/network-meeting-places/items/test-net", params={"f": "html"}
        )
    assert net.status_code == 200
    assert "Skjult ApS" not in net.text and "10000039" not in net.text
    assert "Beskyttet ApS" in net.text


def test_the_items_page_filters_by_size_as_the_api_does(api: str, http: requests.Session) -> None:
    """The form's size choices are the map's: micro-businesses (0-9 employees, or none in the
    register) and 10 or more; each shows what the API selects for the same `size`."""
    form = http.get(api + "/collections/businesses/items", params={"f": "html"}).text
    choices = re.findall(r'<select id="size" name="size">(.*?)</select>', form)[0]
    values = re.findall(r'<option value="([^"]*)"', choices)
    assert values == ["", "micro,unknown", "10-19,20-49,50-99,100-199,200-499,500-999,1000+"]
    for size in values[1:]:
        params = {"municipality": "376", "size": size, "limit": "100"}
        data = http.get(api + "/collections/businesses/items", params=params).json()
        micro = size.startswith("micro")
        assert data["features"] and all(
            (f["properties"]["employees"] in (None, "0", "1", "2-4", "5-9")) == micro
            for f in data["features"]
        )
        page = http.get(api + "/collections/businesses/items", params={**params, "f": "html"})
        assert _read(page).rows == data["numberReturned"]
        assert f"{data['numberMatched']:,}".replace(",", ".") in page.text
        assert re.search(f'<option value="{re.escape(size)}" selected>', page.text)


def test_an_english_business_page_names_its_industry_in_english(
    api: str, http: requests.Session, demo_store: Store
) -> None:
    from chalicelib.domain.industry import english_industry_text

    features = _demo_feature(demo_store, "businesses", FeatureQuery(industry="433200", limit=1))
    (feature,) = features
    p = feature["properties"]
    english = english_industry_text(p["industry_code"])
    assert english == "Joinery installation"
    r = http.get(f"{api}/collections/businesses/items/{feature['id']}", params={"f": "html"})
    assert p["industry_text"] in r.text and english not in r.text  # Danish: the register's
    r = http.get(
        f"{api}/collections/businesses/items/{feature['id']}", params={"f": "html", "lang": "en"}
    )
    # English: the NACE class, with the register's Danish text marked as Danish
    assert f"{english} (433200)" in r.text
    assert f'<span class="note" lang="da">{html.escape(p["industry_text"])}</span>' in r.text
