"""The iframe page per municipality and oEmbed, through the embedded server's WSGI app: any
site may frame the page (and no other page of the site), its options become the widget's, a
wrong option is an HTML page naming it, and oEmbed answers for this service's embed pages only,
as the oEmbed 1.0 specification asks (404 for other URLs; another format is a 400, not its
501: no input gets a server error)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import pytest

from chalicelib.config import Settings
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import wsgi_call

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsgiApp]:
    folder: Path = tmp_path_factory.mktemp("embed")
    services = Services(Settings(store_url=f"sqlite:///{folder / 'm.db'}"))
    yield WsgiApp(ROUTES, services)
    services.close()


def _get(app: WsgiApp, path: str, query: str = "") -> dict[str, Any]:
    return wsgi_call(app, "GET", path, query, HOST="127.0.0.1:8000")


def _widget_attributes(page: str) -> dict[str, str]:
    (tag,) = re.findall(r"<div data-mikrokort ([^>]*)>", page)
    return {k: html.unescape(v) for k, v in re.findall(r'([a-z-]+)="([^"]*)"', tag)}


def test_the_embed_page_is_the_widget_alone_and_any_site_may_frame_it(app: WsgiApp) -> None:
    r = _get(app, "/embed/376", "lang=en&industry=f&size=all&height=600&heading-level=2")
    assert r["status"] == 200 and r["headers"]["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" not in r["headers"]
    policy = r["headers"]["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    page = r["body"].decode()
    assert '<html lang="en">' in page
    title = "Map of businesses and business networks in Guldborgsund Municipality"
    assert f"<title>{title}</title>" in page and f'<h1 id="mk-embed-title">{title}</h1>' in page
    assert _widget_attributes(page) == {
        "data-municipality": "376",
        "data-lang": "en",
        "data-height": "600",
        "data-industry": "F",
        "data-size": "all",
        "data-heading-level": "2",
    }
    assert f'src="{BASE}/widget/mikrokort.js"' in page
    # the rest of the site still refuses to be framed
    demo = _get(app, "/demo")
    assert demo["headers"]["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in demo["headers"]["Content-Security-Policy"]


def test_a_danish_page_by_default_and_the_national_map(app: WsgiApp) -> None:
    page = _get(app, "/embed/0390")["body"].decode()
    assert '<html lang="da">' in page
    assert "<title>Kort over virksomheder og erhvervsnetværk i Vordingborg Kommune</title>" in page
    assert _widget_attributes(page)["data-municipality"] == "390"
    assert _widget_attributes(page)["data-height"] == "100vh"  # the frame's own height
    national = _get(app, "/embed/all")["body"].decode()
    assert _widget_attributes(national)["data-municipality"] == "all"


def test_a_search_is_text_in_an_attribute_never_markup(app: WsgiApp) -> None:
    r = _get(app, "/embed/376", "search=" + quote('"><script>alert(1)</script>'))
    page = r["body"].decode()
    assert r["status"] == 200 and "<script>alert" not in page
    assert _widget_attributes(page)["data-search"] == '"><script>alert(1)</script>'


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("lang=de", "lang"),
        ("industry=Z", "industry"),
        ("industry=43", "industry"),
        ("size=tiny", "size"),
        ("height=tall", "height"),
        ("heading-level=1", "heading-level"),
        ("network=Not%20An%20Id", "network"),
        ("search=" + "x" * 101, "search"),
        ("colour=red", "colour"),
        ("lang=da&lang=en", "lang"),
    ],
)
def test_a_wrong_option_is_a_page_that_names_it(app: WsgiApp, query: str, named: str) -> None:
    r = _get(app, "/embed/376", query)
    assert r["status"] == 400 and r["headers"]["Content-Type"].startswith("text/html")
    page = r["body"].decode()
    assert '<html lang="da">' in page and "<h1>" in page
    assert named in html.unescape(page)
    assert "/embed/376?lang=da" in page  # an example of how to write it


def test_a_municipality_not_covered_is_a_404_page_listing_those_that_are(app: WsgiApp) -> None:
    for code in ("999", "101", "abc", "03760", "1376", "３７６"):
        r = _get(app, f"/embed/{code}")
        assert r["status"] == 404 and r["headers"]["Content-Type"].startswith("text/html")
        text = html.unescape(r["body"].decode())
        assert "376 (Guldborgsund Kommune)" in text and "390 (Vordingborg Kommune)" in text


def _discovered(page: str) -> str:
    (link,) = re.findall(
        r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page
    )
    return html.unescape(link)


def test_oembed_is_discovered_from_the_page_and_gives_its_iframe(app: WsgiApp) -> None:
    page = _get(app, "/embed/376", "lang=en&industry=F")["body"].decode()
    found = urlsplit(_discovered(page))
    assert f"{found.scheme}://{found.netloc}" == BASE and found.path == "/oembed"
    r = _get(app, found.path, found.query)
    assert r["status"] == 200 and r["headers"]["Content-Type"].startswith("application/json")
    assert r["headers"]["Access-Control-Allow-Origin"] == "*"  # a CMS's browser may ask too
    doc = orjson.loads(r["body"])
    assert doc["version"] == "1.0" and doc["type"] == "rich"
    assert doc["provider_name"] == "Mikrokort" and doc["provider_url"] == BASE
    assert (doc["width"], doc["height"]) == (800, 600)
    (src,) = re.findall(r'<iframe src="([^"]+)"', doc["html"])
    assert html.unescape(src) == f"{BASE}/embed/376?lang=en&industry=F"
    assert f'title="{doc["title"]}"' in doc["html"]  # a frame has an accessible name


def test_oembed_keeps_within_the_consumers_size(app: WsgiApp) -> None:
    url = quote(f"{BASE}/embed/390", safe="")
    doc = orjson.loads(_get(app, "/oembed", f"url={url}&maxwidth=480&maxheight=320")["body"])
    assert (doc["width"], doc["height"]) == (480, 320)
    assert 'width="480" height="320"' in doc["html"]
    for bad in ("maxwidth=0", "maxwidth=ten", "maxheight=99999"):
        r = _get(app, "/oembed", f"url={url}&{bad}")
        assert r["status"] == 400
        assert orjson.loads(r["body"])["parameter"] == bad.split("=")[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/embed/376",
        f"{BASE}/collections/businesses",
        f"{BASE}/embed/999",
        f"{BASE}/embed/376?lang=de",
        "not a url",
    ],
)
def test_oembed_answers_for_its_own_embed_pages_only(app: WsgiApp, url: str) -> None:
    r = _get(app, "/oembed", f"url={quote(url, safe='')}")
    assert r["status"] == 404
    assert orjson.loads(r["body"])["code"] == "NotFound"


def test_oembed_serves_json_only_and_says_what_is_missing(app: WsgiApp) -> None:
    url = quote(f"{BASE}/embed/376", safe="")
    r = _get(app, "/oembed", f"url={url}&format=xml")
    assert r["status"] == 400 and orjson.loads(r["body"])["parameter"] == "format"
    assert "only json" in orjson.loads(r["body"])["description"]
    r = _get(app, "/oembed")
    assert r["status"] == 400 and orjson.loads(r["body"])["parameter"] == "url"
    r = _get(app, "/oembed", f"url={url}&callback=x")
    assert r["status"] == 400 and orjson.loads(r["body"])["parameter"] == "callback"


# -- the embed-code page ------------------------------------------------------------------------


def test_the_embed_code_page_writes_both_snippets_for_the_choices(app: WsgiApp) -> None:
    r = _get(app, "/embed", "municipality=390&lang=en&industry=f&height=500")
    assert r["status"] == 200
    page = r["body"].decode()
    assert '<html lang="da">' in page and "<h1>Sæt kortet på jeres hjemmeside</h1>" in page
    codes = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", page, re.S)]
    script, frame, address = codes
    assert _widget_attributes(script) == {
        "data-municipality": "390",
        "data-lang": "en",
        "data-industry": "F",
        "data-height": "500",
    }
    assert f'<script src="{BASE}/widget/mikrokort.js" defer></script>' in script
    (src,) = re.findall(r'<iframe src="([^"]+)"', frame)
    assert html.unescape(src) == address == f"{BASE}/embed/390?lang=en&industry=F"
    assert 'height="500"' in frame and 'title="' in frame
    # what the snippets name is what the embed page and oEmbed serve
    embed = _get(app, "/embed/390", "lang=en&industry=F")
    assert embed["status"] == 200
    doc = orjson.loads(_get(app, "/oembed", f"url={quote(address, safe='')}")["body"])
    assert html.unescape(re.findall(r'<iframe src="([^"]+)"', doc["html"])[0]) == address
    # the selects keep the choices, the statement text is there
    assert '<option value="390" selected>' in page and '<option value="F" selected>' in page
    assert '<option value="micro" selected>' in page  # the widget's default: no attribute
    assert "tilgængelighedserklæring" in page and "listevisning" in page


def test_the_embed_code_page_writes_a_size_other_than_micro_businesses(app: WsgiApp) -> None:
    page = _get(app, "/embed", "municipality=376&lang=da&size=all&height=600")["body"].decode()
    script, frame, address = (
        html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", page, re.S)
    )
    assert _widget_attributes(script)["data-size"] == "all"
    assert f'src="{address}"' in frame.replace("&amp;", "&")
    assert address == f"{BASE}/embed/376?lang=da&size=all"
    assert _get(app, "/embed/376", "lang=da&size=all")["status"] == 200
    assert '<option value="all" selected>Alle størrelser</option>' in page


def test_the_embed_code_page_in_english_and_before_a_choice(app: WsgiApp) -> None:
    page = _get(app, "/embed", "ui=en")["body"].decode()
    assert '<html lang="en">' in page and "<h1>Put the map on your website</h1>" in page
    assert "<pre>" not in page  # nothing chosen yet: the form only
    assert '<option value="376" selected>Guldborgsund Municipality</option>' in page
    assert 'hreflang="da"' in page and "/embed?ui=da" in page


def test_wrong_choices_are_shown_beside_their_fields_with_the_form_kept(app: WsgiApp) -> None:
    r = _get(app, "/embed", "municipality=999&lang=da&industry=Z&size=huge&height=99999")
    assert r["status"] == 400 and r["headers"]["Content-Type"].startswith("text/html")
    page = r["body"].decode()
    assert 'role="alert"' in page and "<pre>" not in page
    for field in ("municipality", "industry", "size", "height"):
        assert f'aria-invalid="true" aria-describedby="{field}-error"' in page
        assert f'id="{field}-error"' in page
    assert 'id="lang-error"' not in page
    assert 'value="99999"' in page  # what was typed stays
    assert "Skriv et helt tal fra 300 til 1200." in page
