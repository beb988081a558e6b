"""robots.txt and the sitemaps: the index names a file of the site's pages and, per covered
municipality, files of at most PER_FILE business pages that together hold every active public
business once, and never a hidden or ceased one."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import orjson
import pytest
import requests

from chalicelib.pages import sitemap
from chalicelib.store import FeatureQuery, Store, iter_public_pages

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _locs(http: requests.Session, url: str, tag: str) -> list[str]:
    r = http.get(url)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{NS['s']}}}{tag}"
    return [
        el.text or ""
        for el in root.findall(f"s:{'sitemap' if tag == 'sitemapindex' else 'url'}/s:loc", NS)
    ]


def _active(store: Store, code: str) -> set[str]:
    query = FeatureQuery(municipality=code, status="active")
    return {
        orjson.loads(f)["id"]
        for page in iter_public_pages(store, "businesses", query)
        for f in page
    }


def test_robots_names_the_sitemap(api: str, http: requests.Session) -> None:
    text = http.get(api + "/robots.txt").text
    assert f"Sitemap: {api}/sitemap.xml" in text.splitlines()
    assert "Disallow: /admin/" in text.splitlines()


@pytest.mark.parametrize("per_file", [sitemap.PER_FILE, 700])
def test_the_files_hold_every_active_business_once(
    api: str,
    http: requests.Session,
    demo_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    per_file: int,
) -> None:
    monkeypatch.setattr(sitemap, "PER_FILE", per_file)
    files = _locs(http, api + "/sitemap.xml", "sitemapindex")
    assert files[0] == f"{api}/sitemaps/pages.xml"
    for code in ("376", "390"):
        mine = [f for f in files if f"/businesses-{code}-" in f]
        want = _active(demo_store, code)
        assert len(mine) == -(-len(want) // per_file)
        listed: list[str] = []
        for url in mine:
            urls = _locs(http, url, "urlset")
            assert 0 < len(urls) <= per_file
            listed += [u.split("/items/")[1].removesuffix("?f=html") for u in urls]
        assert len(listed) == len(set(listed)) and set(listed) == want
        beyond = mine[-1].rsplit("-", 1)[0] + f"-{len(mine)}.xml"
        assert http.get(beyond).status_code == 404


def test_the_pages_file_names_the_networks_and_every_url_answers(
    api: str, http: requests.Session
) -> None:
    urls = _locs(http, api + "/sitemaps/pages.xml", "urlset")
    networks = {
        n["id"]
        for n in http.get(api + "/collections/network-meeting-places/items").json()["features"]
    }
    named = {
        u.split("/items/")[1].removesuffix("?f=html")
        for u in urls
        if "/networks/items/" in u or "/network-meeting-places/items/" in u
    }
    assert networks <= named
    for url in urls:
        assert http.get(url).status_code == 200, url


def test_an_unknown_file_is_a_404(api: str, http: requests.Session) -> None:
    for name in ("nope.xml", "businesses-101-0.xml", "businesses-376-x.xml"):
        assert http.get(f"{api}/sitemaps/{name}").status_code == 404
