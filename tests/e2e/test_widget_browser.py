"""The embeddable map widget in a real browser: Debian's chromium (headless, through
Playwright) against `mikrokort serve` on the seeded demo data, with map tiles from a local stub
server: nothing leaves 127.0.0.1."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.browser import (
    AXE,
    AXE_RUN,
    Stub,
    Visit,
    click_visible_part,
    state,
    wait_drawn,
    widget,
)

ARTIFACTS = ROOT / "test-artifacts"


def fold(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class Rows:
    """The map data of a municipality, as the widget filters it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        f = {name: i for i, name in enumerate(doc["fields"])}
        self.rows = [
            {name: row[i] for name, i in f.items()}
            | {"section": doc["industries"][row[f["industry"]]][1]}
            for row in doc["businesses"]
        ]

    def select(
        self, industry: str = "", network: str = "", q: str = "", size: str = "micro"
    ) -> list[dict[str, Any]]:
        """The rows a widget shows with these filters (by default, as it opens: the
        micro-businesses, of the size groups the document's `sizes` names)."""
        index = next((i for i, n in enumerate(self.doc["networks"]) if n["id"] == network), None)
        groups = None if size == "all" else self.doc["sizes"][size]
        return [
            r
            for r in self.rows
            if (not industry or r["section"] == industry)
            and (groups is None or r["employees"] in groups)
            and (index is None or index in r["networks"])
            and (not q or fold(q) in fold(r["name"]))
        ]


@pytest.fixture(scope="module")
def rows(site: str) -> dict[str, Rows]:
    return {
        c: Rows(requests.get(f"{site}/municipalities/{c}/map-data").json()) for c in ("376", "390")
    }


def test_demo_page_draws_clusters_and_markers_from_local_tiles(
    visit: Visit, site: str, stub: Stub, rows: dict[str, Rows]
) -> None:
    page = visit.open(site + "/demo")
    for n, code, word in ((0, "376", "virksomheder"), (1, "390", "businesses")):
        total, micro = len(rows[code].rows), len(rows[code].select())
        assert 0 < micro < total  # micro-businesses by default: not the firms of 10 or more
        wait_drawn(page, n, micro)
        s = state(page, n)
        assert (s["shown"], s["total"]) == (micro, total)
        assert len(s["clusters"]) >= 5
        # clusters are announced with what they hold, not as a bare number
        pattern = rf"\d[\d.,]* {word}( på samme sted| at the same place)?\. \w.+"
        assert all(re.fullmatch(pattern, label) for label in s["clusters"]), s["clusters"]
        assert s["tiles"] and all(t.startswith(stub.url + "/tiles/") for t in s["tiles"])
        assert "Stub tiles" in s["attribution"] and "CVR" in s["attribution"]
    assert stub.tiles, "no tile was requested from the stub"
    # nothing but the local servers was asked for anything
    hosts = {urlsplit(u).hostname for u in visit.requests}
    assert hosts == {"127.0.0.1"}, hosts
    assert visit.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-demo.png"), full_page=True)

    # a click on a cluster zooms in: it splits into smaller clusters and single markers
    before = state(page, 0)
    size = max(
        int(c)
        for c in widget(page, 0)
        .locator(".mk-cluster")
        .evaluate_all("els => els.map(e => e.dataset.count)")
    )
    click_visible_part(page, widget(page, 0).locator(f".mk-cluster[data-count='{size}']").first)
    page.wait_for_function(
        """size => {
          const r = document.querySelectorAll('[data-mikrokort]')[0].shadowRoot;
          const counts = [...r.querySelectorAll('.mk-cluster')].map(el => Number(el.dataset.count));
          return counts.length > 0 && Math.max(...counts) < size;
        }""",
        arg=size,
        timeout=10_000,
    )
    assert state(page, 0)["count"] < before["count"]  # zoomed in: fewer in view


def test_filters_change_what_is_shown_and_widgets_are_independent(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    page = visit.open(site + "/demo")
    other_before = state(page, 1)

    construction = rows["376"].select(industry="F")
    assert 0 < len(construction) < len(rows["376"].rows)
    widget(page, 0).locator("select.mk-industry").select_option("F")
    wait_drawn(page, 0, len(construction))
    assert state(page, 0)["shown"] == len(construction)
    assert "Bygge og anlæg" in widget(page, 0).locator("select.mk-industry").inner_text()

    network = next(n for n in rows["376"].doc["networks"] if n["member_count"] > 5)
    both = rows["376"].select(industry="F", network=network["id"])
    widget(page, 0).locator("select.mk-network").select_option(network["id"])
    page.wait_for_function(
        "n => Number(document.querySelectorAll('[data-mikrokort]')[0]"
        ".shadowRoot.querySelector('.mk-status').dataset.shown) === n",
        arg=len(both),
    )
    widget(page, 0).locator("select.mk-industry").select_option("")
    members = rows["376"].select(network=network["id"])
    wait_drawn(page, 0, len(members))

    # the other widget did not change
    after = state(page, 1)
    assert (after["shown"], after["count"], after["clusters"]) == (
        other_before["shown"],
        other_before["count"],
        other_before["clusters"],
    )

    # search by name: one business, one marker, and its popup
    widget(page, 0).locator("select.mk-network").select_option("")
    target = next(
        r
        for r in rows["376"].rows
        if r["precision"] == "grid"
        and r["networks"]
        and r["employees"]
        and len(rows["376"].select(q=r["name"])) == 1
    )
    matching = rows["376"].select(q=target["name"])
    widget(page, 0).locator("input[type=search]").fill(target["name"])
    wait_drawn(page, 0, len(matching))
    # markers carry the business's name as their accessible name
    marker = widget(page, 0).get_by_role("button", name=target["name"], exact=True).first
    marker.click()
    popup = widget(page, 0).locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert target["name"] in text
    assert target["employees"] in text
    assert f"{target['postcode']} " in text
    assert "omtrentligt" in text  # coarsened location, and no street address
    assert target["address"] is None
    network_name = rows["376"].doc["networks"][target["networks"][0]]["name"]
    assert network_name in text


def test_network_popup_shows_contact_meeting_place_area_and_members(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    page = visit.open(site + "/demo")
    net = next(n for n in rows["376"].doc["networks"] if n["area"] and n["meeting_place"])
    paths = widget(page, 0).locator("path").count()
    pin = widget(page, 0).get_by_role("button", name=f"Netværk: {net['name']}", exact=True)
    pin.focus()  # by keyboard: Enter on a focused pin opens its popup, focus moves in
    page.keyboard.press("Enter")
    popup = widget(page, 0).locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert net["name"] in text and net["meeting_place_name"] in text
    assert f"Medlemmer: {net['member_count']}" in text
    assert "område" in text
    if net["email"]:
        assert popup.locator(f"a[href='mailto:{net['email']}']").count() == 1
    # the popup lists the network's members, of any size
    member_names = {r["name"] for r in rows["376"].select(network=net["id"], size="all")}
    listed = popup.locator("li").all_inner_texts()
    assert listed and set(listed) <= member_names
    # the area outline is drawn while the popup is open
    assert widget(page, 0).locator("path").count() == paths + 1
    assert _focused(page)["cls"] == "mk-pop"
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert widget(page, 0).locator("path").count() == paths  # the area goes with the popup
    assert _focused(page)["label"] == f"Netværk: {net['name']}"  # focus back on the pin


def _focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(
        """() => {
          let a = document.activeElement;
          while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
          if (!a || a === document.body) return null;
          const named = ['BUTTON', 'LI', 'DIV', 'P'].includes(a.tagName);
          return {tag: a.tagName, text: named ? a.textContent.trim() : a.tagName,
                  label: a.getAttribute('aria-label'),
                  cls: a.className || '', id: a.dataset ? a.dataset.id || null : null};
        }"""
    )


def _tab_to(page: Any, text: str, limit: int = 25) -> list[str]:
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        f = _focused(page)
        seen.append((f or {}).get("text", ""))
        if f and f["text"] == text:
            return seen
    raise AssertionError(f"Tab never reached {text!r}; reached {seen}")


def test_list_view_is_reachable_by_keyboard_and_lists_the_same_businesses(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    page = visit.open(site + "/demo")
    data = rows["376"]
    # from the top of the page, Tab reaches the controls in a sensible order
    order = _tab_to(page, "Liste")
    assert order == ["INPUT", "SELECT", "SELECT", "SELECT", "Kort", "Liste"]
    page.keyboard.press("Enter")
    box = widget(page, 0)
    assert box.locator(".mk-list").is_visible()
    assert not box.locator(".mk-map").is_visible()
    assert (
        box.get_by_role("button", name="Liste", exact=True).get_attribute("aria-pressed") == "true"
    )

    # the whole municipality's micro-businesses: the list counts what the map shows, 100 rows
    # at a time
    heading = box.locator(".mk-h").first.inner_text()
    assert heading == f"Virksomheder ({len(data.select()):,})".replace(",", ".")
    ids = box.locator(".mk-businesses li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(ids) == 100 and set(ids) <= {r["id"] for r in data.select()}
    more = box.locator(".mk-more")
    more.focus()
    page.keyboard.press("Enter")
    assert box.locator(".mk-businesses li").count() == 200
    assert _focused(page)["id"] == box.locator(".mk-businesses li").nth(100).get_attribute(
        "data-id"
    )

    # under a filter, the list holds exactly the businesses the map draws
    network = max(data.doc["networks"], key=lambda n: n["member_count"])
    expected = {r["id"] for r in data.select(network=network["id"])}
    box.locator("select.mk-network").select_option(network["id"])
    while more.is_visible():
        more.click()
    listed = box.locator(".mk-businesses li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert sorted(listed) == sorted(expected)
    assert box.locator(".mk-networks li").count() == 1
    rows_text = box.locator(".mk-businesses li").first.inner_text()
    assert "Ansatte:" in rows_text and ("Adresse:" in rows_text or "Sted:" in rows_text)

    # every row has a named button; Enter on one shows the business on the map, focus in popup
    first = box.locator(".mk-businesses li").first
    name = first.locator(".mk-name").inner_text()
    button = first.get_by_role("button")
    assert button.get_attribute("aria-label") == f"Vis på kortet: {name}"
    button.focus()
    page.keyboard.press("Enter")
    assert box.locator(".mk-map").is_visible()
    popup = box.locator(".leaflet-popup-content")
    popup.wait_for()
    assert name in popup.inner_text()
    assert _focused(page)["cls"] == "mk-pop"
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert _focused(page)["text"] == "Liste"  # back where the reader came from


def test_keyboard_users_can_skip_the_map(visit: Visit, site: str) -> None:
    page = visit.open(site + "/demo")
    order = _tab_to(page, "Spring kortet over")
    assert order == [
        "INPUT", "SELECT", "SELECT", "SELECT", "Kort", "Liste", "English",  # the filters
        "INPUT", "Find", "Nær mig",  # go to a place
        "Spring kortet over",
    ]  # fmt: skip
    assert widget(page, 0).locator(".mk-skip").is_visible()  # shown while it has the focus
    page.keyboard.press("Enter")
    assert _focused(page)["text"] == "Slut på kortet over Guldborgsund"
    page.keyboard.press("Tab")  # on to the next widget, past every marker of the first map
    assert _focused(page)["tag"] == "INPUT"
    which = (
        "() => [...document.querySelectorAll('[data-mikrokort]')].indexOf(document.activeElement)"
    )
    assert page.evaluate(which) == 1


def test_switching_language_changes_the_texts_of_one_widget_only(visit: Visit, site: str) -> None:
    page = visit.open(site + "/demo")
    da, en = state(page, 0), state(page, 1)
    assert (da["lang"], da["search"], da["listButton"]) == ("da", "Søg på navn", "Liste")
    assert da["status"].startswith("Viser ")
    assert en["lang"] == "en" and en["search"] == "Search by name"

    widget(page, 0).get_by_role("button", name="English", exact=True).click()
    switched = state(page, 0)
    assert (switched["lang"], switched["search"], switched["listButton"]) == (
        "en",
        "Search by name",
        "List",
    )
    assert switched["status"].startswith("Showing ")
    assert switched["clusters"]
    assert all(re.match(r"\d[\d,]* businesses\b", label) for label in switched["clusters"])
    assert widget(page, 0).get_by_role("button", name="Dansk", exact=True).count() == 1
    assert state(page, 1)["lang"] == "en"  # the other one kept its language

    # the host page may switch it too, through the data-lang attribute
    widget(page, 1).evaluate("host => host.setAttribute('data-lang', 'da')")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-mikrokort]')[1].shadowRoot"
        ".querySelector('.mk').lang === 'da'"
    )
    assert state(page, 1)["search"] == "Søg på navn"
    assert state(page, 0)["lang"] == "en"


def test_axe_finds_no_accessibility_violations_in_map_or_list_view(browser: Any, site: str) -> None:
    """axe-core (the widget's dev dependency) checks WCAG 2.1 A/AA rules and best practice,
    inside the shadow roots too: names, roles, contrast, landmarks, headings."""
    assert AXE.exists(), "axe-core is missing: run make widget (npm ci)"
    v = Visit(browser)
    try:
        v.context.add_init_script(path=str(AXE))  # an init script: the page's CSP allows it
        page = v.open(site + "/demo")
        assert page.evaluate(AXE_RUN) == []
        for n, label in ((0, "Liste"), (1, "List")):
            widget(page, n).get_by_role("button", name=label, exact=True).click()
        assert widget(page, 1).locator(".mk-businesses li").count() == 100
        assert page.evaluate(AXE_RUN) == []
        assert v.errors == []
    finally:
        v.close()


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kommune</title>
<style>
  div {{ color: rgb(255, 0, 0) !important; font-family: serif !important;
         line-height: 3 !important; }}
  .leaflet-container {{ background: rgb(255, 0, 0) !important; height: 10px !important; }}
  button {{ background: rgb(255, 0, 0) !important; }}
  p.host {{ color: rgb(0, 0, 255); font-size: 20px; }}
</style></head>
<body>
<p class="host">Kommunens egen tekst</p>
<div class="leaflet-container host-leaflet">host's own element</div>
<button class="host-button" type="button">host's button</button>
<script>window.__before = Object.keys(window);</script>
<div data-mikrokort data-municipality="390" data-lang="en" data-industry="F" data-height="400"
     data-tiles="{stub}/other/{{z}}/{{x}}/{{y}}.png" data-attribution="Other tiles <b>x</b>"></div>
<script src="{site}/widget/mikrokort.js" defer></script>
</body></html>
"""


def test_host_page_css_and_widget_css_do_not_meet(
    visit: Visit, site: str, stub: Stub, rows: dict[str, Rows]
) -> None:
    stub.pages["/host.html"] = HOST_PAGE.format(site=site, stub=stub.url)
    page = visit.open(stub.url + "/host.html", widgets=1)  # another origin than the API
    before_styles = page.evaluate("() => document.styleSheets.length")

    # the widget's own look, whatever the host page says about div, button, .leaflet-container
    inside = widget(page, 0).evaluate(
        """host => {
          const r = host.shadowRoot, css = el => getComputedStyle(el);
          const box = r.querySelector('.mk'), map = r.querySelector('.leaflet-container');
          const label = r.querySelector('.mk-field span'), button = r.querySelector('.mk-lang');
          return {color: css(box).color, font: css(box).fontFamily, line: css(label).lineHeight,
                  labelColor: css(label).color, mapHeight: css(map).height,
                  mapBackground: css(map).backgroundColor, button: css(button).backgroundColor};
        }"""
    )
    assert inside["color"] == "rgb(27, 27, 27)"
    assert inside["labelColor"] != "rgb(255, 0, 0)"
    assert "serif" not in inside["font"].replace("sans-serif", "")
    assert inside["mapHeight"] == "400px"  # data-height, not the host's 10px
    assert inside["mapBackground"] != "rgb(255, 0, 0)"
    assert inside["button"] != "rgb(255, 0, 0)"

    # the host page's own elements are untouched by the widget's stylesheet
    host = page.evaluate(
        """() => {
          const css = s => getComputedStyle(document.querySelector(s));
          return {p: css('p.host').color, size: css('p.host').fontSize,
                  leaflet: css('.host-leaflet').height, bg: css('.host-leaflet').backgroundColor,
                  button: css('.host-button').backgroundColor,
                  styles: document.styleSheets.length, head: document.head.children.length,
                  globals: Object.keys(window).filter(k => !window.__before.includes(k)),
                  L: typeof window.L};
        }"""
    )
    assert host["p"] == "rgb(0, 0, 255)" and host["size"] == "20px"
    assert host["leaflet"] == "10px" and host["bg"] == "rgb(255, 0, 0)"
    assert host["button"] == "rgb(255, 0, 0)"
    assert host["styles"] == before_styles == 1
    assert host["head"] == 3  # meta, title, style: nothing added
    assert host["globals"] == ["__before"] or host["globals"] == []
    assert host["L"] == "undefined"

    # options: the initial industry filter, own tiles, attribution shown as text
    s = state(page, 0)
    assert s["shown"] == len(rows["390"].select(industry="F"))
    assert s["tiles"] and all(t.startswith(stub.url + "/other/") for t in s["tiles"])
    assert "Other tiles <b>x</b>" in s["attribution"]
    assert widget(page, 0).locator(".leaflet-control-attribution b").count() == 0
    assert visit.errors == []


BAD_EMBEDS = """<!doctype html><html lang="da"><head><meta charset="utf-8"><title>x</title></head>
<body>
<div data-mikrokort data-municipality="999"></div>
<div data-mikrokort></div>
<div data-mikrokort data-municipality="376" data-api="{stub}/nothing-here"></div>
<script src="{site}/widget/mikrokort.js" defer></script>
</body></html>"""


def test_bad_embeds_say_what_is_wrong(visit: Visit, site: str, stub: Stub) -> None:
    stub.pages["/bad.html"] = BAD_EMBEDS.format(site=site, stub=stub.url)
    page = visit.page
    page.goto(stub.url + "/bad.html")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-mikrokort-state=error]').length === 3"
    )
    messages = [widget(page, n).locator("[role=alert]").inner_text() for n in range(3)]
    assert messages[0] == messages[2] == "Kortet kunne ikke indlæses. Prøv igen senere."
    assert "data-municipality" in messages[1]


def test_phone_sized_screen(browser: Any, site: str) -> None:
    v = Visit(browser, width=375, height=740)
    try:
        page = v.open(site + "/demo")
        box = page.evaluate(
            """() => {
              const host = document.querySelector('[data-mikrokort]');
              const r = host.shadowRoot;
              const search = r.querySelector('input[type=search]').getBoundingClientRect();
              const select = r.querySelector('select').getBoundingClientRect();
              return {page: document.documentElement.scrollWidth,
                      widget: host.getBoundingClientRect().width,
                      search: search.width, searchTop: search.top, selectTop: select.top,
                      map: r.querySelector('.leaflet-container').getBoundingClientRect().width};
            }"""
        )
        assert box["page"] <= 375  # no sideways scrolling
        assert box["widget"] <= 375 - 2 * 16 + 1
        assert box["search"] > box["widget"] * 0.8  # controls one per line
        assert box["selectTop"] > box["searchTop"]
        assert box["map"] > 300
        s = state(page, 0)
        assert s["count"] == s["shown"] and s["clusters"]
        widget(page, 0).get_by_role("button", name="Liste", exact=True).click()
        assert widget(page, 0).locator(".mk-businesses li").count() == 100
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
        assert v.errors == []
    finally:
        v.close()


NO_BASE_MAP = """<!doctype html><html lang="da"><head><meta charset="utf-8"><title>x</title></head>
<body>
<div data-mikrokort data-municipality="376" data-lang="{lang}"
     data-tiles="{stub}/down/{{z}}/{{x}}/{{y}}.jpg" data-attribution="Nede"></div>
<script src="{site}/widget/mikrokort.js" defer></script>
</body></html>"""


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_base_map_that_fails_is_said_and_the_map_stays_usable(
    visit: Visit, site: str, stub: Stub, rows: dict[str, Rows], lang: str
) -> None:
    """Every tile of the base map fails (a 404 from a tile server that is down or wrong): a
    visible alert says so in the widget's language, the businesses are still drawn, and the
    towns' names stand where the base map's would; no name can take the focus."""
    stub.pages[f"/no-base-{lang}.html"] = NO_BASE_MAP.format(site=site, stub=stub.url, lang=lang)
    page = visit.open(stub.url + f"/no-base-{lang}.html", widgets=1)
    w = widget(page, 0)
    notice = w.locator(".mk-notice")
    notice.wait_for(state="visible", timeout=10_000)
    assert notice.get_attribute("role") == "alert"
    want = "Baggrundskortet kunne ikke hentes." if lang == "da" else "The background map could"
    assert notice.inner_text().startswith(want)
    s = state(page, 0)
    assert s["drawn"] == s["shown"] == len(rows["376"].select())
    towns = w.locator(".mk-town").all_inner_texts()
    assert "Nykøbing F" in towns and len(towns) == len(set(towns)) >= 3
    assert w.locator(".mk-town[tabindex], .mk-town a, .mk-town button").count() == 0
    # the names stand inside the map's box, not piled up in a corner
    boxes = w.locator(".mk-town span").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y]; })"
    )
    assert len({(round(x), round(y)) for x, y in boxes}) == len(boxes)
    failed = [e for e in visit.errors if "404" not in e]
    assert failed == []


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["left"] >= outer["left"] - 0.5
        and inner["right"] <= outer["right"] + 0.5
        and inner["top"] >= outer["top"] - 0.5
        and inner["bottom"] <= outer["bottom"] + 0.5
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


@pytest.mark.parametrize("width", [320, 375, 1280])
def test_popups_fit_the_map_and_stay_clear_of_its_controls(
    browser: Any, site: str, rows: dict[str, Rows], width: int
) -> None:
    """Every network's popup (the largest: contact, meeting place, members) at a phone's and a
    desktop's width: inside the map, clear of the zoom buttons and the attribution, its close
    button the one thing under the pointer where it is drawn (Playwright's click checks)."""
    v = Visit(browser, width=width, height=800)
    try:
        page = v.open(site + "/demo")
        w = widget(page, 0)
        boxes = """host => {
          const r = host.shadowRoot, box = el => el.getBoundingClientRect().toJSON();
          const pop = r.querySelector('.leaflet-popup-content-wrapper');
          return {map: box(r.querySelector('.leaflet-container')),
                  zoom: box(r.querySelector('.leaflet-control-zoom')),
                  attribution: box(r.querySelector('.leaflet-control-attribution')),
                  popup: pop ? box(pop) : null,
                  close: box(r.querySelector('.leaflet-popup-close-button'))};
        }"""
        for net in rows["376"].doc["networks"][:6]:
            pin = w.get_by_role("button", name=f"Netværk: {net['name']}", exact=True)
            pin.focus()
            page.keyboard.press("Enter")
            w.locator(".leaflet-popup-content").wait_for()
            page.wait_for_timeout(400)  # the map's pan to fit the popup
            b = w.evaluate(boxes)
            assert _inside(b["popup"], b["map"]), (net["id"], b)
            assert _inside(b["close"], b["map"]), (net["id"], b)
            assert not _overlap(b["popup"], b["zoom"]), (net["id"], b)
            assert not _overlap(b["popup"], b["attribution"]), (net["id"], b)
            w.locator(".leaflet-popup-close-button").click(timeout=3000)
            w.locator(".leaflet-popup-content").wait_for(state="detached")
        assert v.errors == []
    finally:
        v.close()


def test_every_network_pin_is_clickable_and_tab_reaches_businesses_first(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    """At the first view every network pin is the element under the pointer at its centre
    (never under a cluster), a click opens its popup; and from the map, Tab goes through the
    clusters before any pin."""
    page = visit.open(site + "/demo")
    w = widget(page, 0)
    pins = w.evaluate(
        """host => {
          const r = host.shadowRoot, map = r.querySelector('.leaflet-container');
          const m = map.getBoundingClientRect();
          return [...r.querySelectorAll('.mk-net')].map(el => {
            const b = el.getBoundingClientRect(), x = b.x + b.width / 2, y = b.y + b.height / 2;
            const inView = x > m.left && x < m.right && y > m.top && y < m.bottom;
            const hit = r.elementFromPoint(x, y);
            const over = hit && hit.closest('.mk-net');
            return {label: el.getAttribute('aria-label'), inView,
                    onTop: !!hit && (hit === el || el.contains(hit)),
                    under: over ? over.getAttribute('aria-label') : hit && hit.className};
          });
        }"""
    )
    in_view = [p for p in pins if p["inView"]]
    assert len(in_view) >= 5, pins
    assert [(p["label"], p["under"]) for p in in_view if not p["onTop"]] == []
    first = w.get_by_role("button", name=in_view[0]["label"], exact=True)
    first.click()
    w.locator(".leaflet-popup-content").wait_for()
    page.keyboard.press("Escape")
    w.locator(".leaflet-popup-content").wait_for(state="detached")
    # keyboard order: from the map's container, the markers in order of the tab sequence
    order = w.evaluate(
        """host => {
          const r = host.shadowRoot;
          return [...r.querySelectorAll('.leaflet-marker-icon[tabindex="0"]')]
            .map(el => el.classList.contains('mk-net') ? 'pin' : 'business');
        }"""
    )
    assert "pin" in order and "business" in order
    assert order.index("pin") > len(order) - 1 - order[::-1].index("business"), order


def test_popups_show_the_public_contact_and_link_the_business_page(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    """A company's public contact details, from its own feature, where the privacy rules give
    them; a personally owned firm that did not opt in shows none."""
    features = requests.get(
        f"{site}/collections/businesses/items",
        params={"municipality": "376", "status": "active", "limit": 2000},
        timeout=30,
    ).json()["features"]
    unique = {r["name"] for r in rows["376"].rows if len(rows["376"].select(q=r["name"])) == 1}
    company = next(
        f for f in features if f["properties"]["phone"] and f["properties"]["name"] in unique
    )
    own = next(
        f
        for f in features
        if f["properties"]["company_form"] == "ENK"
        and f["properties"]["phone"] is None
        and f["properties"]["name"] in unique
    )
    page = visit.open(site + "/demo")
    for feature, has_contact in ((company, True), (own, False)):
        name = feature["properties"]["name"]
        widget(page, 0).locator("input[type=search]").fill(name)
        wait_drawn(page, 0, 1)
        # by keyboard: a network pin may stand over the marker
        widget(page, 0).get_by_role("button", name=name, exact=True).first.focus()
        page.keyboard.press("Enter")
        popup = widget(page, 0).locator(".leaflet-popup-content")
        popup.wait_for()
        link = popup.get_by_role("link", name="Virksomhedens side")
        assert link.get_attribute("href") == (
            f"{site}/collections/businesses/items/{feature['id']}?f=html"
        )
        if has_contact:
            phone = feature["properties"]["phone"]
            popup.locator(f'a[href="tel:{phone.replace(" ", "")}"]').wait_for()
            assert phone in popup.inner_text()
        else:
            page.wait_for_timeout(500)  # the feature has arrived: there was nothing to show
            assert popup.locator(".mk-contact").count() == 0
        page.keyboard.press("Escape")
        page.wait_for_function(
            "() => !document.querySelector('[data-mikrokort]').shadowRoot"
            ".querySelector('.leaflet-popup')"
        )
    assert visit.errors == []


def test_an_english_map_names_industries_in_english(
    visit: Visit, site: str, rows: dict[str, Rows]
) -> None:
    """The English widget's list and popups give each business's NACE class in English where
    the map data has a sure name for it, else the section's English name with the Danish text."""
    page = visit.open(site + "/demo")
    data = rows["390"]  # the demo's second widget is English
    classes = data.doc["classes_en"]
    assert classes and all(len(k) == 4 and k.isdigit() for k in classes)
    box = widget(page, 1)
    box.get_by_role("button", name="List", exact=True).click()
    box.locator(".mk-businesses li").nth(99).wait_for()
    listed = box.locator(".mk-businesses li").evaluate_all(
        "els => els.map(e => [e.dataset.id, e.innerText])"
    )
    by_id = {r["id"]: r for r in data.rows}
    named = 0
    for business_id, text in listed:
        code, section, danish = data.doc["industries"][by_id[business_id]["industry"]]
        if (english := classes.get(code[:4])) is not None:
            assert english in text and danish not in text, text
            named += 1
        elif section:
            assert f"{data.doc['sections'][section][1]}: {danish}" in text, text
    assert named > len(listed) / 2
    # the same in a popup
    first = box.locator(".mk-businesses li").first
    first_id = first.get_attribute("data-id")
    code = data.doc["industries"][by_id[first_id]["industry"]][0]
    first.get_by_role("button").click()
    popup = box.locator(".leaflet-popup-content")
    popup.wait_for()
    if code[:4] in classes:
        assert classes[code[:4]] in popup.inner_text()
    assert visit.errors == []
