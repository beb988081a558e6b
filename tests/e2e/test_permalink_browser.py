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
          const r = host.shadowRoot, sel = r.querySelectorAll('select');
          return {industry: sel[0].value, network: sel[1].value,
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
    first.locator("select").first.select_option("F")
    first.locator("select").nth(1).select_option(network)
    first.locator(".leaflet-control-zoom-in").click()
    _wait_hash(page, "i:F")
    page.wait_for_timeout(600)  # the zoom's own moveend, written 200 ms after
    shared = _hash(page)
    assert shared.startswith("#kontakt&mk-376=@") and f"n:{network}" in shared
    assert "mk-390" not in shared  # the other widget was not used
    before = _view(page, 0)
    drawn = state(page, 0)

    again = Visit(browser)
    try:
        opened = again.open(site + "/demo" + shared)
        after = _view(opened, 0)
        assert (after["industry"], after["network"]) == ("F", network)
        assert after["shown"] == before["shown"] > 0
        # the same view: the same clusters and points where the map was left
        restored = state(opened, 0)
        assert (restored["clusters"], restored["points"]) == (drawn["clusters"], drawn["points"])
        assert _view(opened, 1)["industry"] == ""  # the other map opens as it always does
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
