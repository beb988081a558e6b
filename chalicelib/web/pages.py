"""The frame every HTML page of the API shares: language, head, header, breadcrumbs, footer;
and the error page a person gets (chalicelib.web.routing). The pages themselves are built in
chalicelib.pages.

A page is asked for with `f=html`, or by a browser, whose `Accept` names `text/html` above the
`*/*` every API client sends (GDAL, QGIS and OWSLib name JSON, so they never get a page). Its
language is `lang=da|en`, else the browser's `Accept-Language`, else Danish. Pages are built
for the Danish web accessibility law (WCAG 2.1 AA): one `h1`, landmarks, a skip link, labelled
navigation, text contrast of at least 7:1, a visible focus, and tables with headers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalicelib.domain.errors import MikrokortError, NotAcceptable
from chalicelib.web.http import JSON, HttpResponse, negotiate

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.web.http import HttpRequest

HTML = "text/html; charset=utf-8"
LANGUAGES = ("da", "en")

TEXT: dict[str, dict[str, str]] = {
    "da": {
        "skip": "Spring til indholdet",
        "site": "Mikrokort",
        "tagline": "Åbent kort og åbne data om mikrovirksomheder og erhvervsnetværk",
        "nav": "Hovedmenu",
        "crumbs": "Du er her",
        "home": "Forside",
        "collections": "Datasamlinger",
        "conformance": "Standarder",
        "api": "API-beskrivelse (OpenAPI)",
        "map": "Kortet",
        "other_lang": "English",
        "formats": "Denne side i andre formater",
        "attribution": "Data fra Det Centrale Virksomhedsregister (CVR), Erhvervsstyrelsen. "
        "Kommunegrænser: DAGI, Klimadatastyrelsen og Danske Kommuner (CC BY 4.0).",
        "error_title": "Siden kan ikke vises",
        "error_intro": "Adressen indeholder noget, tjenesten ikke kan bruge:",
        "error_field": "Det drejer sig om",
        "error_back": "Gå til forsiden",
        "not_found_title": "Siden findes ikke",
    },
    "en": {
        "skip": "Skip to content",
        "site": "Mikrokort",
        "tagline": "Open map and open data of micro-businesses and business networks",
        "nav": "Main menu",
        "crumbs": "You are here",
        "home": "Home",
        "collections": "Collections",
        "conformance": "Standards",
        "api": "API definition (OpenAPI)",
        "map": "The map",
        "other_lang": "Dansk",
        "formats": "This page in other formats",
        "attribution": "Data from the Central Business Register (CVR), the Danish Business "
        "Authority. Municipal boundaries: DAGI, Klimadatastyrelsen og Danske Kommuner "
        "(CC BY 4.0).",
        "error_title": "The page cannot be shown",
        "error_intro": "The address holds something the service cannot use:",
        "error_field": "It concerns",
        "error_back": "Go to the home page",
        "not_found_title": "There is no such page",
    },
}

_STYLE = """
  *, *::before, *::after { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
         background: #fff; margin: 0; }
  a { color: #0b4f8a; }
  a:visited { color: #5b2a86; }
  a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible,
  summary:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
  .skip { position: absolute; left: -999rem; }
  .skip:focus { left: .5rem; top: .5rem; background: #fff; padding: .25rem .5rem; z-index: 9; }
  header.site, main, footer.site { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
  header.site { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; align-items: baseline;
                border-bottom: 1px solid #d0d0d0; padding-top: .75rem; padding-bottom: .5rem; }
  header.site .brand { font-weight: 700; font-size: 1.2rem; text-decoration: none;
                       color: #1b1b1b; }
  header.site nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none;
                       margin: 0; padding: 0; }
  nav.crumbs ol { list-style: none; padding: 0; margin: .75rem 0 0; display: flex;
                  flex-wrap: wrap; font-size: .95rem; }
  nav.crumbs li + li::before { content: "›"; padding: 0 .4rem; color: #555; }
  h1 { font-size: 1.8rem; line-height: 1.25; margin: .75rem 0 .5rem; }
  h2 { font-size: 1.3rem; margin: 1.75rem 0 .5rem; }
  .lead { font-size: 1.1rem; max-width: 48rem; }
  dl.facts { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr;
             gap: .25rem 1rem; margin: 0; }
  dl.facts dt { font-weight: 600; }
  dl.facts dd { margin: 0; overflow-wrap: anywhere; }
  .table-wrap { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-size: .95rem; }
  caption { text-align: left; font-weight: 600; padding: .25rem 0; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d0d0d0;
           vertical-align: top; }
  thead th { border-bottom: 2px solid #1b1b1b; }
  figure.map { margin: 1rem 0; }
  figure.map svg { display: block; width: 100%; max-width: 40rem; height: auto;
                   background: #eef3f6; border: 1px solid #767676; }
  figure.map figcaption { font-size: .9rem; color: #444; }
  form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end;
                 margin: 1rem 0; }
  form.filters > div { min-width: 0; max-width: 100%; }
  form.filters label { display: block; font-weight: 600; font-size: .95rem; }
  form.filters input, form.filters select { font: inherit; padding: .3rem; max-width: 100%;
                                            border: 1px solid #767676; border-radius: 3px; }
  button { font: inherit; padding: .4rem 1rem; background: #0b4f8a; color: #fff; border: 0;
           border-radius: 4px; cursor: pointer; }
  .pager { display: flex; gap: 1.5rem; margin: 1rem 0; }
  .note { color: #444; font-size: .95rem; }
  code { background: #f3f3f3; padding: 0 .2rem; overflow-wrap: anywhere; }
  ul.plain { padding-left: 1.2rem; }
  footer.site { border-top: 1px solid #d0d0d0; margin-top: 2.5rem; padding-top: .75rem;
                padding-bottom: 2rem; font-size: .9rem; color: #444; }
  footer.site h2 { font-size: 1rem; margin: .5rem 0 .25rem; }
"""


def e(text: object) -> str:
    """Text for HTML: escaped, quotes included."""
    return html.escape("" if text is None else str(text))


def overview_map(settings: Settings) -> str:
    """The map of everything served: the one municipality's code, or `all` of them."""
    covered = list(settings.municipalities)
    return covered[0] if len(covered) == 1 else "all"


def web_address(text: str | None) -> str | None:
    """A website as a link target: https added to a bare host ("www.kommune.dk"), and any
    other scheme than http(s) refused (None), so no data can make a `javascript:` link."""
    if not text:
        return None
    if "://" not in text:
        return f"https://{text}"
    return text if text.startswith(("http://", "https://")) else None


def wants_html(req: HttpRequest, fmt: str | None = None) -> bool:
    """Whether the answer is a page: `f=html`, or an `Accept` that puts HTML above JSON."""
    if fmt is not None:
        return fmt == "html"
    values = req.params.get("f")
    if values:
        return values[0] == "html"
    try:
        return negotiate(req.header("accept"), [JSON, "text/html"]) == "text/html"
    except NotAcceptable:
        return False


def language(req: HttpRequest) -> str:
    """The page's language: `lang`, else the browser's preference among da and en, else da."""
    asked = (req.params.get("lang") or [""])[0]
    if asked in LANGUAGES:
        return asked
    best, best_q = "da", 0.0
    for item in (req.header("accept-language") or "").split(","):
        tag, _, rest = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def page_params(req: HttpRequest, **changes: str | None) -> dict[str, str]:
    """The request's own query parameters with some changed (None: removed)."""
    out = {k: v[0] for k, v in req.params.items() if v}
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def href(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


@dataclass
class Page:
    """One page: what differs from page to page; `render` adds the shared frame."""

    lang: str
    title: str
    body: str  # the HTML inside <main>, after the h1
    crumbs: list[tuple[str, str]] = field(default_factory=list)  # (label, href), not this page
    alternates: list[tuple[str, str, str]] = field(default_factory=list)  # (href, type, label)
    head: str = ""  # more of <head>: JSON-LD, canonical
    description: str | None = None


def render(req: HttpRequest, page: Page) -> bytes:
    t = TEXT[page.lang]
    base = req.base_url
    other = "en" if page.lang == "da" else "da"
    switch = href(req.path if req.path.startswith("/") else "/", page_params(req, lang=other))
    switch = f"{base}{switch}" if not switch.startswith("http") else switch
    crumbs = "".join(f'<li><a href="{e(h)}">{e(label)}</a></li>' for label, h in page.crumbs)
    crumbs += f'<li aria-current="page">{e(page.title)}</li>'
    alternates_head = "".join(
        f'<link rel="alternate" type="{e(kind)}" href="{e(h)}" title="{e(label)}">'
        for h, kind, label in page.alternates
    )
    alternates_body = ""
    if page.alternates:
        items = "".join(
            f'<li><a href="{e(h)}" type="{e(kind)}">{e(label)}</a></li>'
            for h, kind, label in page.alternates
        )
        alternates_body = f'<h2>{e(t["formats"])}</h2><ul class="plain">{items}</ul>'
    lang_q = "" if page.lang == "da" else "?lang=en"
    map_href = f"{base}/embed/{overview_map(req.settings)}"
    map_href += "?lang=en" if page.lang == "en" else ""
    description = (
        f'<meta name="description" content="{e(page.description)}">' if page.description else ""
    )
    doc = f"""<!doctype html>
<html lang="{page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(page.title)} – {e(t["site"])}</title>
{description}{alternates_head}{page.head}
<style>{_STYLE}</style>
</head>
<body>
<a class="skip" href="#content">{e(t["skip"])}</a>
<header class="site">
<a class="brand" href="{e(base)}/{lang_q}">{e(t["site"])}</a>
<nav aria-label="{e(t["nav"])}"><ul>
<li><a href="{e(base)}/collections{lang_q}">{e(t["collections"])}</a></li>
<li><a href="{e(map_href)}">{e(t["map"])}</a></li>
<li><a href="{e(base)}/api">{e(t["api"])}</a></li>
<li><a href="{e(switch)}" lang="{other}" hreflang="{other}">{e(t["other_lang"])}</a></li>
</ul></nav>
</header>
<main id="content" tabindex="-1">
<nav class="crumbs" aria-label="{e(t["crumbs"])}"><ol>{crumbs}</ol></nav>
<h1>{e(page.title)}</h1>
{page.body}
</main>
<footer class="site">
{alternates_body}
<p>{e(t["attribution"])}</p>
</footer>
</body>
</html>
"""
    return doc.encode()


def error_page(req: HttpRequest, exc: MikrokortError) -> HttpResponse:
    """A 4xx for a person: what was wrong, in the page's language, with the way home."""
    lang = language(req)
    t = TEXT[lang]
    title = t["not_found_title"] if exc.status == 404 else t["error_title"]
    parameter = getattr(exc, "parameter", None)
    where = f"<p>{e(t['error_field'])}: <code>{e(parameter)}</code></p>" if parameter else ""
    body = (
        f'<p class="lead">{e(t["error_intro"])}</p>'
        f'<p lang="en"><strong>{e(exc.description)}</strong></p>{where}'
        f'<p><a href="{e(req.base_url)}/{"" if lang == "da" else "?lang=en"}">'
        f"{e(t['error_back'])}</a></p>"
    )
    page = render(req, Page(lang, title, body, crumbs=[(t["home"], f"{req.base_url}/")]))
    return HttpResponse(exc.status, page, HTML, {"Cache-Control": "no-store", "Vary": "Accept"})
