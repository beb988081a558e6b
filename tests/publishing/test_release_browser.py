"""The snapshot's charts and release in a real browser (Debian's chromium, headless): every chart
loads as an image from a server that serves the files as a CMS would, and the release's tables
fit a phone 375 px wide."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chalicelib.publishing import press
from chalicelib.publishing.barometer import BarometerBuilder, load_parameters
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS

PHONE = 375
# Here Helvetica and Arial fall back to DejaVu Sans, which is wider than either: a table that
# fits here fits a phone's own fonts.
# Resolves with what each <img> did: loaded (and its natural width) or an error event.
LOADED = """() => Promise.all([...document.images].map(img => new Promise(done => {
  const report = (event) => done({src: img.getAttribute('src'), event,
                                  width: img.naturalWidth, height: img.naturalHeight});
  if (img.complete) { report(img.naturalWidth > 0 ? 'load' : 'error'); return; }
  img.addEventListener('load', () => report('load'));
  img.addEventListener('error', () => report('error'));
})))"""
WIDTHS = """() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,
  tables: [...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right),
  figures: [...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect().right)
})"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(snapshot_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The snapshot's files over HTTP (image/svg+xml for .svg, as a web server sends them),
    with a page of <img> for every chart and one broken chart to show a failure is seen."""
    root = tmp_path_factory.mktemp("site")
    for f in snapshot_folder.iterdir():
        shutil.copy(f, root / f.name)
    (root / "broken.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10' font-size='1' "
        "font-size='2'></svg>"
    )
    charts = sorted(p.name for p in root.glob("chart-*.svg"))
    imgs = "".join(f"<img src='{name}' alt='{name}'>" for name in charts)
    (root / "charts.html").write_text(f"<!doctype html><meta charset='utf-8'><body>{imgs}")
    (root / "broken.html").write_text("<!doctype html><body><img src='broken.svg' alt='x'>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/install-system-deps.sh")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": PHONE, "height": 800})
    yield context.new_page()
    context.close()


def test_every_chart_renders_as_an_image(site: str, page: Any) -> None:
    page.goto(f"{site}/charts.html")
    results = page.evaluate(LOADED)
    names = press.chart_files("da") + press.chart_files("en")
    assert sorted(r["src"] for r in results) == sorted(names)
    for r in results:
        assert r["event"] == "load" and r["width"] > 0 and r["height"] > 0, r


def test_a_chart_that_is_not_xml_is_seen_as_broken(site: str, page: Any) -> None:
    page.goto(f"{site}/broken.html")
    [result] = page.evaluate(LOADED)
    assert result["event"] == "error" and result["width"] == 0


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_release_fits_a_phone(site: str, page: Any, lang: str) -> None:
    page.goto(f"{site}/barometer_{lang}.html")
    widths = page.evaluate(WIDTHS)
    assert widths["view"] == PHONE
    assert widths["page"] <= PHONE, widths  # nothing scrolls sideways
    assert widths["tables"] and max(widths["tables"]) <= PHONE, widths
    assert len(widths["figures"]) == 3 and max(widths["figures"]) <= PHONE, widths


def test_many_municipalities_make_more_tables_that_each_fit(page: Any) -> None:
    codes = ("101", "147", "760", "773", "820")  # Ringkøbing-Skjern, Vesthimmerlands
    builder = BarometerBuilder(2025, codes, load_parameters())
    for i, code in enumerate(codes):
        builder.add(
            {
                "municipality": code,
                "founded": "2015-01-01",
                "ceased": None,
                "employees": "5-9",
                "company_form": "APS",
                "industry_section": "N",
                "id": f"{20000000 + i}",
            }
        )
    doc = builder.result([])
    for lang in ("da", "en"):
        page.set_content(press.html(doc, lang))
        widths = page.evaluate(WIDTHS)
        assert len(widths["tables"]) == -(-len(codes) // press.TABLE_COLUMNS)
        assert widths["page"] <= PHONE and max(widths["tables"]) <= PHONE, widths
        markdown = press.markdown(doc, lang)
        rows = [line for line in markdown.splitlines() if line.startswith("|")]
        assert rows and max(line.count("|") - 1 for line in rows) <= 1 + press.TABLE_COLUMNS
