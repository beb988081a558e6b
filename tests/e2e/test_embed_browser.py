"""The map's iframe page in Debian's chromium: framed by a page of another origin it draws the
map, the rest of the site refuses to be framed, the page passes axe-core, and a browser finds
its oEmbed document from the page's link, as a CMS does."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import AXE, AXE_RUN, Stub, Visit

FRAMING = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Kommunens side</title></head>
<body><h1>Erhverv</h1>
<iframe src="{src}" title="Kort" width="800" height="600" style="border:0"></iframe>
</body></html>"""


def _frame(page: Any) -> Any:
    page.wait_for_function("() => window.frames.length === 1")
    (frame,) = [f for f in page.frames if f != page.main_frame]
    return frame


def test_the_map_draws_in_an_iframe_on_another_origin(visit: Visit, site: str, stub: Stub) -> None:
    stub.pages["/framed.html"] = FRAMING.format(src=f"{site}/embed/390?lang=en&industry=F")
    page = visit.page
    page.goto(stub.url + "/framed.html")
    frame = _frame(page)
    frame.wait_for_function(
        "() => document.querySelector('[data-mikrokort]')?.dataset.mikrokortState === 'ready'",
        timeout=20_000,
    )
    shown = frame.evaluate(
        """() => {
          const r = document.querySelector('[data-mikrokort]').shadowRoot;
          const icons = [...r.querySelectorAll('.mk-cluster, .mk-pt')];
          return {drawn: icons.reduce((s, el) => s + Number(el.dataset.count), 0),
                  shown: Number(r.querySelector('.mk-status').dataset.shown),
                  height: r.querySelector('.leaflet-container').getBoundingClientRect().height,
                  lang: document.documentElement.lang};
        }"""
    )
    assert shown["drawn"] > 0 and shown["drawn"] == shown["shown"]
    assert shown["lang"] == "en"
    assert 500 <= shown["height"] <= 600  # the map fills the frame (100vh less the toolbar)
    assert visit.errors == []


def test_the_rest_of_the_site_is_not_framed(visit: Visit, site: str, stub: Stub) -> None:
    stub.pages["/framing-demo.html"] = FRAMING.format(src=f"{site}/demo")
    page = visit.page
    page.goto(stub.url + "/framing-demo.html")
    frame = _frame(page)
    page.wait_for_timeout(1000)
    assert frame.evaluate("() => document.querySelectorAll('[data-mikrokort]').length") == 0


def test_the_embed_page_passes_axe_and_announces_its_oembed(browser: Any, site: str) -> None:
    v = Visit(browser, width=800, height=600)
    try:
        v.context.add_init_script(path=str(AXE))
        page = v.open(site + "/embed/376", widgets=1)
        assert page.evaluate(AXE_RUN) == []
        found = page.evaluate(
            """async () => {
              const link = document.querySelector('link[type="application/json+oembed"]');
              const doc = await (await fetch(link.href)).json();
              return {type: doc.type, html: doc.html, title: doc.title, page: location.href};
            }"""
        )
        assert found["type"] == "rich" and f'src="{found["page"]}"' in found["html"]
        assert found["title"] == page.title()
        assert v.errors == []
    finally:
        v.close()


def test_the_embed_code_page_passes_axe_with_its_preview_and_with_errors(
    browser: Any, site: str
) -> None:
    """A web editor's page: the form, the snippets, the preview frame drawing the map; and
    the same form with wrong choices marked beside their fields. axe-core on both, in the
    page and in the preview's frame."""
    v = Visit(browser, width=1000, height=900)
    try:
        v.context.add_init_script(path=str(AXE))
        page = v.page
        page.goto(site + "/embed?municipality=376&lang=da&industry=F&height=500")
        preview = _frame(page)
        preview.wait_for_function(
            "() => document.querySelector('[data-mikrokort]')?.dataset.mikrokortState === 'ready'",
            timeout=20_000,
        )
        assert page.evaluate(AXE_RUN) == []
        assert preview.evaluate(AXE_RUN) == []
        # choosing again through the form, by label, as a person does
        page.get_by_label("Kommune").select_option(label="Vordingborg Kommune")
        page.get_by_label("Højde i pixels").fill("50")
        page.get_by_role("button", name="Lav koden").click()
        page.wait_for_selector("[role=alert]")
        assert page.get_by_label("Kommune").input_value() == "390"
        assert page.get_by_label("Højde i pixels").input_value() == "50"
        error = page.locator("#height-error").inner_text()
        assert error == "Skriv et helt tal fra 300 til 1200."
        assert page.get_by_label("Højde i pixels").get_attribute("aria-describedby") == (
            "height-error"
        )
        assert page.evaluate(AXE_RUN) == []
        # the form with errors is answered 400, which the browser logs; nothing else went wrong
        assert [e for e in v.errors if "status of 400" not in e] == []
    finally:
        v.close()
