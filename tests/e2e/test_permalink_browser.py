"""Permalinks in Debian's chromium: once someone uses a map, the page's URL hash holds its view
and filters (one part per widget, the host page's own hash kept), and opening that URL shows
the same map; a page view alone writes nothing, and a wrong hash is ignored."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.browser import Visit, state, widget


def _view(page: Any, n: int) -> dict[str, Any]:
    """Widget n's selects and what its map shows."""
    return widget(page, n).evaluate(
        """host => {
          const r = host.shadowRoot, sel = (name) => r.querySelector(`select.mk-${name}`).value;
          return {industry: sel('industry'), size: sel('size'), network: sel('network'),
                  q: r.querySelector('input[type=search]').value,
                  list: !r.querySelector('.mk-list').hidden,
                  shown: Number(r.querySelector('.mk-status').dataset.shown)};
        }"""
    )


def _hash(page: Any) -> str:
    return page.evaluate("() => location.hash")


def _wait_hash(page: Any, text: str) -> None:
    page.wait_for_function("t => location.hash.includes(t)", arg=text, timeout=5000)


def test_a_shared_link_opens_the_same_map(visit: Visit, site: str, browser: Any) -> None:
    page = visit.open(site + "/demo#kontakt")
    page.wait_for_timeout(500)
    assert _hash(page) == "#kontakt"  # a page view alone writes nothing
    network = requests.get(f"{site}/municipalities/376/map-data").json()["networks"][0]["id"]
    first = widget(page, 0)
    first.locator("select.mk-industry").select_option("F")
    first.locator("select.mk-size").select_option("all")
    first.locator("select.mk-network").select_option(network)
    first.locator(".leaflet-control-zoom-in").click()
    _wait_hash(page, "i:F")
    page.wait_for_timeout(600)  # the zoom's own moveend, written 200 ms after
    shared = _hash(page)
    assert shared.startswith("#kontakt&mk-376=@") and f"n:{network}" in shared
    assert ";s:all;" in shared
    assert "mk-390" not in shared  # the other widget was not used
    before = _view(page, 0)
    drawn = state(page, 0)

    again = Visit(browser)
    try:
        opened = again.open(site + "/demo" + shared)
        after = _view(opened, 0)
        assert (after["industry"], after["size"], after["network"]) == ("F", "all", network)
        assert after["shown"] == before["shown"] > 0
        # the same view: the same clusters and points where the map was left
        restored = state(opened, 0)
        assert (restored["clusters"], restored["points"]) == (drawn["clusters"], drawn["points"])
        # the other map opens as it always does: all industries, micro-businesses
        assert (_view(opened, 1)["industry"], _view(opened, 1)["size"]) == ("", "micro")
        assert again.errors == []
    finally:
        again.close()
    assert visit.errors == []


def test_the_list_view_and_a_search_are_in_the_link(visit: Visit, site: str, browser: Any) -> None:
    page = visit.open(site + "/demo")
    second = widget(page, 1)
    second.locator("input[type=search]").fill("tømrer")
    second.locator(".mk-views button").nth(1).click()
    _wait_hash(page, "v:list")
    _wait_hash(page, "q:t%C3%B8mrer")  # the search is read 250 ms after the last key
    shared = _hash(page)
    assert "mk-390=" in shared and "q:t%C3%B8mrer" in shared and "mk-376" not in shared
    again = Visit(browser)
    try:
        opened = again.open(site + "/demo" + shared)
        after = _view(opened, 1)
        assert after["q"] == "tømrer" and after["list"]
        assert after["shown"] == state(page, 1)["shown"]
    finally:
        again.close()


def test_a_wrong_hash_is_ignored(visit: Visit, site: str) -> None:
    plain = visit.open(site + "/demo")
    expected = _view(plain, 0)
    page = visit.open(site + "/demo#mk-376=@999,999,99z;i:Z;n:%3Cx%3E;q:%E0%A4;v:grid")
    assert _view(page, 0) == expected
    assert visit.errors == []


PLACE = "Gå til et sted (by, postnummer eller adresse)"


def _centre(page: Any) -> tuple[float, float, float]:
    """The map's centre and zoom, as the permalink in the hash says them."""
    import re

    found = re.search(
        r"mk-376=@(-?[\d.]+),(-?[\d.]+),([\d.]+)z", page.evaluate("() => location.hash")
    )
    assert found, page.evaluate("() => location.hash")
    return float(found[1]), float(found[2]), float(found[3])


def test_go_to_a_town_by_name(visit: Visit, site: str) -> None:
    page = visit.open(site + "/demo")
    first = widget(page, 0)
    first.get_by_role("textbox", name=PLACE).fill("Stubbekøbing")
    first.get_by_role("button", name="Find", exact=True).click()
    first.get_by_text("Kortet viser 4850 Stubbekøbing.").wait_for()
    _wait_hash(page, "13z")
    lat, lon, zoom = _centre(page)
    assert abs(lat - 54.88) < 0.02 and abs(lon - 12.03) < 0.03 and zoom == 13
    # a name with several districts lists them to choose from
    first.get_by_role("textbox", name=PLACE).fill("4")
    first.get_by_role("button", name="Find", exact=True).click()
    first.get_by_text("Skriv mindst to tegn.").wait_for()
    first.get_by_role("textbox", name=PLACE).fill("48")
    first.get_by_role("button", name="Find", exact=True).click()
    choices = first.locator(".mk-place-results button")
    choices.first.wait_for()
    assert choices.count() >= 2 and all(t.startswith("48") for t in choices.all_inner_texts())
    assert visit.errors == []


def test_near_me_goes_to_the_readers_position(browser: Any, site: str) -> None:
    context = browser.new_context(
        viewport={"width": 1100, "height": 900},
        geolocation={"latitude": 54.7691, "longitude": 11.8729},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        page.goto(site + "/demo")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-mikrokort-state=ready]').length === 2"
        )
        first = widget(page, 0)
        first.get_by_role("button", name="Nær mig").click()
        first.get_by_text("Kortet viser, hvor du er (markeret med en ring).").wait_for()
        _wait_hash(page, "15z")
        lat, lon, zoom = _centre(page)
        assert abs(lat - 54.7691) < 0.001 and abs(lon - 11.8729) < 0.001 and zoom == 15
    finally:
        context.close()
