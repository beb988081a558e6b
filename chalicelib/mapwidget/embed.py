"""The map for CMSs that strip scripts: a page per municipality to put in an iframe, and oEmbed.

- `/embed/{kommunekode}` is the widget alone on a page, with the widget's options as query
  parameters (`lang`, `industry`, `size`, `network`, `search`, `height`, `heading-level`).
  Any site may frame it (`frame-ancestors *`): it shows the open data the API serves to anyone.
- `/oembed?url=…` answers the oEmbed 1.0 request for such a page with a `rich` embed (the
  iframe), so a CMS that speaks oEmbed turns a pasted link into the map; each embed page
  announces it (`<link rel="alternate" type="application/json+oembed">`, oEmbed's discovery).

A person who asks for a page with a wrong option gets an HTML page that says which and how to
write it (in Danish and English), never a JSON error.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import orjson

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.reference import official_name
from chalicelib.mapwidget.widget import NATIONAL, page_policy, tile_settings
from chalicelib.web import params as P
from chalicelib.web.http import JSON, HttpResponse, etag_of, ok

if TYPE_CHECKING:
    from chalicelib.web.http import HttpRequest

HTML = "text/html; charset=utf-8"
EMBED_MAX_AGE = 300
DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600
_MIN_SIZE, _MAX_SIZE = 200, 4000
_HEIGHT = re.compile(r"^\d{2,4}(px|vh|rem)?$")
_NETWORK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_SEARCH_MAX = 100
# the embed page's options, in the order of the widget's data attributes
OPTIONS = ("lang", "industry", "size", "network", "search", "height", "heading-level")
SIZES = ("micro", "larger", "all")  # the widget's data-size


class EmbedOptionError(InvalidParameter):
    """A wrong option of an embed page: answered as a page for a person."""


def _options(req: HttpRequest) -> dict[str, str]:
    """The page's options, checked; the widget gets them as its data attributes."""
    out: dict[str, str] = {}
    for name, values in req.params.items():
        if name not in OPTIONS:
            raise EmbedOptionError(
                f"Ukendt valgmulighed '{name}' / Unknown option '{name}'. "
                f"Valgmuligheder / Options: {', '.join(OPTIONS)}.",
                parameter=name,
            )
        if len(values) != 1:
            raise EmbedOptionError(
                f"'{name}' må kun angives én gang / '{name}' may be given once only.",
                parameter=name,
            )
        out[name] = values[0]
    lang = out.get("lang", "da")
    if lang not in ("da", "en"):
        raise EmbedOptionError(
            "Sprog (lang) er 'da' eller 'en' / lang is 'da' or 'en'.", parameter="lang"
        )
    industry = out.get("industry")
    if industry is not None and industry.upper() not in SECTION_NAMES:
        raise EmbedOptionError(
            "Branche (industry) er bogstavet for en DB07-hovedgruppe, fx F for bygge og anlæg "
            f"/ industry is a DB07 section letter, e.g. F: {', '.join(SECTION_NAMES)}.",
            parameter="industry",
        )
    if industry is not None:
        out["industry"] = industry.upper()
    if out.get("size", "micro") not in SIZES:
        raise EmbedOptionError(
            "Størrelse (size) er micro (0-9 ansatte), larger (10 eller flere) eller all / size "
            "is micro (0-9 employees), larger (10 or more) or all.",
            parameter="size",
        )
    network = out.get("network")
    if network is not None and not _NETWORK_ID.match(network):
        raise EmbedOptionError(
            "Netværk (network) er et netværks id, fx erhvervsnetvaerk-falster / network is a "
            "network's id, e.g. erhvervsnetvaerk-falster.",
            parameter="network",
        )
    if len(out.get("search", "")) > _SEARCH_MAX:
        raise EmbedOptionError(
            f"Søgning (search) er højst {_SEARCH_MAX} tegn / search is at most {_SEARCH_MAX} "
            "characters.",
            parameter="search",
        )
    height = out.get("height")
    if height is not None and not _HEIGHT.match(height):
        raise EmbedOptionError(
            "Højde (height) er fx 480, 480px, 80vh eller 30rem / height is e.g. 480, 480px, "
            "80vh or 30rem.",
            parameter="height",
        )
    level = out.get("heading-level")
    if level is not None and level not in ("2", "3", "4", "5", "6"):
        raise EmbedOptionError(
            "Overskriftsniveau (heading-level) er 2 til 6 / heading-level is 2 to 6.",
            parameter="heading-level",
        )
    return out


def _code(code: str, covered: tuple[str, ...]) -> str:
    """The 3-digit kommunekode of a covered municipality, or `all`."""
    if code == NATIONAL:
        return code
    try:
        short: str | None = P.parse_municipality(code)
    except InvalidParameter:
        short = None
    if short is None or short not in covered:
        names = ", ".join(f"{c} ({official_name(c)})" for c in covered)
        raise NotFound(
            f"Der er intet kort for kommune '{code}' / There is no map for municipality "
            f"'{code}'. Kommuner / Municipalities: {names}, eller / or {NATIONAL}."
        )
    return short


def _title(code: str, lang: str) -> str:
    if code == NATIONAL:
        return (
            "Kort over virksomheder og erhvervsnetværk i Danmark"
            if lang == "da"
            else "Map of businesses and business networks in Denmark"
        )
    name = official_name(code, lang)
    if lang == "da":
        return f"Kort over virksomheder og erhvervsnetværk i {name}"
    return f"Map of businesses and business networks in {name}"


_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="alternate" type="application/json+oembed" href="{oembed}" title="{title}">
<link rel="stylesheet" href="{base}/widget/mikrokort.css">
<style>
  html, body {{ margin: 0; padding: 0; }}
  body {{ font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; background: #fff; }}
  h1 {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
        white-space: nowrap; }}
</style>
</head>
<body>
<main aria-labelledby="mk-embed-title">
<h1 id="mk-embed-title">{title}</h1>
<div data-mikrokort {attributes}></div>
</main>
<script src="{base}/widget/mikrokort.js" defer></script>
</body>
</html>
"""

_ERROR = """<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; margin: 0 auto;
         max-width: 40rem; padding: 1rem; }}
  code {{ background: #f3f3f3; padding: 0 .2rem; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{message}</p>
<p>Eksempel / Example: <code>{example}</code></p>
<p lang="en">The map's embed page takes the widget's options as query parameters; see the
documentation of the widget (docs/WIDGET.md).</p>
</main>
</body>
</html>
"""


def _error_page(req: HttpRequest, status: int, message: str) -> HttpResponse:
    title = "Kortet kan ikke vises / The map cannot be shown"
    example = f"{req.base_url}/embed/376?lang=da&industry=F&height=600"
    body = _ERROR.format(
        title=title, message=html.escape(message), example=html.escape(example)
    ).encode()
    return HttpResponse(status, body, HTML, {"Cache-Control": "no-store"})


def embed_url(base_url: str, code: str, options: dict[str, str]) -> str:
    return f"{base_url}/embed/{code}" + (f"?{urlencode(options)}" if options else "")


def embed_page(req: HttpRequest, code: str) -> HttpResponse:
    """`/embed/{kommunekode}`: the widget alone, for an iframe."""
    covered = tuple(req.settings.municipalities)
    try:
        municipality = _code(code, covered)
        options = _options(req)
    except EmbedOptionError as exc:
        return _error_page(req, 400, exc.description)
    except NotFound as exc:
        return _error_page(req, 404, exc.description)
    lang = options.get("lang", "da")
    attributes = {"data-municipality": municipality, "data-lang": lang, "data-height": "100vh"}
    attributes.update((f"data-{k}", v) for k, v in options.items() if k != "lang")
    title = _title(municipality, lang)
    url = embed_url(req.base_url, municipality, options)
    oembed = f"{req.base_url}/oembed?url={quote(url, safe='')}&format=json"
    page = _PAGE.format(
        lang=lang,
        title=html.escape(title),
        oembed=html.escape(oembed),
        base=html.escape(req.base_url),
        attributes=" ".join(f'{k}="{html.escape(v)}"' for k, v in attributes.items()),
    ).encode()
    # any site may frame it: it shows the open map
    policy = page_policy(tile_settings(req.settings, req.base_url)["url"], frame_ancestors="*")
    return ok(
        req,
        page,
        HTML,
        etag=etag_of(page, policy.encode()),
        max_age=EMBED_MAX_AGE,
        extra={"Content-Security-Policy": policy},
    )


def _size(req: HttpRequest, name: str) -> int | None:
    values = req.params.get(name)
    if not values:
        return None
    text = values[0]
    if not (text.isascii() and text.isdigit()) or not _MIN_SIZE <= int(text) <= _MAX_SIZE:
        raise InvalidParameter(
            f"{name} is a whole number of pixels, {_MIN_SIZE} to {_MAX_SIZE}", parameter=name
        )
    return int(text)


def oembed(req: HttpRequest) -> HttpResponse:
    """`/oembed?url=…&format=json[&maxwidth=…&maxheight=…]` (oEmbed 1.0, section 2.2): a
    `rich` embed of an embed page of this service; 404 for any other URL, as the specification
    asks. A format other than JSON is a 400 naming `format` (the specification suggests a 501;
    here no input is ever answered with a server error)."""
    for name in req.params:
        if name not in ("url", "format", "maxwidth", "maxheight"):
            raise InvalidParameter(
                f"unknown parameter '{name}'; oEmbed takes url, format, maxwidth, maxheight",
                parameter=name,
            )
    fmt = (req.params.get("format") or ["json"])[0]
    if fmt != "json":
        raise InvalidParameter(f"format '{fmt}': only json is served", parameter="format")
    url = (req.params.get("url") or [""])[0]
    if not url:
        raise InvalidParameter(
            "url is required: the address of a map's embed page", parameter="url"
        )
    max_width, max_height = _size(req, "maxwidth"), _size(req, "maxheight")
    parts = urlsplit(url)
    base = urlsplit(req.base_url)
    path = parts.path.rstrip("/")
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not path.startswith(
        f"{base.path.rstrip('/')}/embed/"
    ):
        raise NotFound(f"no embed for {url!r}: give the address of a page {req.base_url}/embed/…")
    code = path.rsplit("/", 1)[1]
    covered = tuple(req.settings.municipalities)
    page_req = replace(req, params=parse_qs(parts.query, keep_blank_values=True))
    try:
        municipality = _code(code, covered)
        options = _options(page_req)
    except (EmbedOptionError, NotFound) as exc:
        raise NotFound(f"no embed for {url!r}: {exc.description}") from None
    width = min(DEFAULT_WIDTH, max_width) if max_width else DEFAULT_WIDTH
    height = min(DEFAULT_HEIGHT, max_height) if max_height else DEFAULT_HEIGHT
    lang = options.get("lang", "da")
    title = _title(municipality, lang)
    src = embed_url(req.base_url, municipality, options)
    frame = (
        f'<iframe src="{html.escape(src)}" allow="geolocation" '
        f'width="{width}" height="{height}" '
        f'title="{html.escape(title)}" loading="lazy" style="border:0;max-width:100%"></iframe>'
    )
    doc = {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "provider_name": "Mikrokort",
        "provider_url": req.base_url,
        "html": frame,
        "width": width,
        "height": height,
        "cache_age": EMBED_MAX_AGE,
    }
    body = orjson.dumps(doc)
    return ok(req, body, JSON, etag=etag_of(body), max_age=EMBED_MAX_AGE)
