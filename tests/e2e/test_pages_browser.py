"""The API's pages in Debian's chromium, as a citizen opens them: a browser's own request gets
the page, every page passes axe-core (WCAG 2.1 AA and best practice) in Danish and English at
a phone's width and a desktop's, the filter form filters, and an error is a page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser import AXE, AXE_RUN, Visit

PAGES = (
    "/",
    "/conformance",
    "/collections",
    "/collections/businesses",
    "/collections/businesses/items?municipality=376&limit=50",
    "/collections/networks/items",
    "/collections/network-meeting-places/items",
    "/collections/municipalities/items",
    "/collections/municipalities/items/376",
    "/municipalities/376/new-businesses?since={since}",
    "/snapshots",
    "/collections/businesses/queryables",
    "/collections/businesses/schema",
    "/api",
    "/collections/businesses/items?limit=0",  # an error, as a browser meets it
)


def _since() -> str:
    from datetime import date, timedelta

    return (date.today() - timedelta(days=700)).isoformat()


@pytest.fixture(scope="module")
def pages_visit(browser: Any) -> Any:
    v = Visit(browser, width=375, height=800)
    v.context.add_init_script(path=str(AXE))
    yield v
    v.close()


def _first_link(page: Any, prefix: str) -> str:
    return page.evaluate(
        """prefix => [...document.querySelectorAll('a')].map(a => a.href)
             .find(h => h.includes(prefix))""",
        prefix,
    )


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("width", [375, 1280])
def test_every_page_passes_axe(pages_visit: Any, site: str, lang: str, width: int) -> None:
    page = pages_visit.page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en-GB,en" if lang == "en" else "da"})
    paths = [p.format(since=_since()) for p in PAGES]
    page.goto(site + paths[4])
    # one business and one network, found the way a visitor finds them
    paths.append(_first_link(page, "/collections/businesses/items/").replace(site, ""))
    page.goto(site + "/collections/networks/items")
    paths.append(_first_link(page, "/collections/networks/items/").replace(site, ""))
    for path in paths:
        answer = page.goto(site + path)
        assert answer is not None and answer.headers["content-type"].startswith("text/html")
        assert page.evaluate("() => document.documentElement.lang") == lang, path
        assert page.evaluate(AXE_RUN) == [], (path, width, lang)
        # nothing wider than the window: no sideways scrolling at a phone's width
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (path, width, overflow)
    # the one error is the error page's own status, which chromium reports
    assert pages_visit.errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    pages_visit.errors.clear()


def test_the_filter_form_filters_and_the_next_page_follows(pages_visit: Any, site: str) -> None:
    page = pages_visit.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "da"})
    page.goto(site + "/collections/businesses/items")
    page.select_option("#municipality", "0390")
    page.select_option("#industry", "F")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "municipality=0390" in page.url and "industry=F" in page.url
    towns = page.eval_on_selector_all("tbody tr td:nth-child(4)", "cells => cells.length")
    assert towns > 0
    api = page.evaluate(
        """async () => {
          const r = await fetch('/collections/businesses/items?municipality=390&industry=F'
                                + '&limit=1');
          return (await r.json()).numberMatched;
        }"""
    )
    total = f"{api:,}".replace(",", ".")
    assert f"I alt {total}." in page.inner_text("main")
    first = page.eval_on_selector_all("tbody th a", "links => links.map(a => a.href)")
    page.click("a[rel=next]")
    page.wait_for_load_state()
    second = page.eval_on_selector_all("tbody th a", "links => links.map(a => a.href)")
    assert second and not set(first) & set(second)
    assert pages_visit.errors == []
