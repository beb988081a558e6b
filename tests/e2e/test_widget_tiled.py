"""The map widget's tiled mode in Debian's chromium: `mikrokort serve` on the demo with a row
limit below both municipalities' counts (MIKROKORT_MAP_ROWS_MAX=50), so the widget draws from
the API's vector tiles and lists from its items, as it does for København. What it shows is
compared with what the API itself answers: counts, filters, the list by name, a business's
popup, and a tile that fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import DemoStores
from tests.e2e.browser import Stub, Visit, click_visible_part, state, widget
from tests.e2e.conftest import demo_site

TILES = "/collections/businesses/tiles/WebMercatorQuad/"
MICRO = "unknown,0,1,2-4,5-9"  # the widget's default size: the map data's `sizes.micro`


@pytest.fixture(scope="module")
def site(stub: Stub, demo_stores: DemoStores) -> Iterator[str]:
    """The demo with a row limit of 50: every municipality's map is drawn from the tiles."""
    with demo_site(stub, demo_stores, MIKROKORT_MAP_ROWS_MAX="50") as url:
        yield url


@pytest.fixture(scope="module")
def tiled(site: str) -> dict[str, dict[str, Any]]:
    docs = {c: requests.get(f"{site}/municipalities/{c}/map-data").json() for c in ("376", "390")}
    for doc in docs.values():
        assert doc["tiled"] and doc["businesses"] == []
    return {c: d["tiled"] for c, d in docs.items()}


def _matched(site: str, **params: str) -> int:
    r = requests.get(
        f"{site}/collections/businesses/items",
        params={"status": "active", "limit": "1", **params},
    )
    return r.json()["numberMatched"]


def _settled(page: Any, n: int, shown: int) -> dict[str, Any]:
    """Until widget n says it shows `shown` and draws that many from its tiles."""
    page.wait_for_function(
        """([n, shown]) => {
          const r = document.querySelectorAll('[data-mikrokort]')[n].shadowRoot;
          const s = r.querySelector('.mk-status');
          const icons = [...r.querySelectorAll('.mk-cluster, .mk-pt')];
          const drawn = icons.reduce((sum, el) => sum + Number(el.dataset.count), 0);
          return Number(s.dataset.shown) === shown && drawn === shown;
        }""",
        arg=[n, shown],
        timeout=15_000,
    )
    return state(page, n)


def _overlapping_clusters(page: Any, n: int) -> list[list[str]]:
    """Pairs of cluster icons of widget n whose boxes intersect (their labels)."""
    return page.evaluate(
        """n => {
          const r = document.querySelectorAll('[data-mikrokort]')[n].shadowRoot;
          const boxes = [...r.querySelectorAll('.mk-cluster')].map(el =>
            [el.getBoundingClientRect(), el.getAttribute('aria-label')]);
          const out = [];
          boxes.forEach(([a, la], i) => boxes.slice(i + 1).forEach(([b, lb]) => {
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
              out.push([la, lb]);
          }));
          return out;
        }""",
        n,
    )


def test_a_tiled_municipality_draws_its_count_from_tiles(
    visit: Visit, site: str, tiled: dict[str, dict[str, Any]]
) -> None:
    page = visit.open(site + "/demo")
    for n, code in ((0, "376"), (1, "390")):
        total, micro = tiled[code]["count"], tiled[code]["sizes"]["micro"]["count"]
        assert micro == _matched(site, municipality=code, size=MICRO) < total
        # the whole municipality in view: every micro-business drawn, of all businesses
        s = _settled(page, n, micro)
        assert s["total"] == total and s["clusters"]
        assert _overlapping_clusters(page, n) == []
    tile_requests = [u for u in visit.requests if TILES in u]
    assert tile_requests
    for u in tile_requests:
        q = parse_qs(urlsplit(u).query)
        assert q["status"] == ["active"] and q["municipality"][0] in ("376", "390")
        assert q["size"] == [MICRO]
    assert {urlsplit(u).hostname for u in visit.requests} == {"127.0.0.1"}
    assert visit.errors == []


def test_filters_are_the_tiles_query_and_the_counts_the_apis(
    visit: Visit, site: str, tiled: dict[str, dict[str, Any]]
) -> None:
    page = visit.open(site + "/demo")
    box = widget(page, 0)
    micro = tiled["376"]["sizes"]["micro"]
    section, count = max(micro["section_counts"].items(), key=lambda kv: kv[1])
    assert count == _matched(site, municipality="376", industry=section, size=MICRO)
    box.locator("select.mk-industry").select_option(section)
    _settled(page, 0, count)
    assert any(f"industry={section}" in u for u in visit.requests if TILES in u)

    # every size: no size in the tiles' query; 10 or more: their groups
    box.locator("select.mk-size").select_option("all")
    _settled(page, 0, tiled["376"]["section_counts"][section])
    larger = tiled["376"]["sizes"]["larger"]
    box.locator("select.mk-size").select_option("larger")
    _settled(page, 0, larger["section_counts"].get(section, 0))
    box.locator("select.mk-industry").select_option("")
    _settled(page, 0, larger["count"])
    sizes = {
        tuple(parse_qs(urlsplit(u).query).get("size", ["all"]))
        for u in visit.requests
        if TILES in u
    }
    assert {(MICRO,), ("all",), ("10-19,20-49,50-99,100-199,200-499,500-999,1000+",)} <= sizes
    box.locator("select.mk-size").select_option("micro")

    box.locator("input[type=search]").fill("ApS")
    found = _matched(site, municipality="376", q="ApS", size=MICRO)
    assert 0 < found < micro["count"]
    _settled(page, 0, found)
    # the other widget is unchanged
    assert state(page, 1)["shown"] == tiled["390"]["sizes"]["micro"]["count"]


def test_the_list_is_the_items_by_name_a_page_at_a_time(
    visit: Visit, site: str, tiled: dict[str, dict[str, Any]]
) -> None:
    page = visit.open(site + "/demo")
    box = widget(page, 0)
    box.get_by_role("button", name="Liste", exact=True).click()
    total = _matched(site, municipality="376", size=MICRO)
    heading = box.locator(".mk-h").first
    heading.filter(has_text=f"({total:,})".replace(",", ".")).wait_for()
    by_name = requests.get(
        f"{site}/collections/businesses/items",
        params={
            "municipality": "376",
            "status": "active",
            "size": MICRO,
            "sortby": "name",
            "limit": "200",
        },
    ).json()["features"]
    box.locator(".mk-businesses li").nth(99).wait_for()
    ids = box.locator(".mk-businesses li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids == [f["id"] for f in by_name[:100]]
    box.locator(".mk-more").click()
    box.locator(".mk-businesses li").nth(199).wait_for()
    ids = box.locator(".mk-businesses li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids == [f["id"] for f in by_name[:200]]
    first = box.locator(".mk-businesses li").first
    assert first.locator(".mk-name").inner_text() == by_name[0]["properties"]["name"]

    # "show on the map" opens the business's popup from its item
    first.get_by_role("button").click()
    popup = box.locator(".leaflet-popup-content")
    popup.wait_for()
    assert by_name[0]["properties"]["name"] in popup.inner_text()


def test_zooming_in_opens_clusters_into_businesses_with_popups(
    visit: Visit, site: str, tiled: dict[str, dict[str, Any]]
) -> None:
    page = visit.open(site + "/demo")
    box = widget(page, 0)
    _settled(page, 0, tiled["376"]["sizes"]["micro"]["count"])
    for _ in range(8):  # the largest cluster, again and again, until businesses show
        if box.locator(".mk-pt").count():
            break
        before = page.evaluate(
            "() => document.querySelectorAll('[data-mikrokort]')[0].shadowRoot"
            ".querySelector('.mk-map').dataset.count"
        )
        counts = box.locator(".mk-cluster").evaluate_all(
            "els => els.map(e => Number(e.dataset.count))"
        )
        click_visible_part(page, box.locator(f".mk-cluster[data-count='{max(counts)}']").first)
        page.wait_for_function(
            """before => document.querySelectorAll('[data-mikrokort]')[0].shadowRoot
              .querySelector('.mk-map').dataset.count !== before""",
            arg=before,
            timeout=10_000,
        )
    box.locator(".mk-pt").first.wait_for()
    inside = box.evaluate(
        """host => {
          const r = host.shadowRoot, map = r.querySelector('.mk-map').getBoundingClientRect();
          return [...r.querySelectorAll('.mk-pt')].findIndex(el => {
            const b = el.getBoundingClientRect();
            const centre = r.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
            return b.left > map.left + 40 && b.right < map.right - 40
              && b.top > map.top + 80 && b.bottom < map.bottom - 40
              && (centre === el || el.contains(centre));  // not under a neighbour's pin
          });
        }"""
    )
    assert inside >= 0  # a business inside the view, not only in the margin drawn around it
    assert _overlapping_clusters(page, 0) == []  # at every zoom on the way in
    point = box.locator(".mk-pt").nth(inside)
    name = point.get_attribute("aria-label")
    point.click()
    popup = box.locator(".leaflet-popup-content")
    popup.wait_for()
    assert name in popup.inner_text()
    assert "Ansatte:" in popup.inner_text() or "Sted:" in popup.inner_text()
    assert visit.errors == []


def test_a_tile_that_fails_is_said_and_the_rest_of_the_map_stays(visit: Visit, site: str) -> None:
    page = visit.page
    page.route(f"**{TILES}**", lambda route: route.fulfill(status=503, body="busy"))
    page.goto(site + "/demo")
    status = widget(page, 0).locator(".mk-status[role=alert]")
    status.wait_for(timeout=15_000)
    assert "kunne ikke hentes" in status.inner_text()
    assert widget(page, 0).locator(".leaflet-overlay-pane path").count() >= 1  # the boundary
    visit.errors.clear()  # the failed tiles are logged on purpose

    page.unroute(f"**{TILES}**")
    widget(page, 0).locator(".leaflet-control-zoom-in").click()  # the next view tries again
    widget(page, 0).locator(".mk-status[role=status]").wait_for(timeout=15_000)
    assert widget(page, 0).locator(".mk-cluster, .mk-pt").count() > 0


def test_a_selection_the_api_will_not_sort_is_listed_in_its_own_order_and_said(
    visit: Visit, site: str
) -> None:
    """Past 20,000 businesses the API refuses `sortby` (400): the list comes in CVR order."""
    page = visit.page
    page.route(
        "**/collections/businesses/items?*sortby=name*",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body='{"code": "InvalidParameter", "description": "sortby orders at most 20,000"}',
        ),
    )
    page.goto(site + "/demo")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-mikrokort-state=ready]').length === 2"
    )
    box = widget(page, 0)
    box.get_by_role("button", name="Liste", exact=True).click()
    box.locator(".mk-businesses li").nth(99).wait_for()
    in_order = requests.get(
        f"{site}/collections/businesses/items",
        params={"municipality": "376", "status": "active", "size": MICRO, "limit": "100"},
    ).json()["features"]
    ids = box.locator(".mk-businesses li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids == [f["id"] for f in in_order]
    assert "CVR-nummerets rækkefølge" in box.locator(".mk-list .mk-note").first.inner_text()
    visit.errors.clear()  # the refused request is logged by the browser


def test_a_national_map_draws_every_municipality_from_tiles(
    visit: Visit, site: str, stub: Stub
) -> None:
    """`data-municipality="all"`: the service's whole area, from tiles without a municipality."""
    doc = requests.get(f"{site}/municipalities/all/map-data").json()
    assert doc["tiled"] and doc["municipality"]["kommunekode"] == "all"
    per = [requests.get(f"{site}/municipalities/{c}/map-data").json() for c in ("376", "390")]
    assert doc["tiled"]["count"] == sum(d["tiled"]["count"] for d in per)
    stub.pages["/national.html"] = (
        '<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Danmark</title>'
        '</head><body><h1>Kortet</h1><div data-mikrokort data-municipality="all"></div>'
        f'<script src="{site}/widget/mikrokort.js" defer></script></body></html>'
    )
    page = visit.open(stub.url + "/national.html", widgets=1)
    s = _settled(page, 0, doc["tiled"]["sizes"]["micro"]["count"])
    assert s["total"] == doc["tiled"]["count"]
    tiles = [u for u in visit.requests if TILES in u]
    assert tiles and all("municipality=" not in u for u in tiles)
    assert visit.errors == []
