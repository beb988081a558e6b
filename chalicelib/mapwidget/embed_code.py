"""`/embed`: the page where a web editor chooses a municipality, a language and a start filter,
and gets both ways to put the map on a page: the script snippet (for a CMS that keeps scripts)
and the iframe (for one that strips them), a preview, and a paragraph for the municipality's
accessibility statement (the Danish web accessibility law asks each site for one).

In Danish by default, in English with `ui=en`. A wrong choice is shown beside its field with the
form as it was filled in (400), never as a JSON error.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.reference import official_name
from chalicelib.mapwidget.embed import HTML, SIZES, embed_url
from chalicelib.mapwidget.widget import NATIONAL
from chalicelib.web.http import HttpResponse, etag_of, ok

if TYPE_CHECKING:
    from chalicelib.web.http import HttpRequest

_MIN_HEIGHT, _MAX_HEIGHT, _DEFAULT_HEIGHT = 300, 1200, 600
_FIELDS = ("ui", "municipality", "lang", "industry", "size", "height")

_TEXT: dict[str, dict[str, Any]] = {
    "da": {
        "title": "Sæt kortet på jeres hjemmeside",
        "intro": "Vælg kommune, sprog og eventuelt en branche. Siden skriver koden, som I "
        "indsætter i en HTML-blok i jeres CMS.",
        "other": ("English", "en"),
        "municipality": "Kommune",
        "country": "Hele landet",
        "lang": "Kortets sprog",
        "industry": "Vis først branchen",
        "all": "Alle brancher",
        "size": "Størrelse",
        "sizes": {
            "micro": "Mikrovirksomheder: 0–9 ansatte (anbefalet)",
            "larger": "10 ansatte eller flere",
            "all": "Alle størrelser",
        },
        "height": "Højde i pixels",
        "submit": "Lav koden",
        "script": "Med script (anbefalet, når jeres CMS tillader scripts)",
        "script_note": "Kortet tilpasser sig siden og kan skifte sprog og vise en liste.",
        "iframe": "Som iframe (når jeres CMS fjerner scripts)",
        "iframe_note": "Eller indsæt bare adressen, hvis jeres CMS forstår oEmbed:",
        "preview": "Sådan ser kortet ud",
        "statement": "Tekst til jeres tilgængelighedserklæring",
        "statement_text": "Kortet over virksomheder og erhvervsnetværk på denne side leveres af "
        "Mikrokort. Kortet kan betjenes med tastaturet, og alle virksomheder og netværk på "
        "kortet står også i kortets listevisning (knappen »Liste«), som kan læses med en "
        "skærmlæser. Selve baggrundskortet er et billede uden tekstalternativ; stednavne og "
        "adresser findes i listevisningen. Oplever du problemer med kortet, så kontakt os.",
        "bad_municipality": "Vælg en af kommunerne på listen.",
        "bad_lang": "Vælg dansk eller engelsk.",
        "bad_industry": "Vælg en branche fra listen, eller alle brancher.",
        "bad_size": "Vælg en størrelse fra listen.",
        "bad_height": f"Skriv et helt tal fra {_MIN_HEIGHT} til {_MAX_HEIGHT}.",
        "errors": "Koden kunne ikke laves. Ret det markerede nedenfor.",
        "frame_title": "Kort over virksomheder og erhvervsnetværk",
    },
    "en": {
        "title": "Put the map on your website",
        "intro": "Choose a municipality, a language and, if you like, an industry. The page "
        "writes the code you paste into an HTML block of your CMS.",
        "other": ("Dansk", "da"),
        "municipality": "Municipality",
        "country": "The whole country",
        "lang": "Language of the map",
        "industry": "Show this industry first",
        "all": "All industries",
        "size": "Size",
        "sizes": {
            "micro": "Micro-businesses: 0–9 employees (recommended)",
            "larger": "10 employees or more",
            "all": "All sizes",
        },
        "height": "Height in pixels",
        "submit": "Make the code",
        "script": "With a script (best, where your CMS allows scripts)",
        "script_note": "The map fits the page, can switch language and show a list.",
        "iframe": "As an iframe (where your CMS removes scripts)",
        "iframe_note": "Or paste just the address, if your CMS speaks oEmbed:",
        "preview": "What the map looks like",
        "statement": "Text for your accessibility statement",
        "statement_text": "The map of businesses and business networks on this page is provided "
        "by Mikrokort. It can be used with the keyboard, and every business and network on the "
        "map is also in its list view (the “List” button), which screen readers can read. The "
        "background map itself is an image without a text alternative; place names and "
        "addresses are in the list view. If you have trouble with the map, please contact us.",
        "bad_municipality": "Choose one of the municipalities in the list.",
        "bad_lang": "Choose Danish or English.",
        "bad_industry": "Choose an industry from the list, or all industries.",
        "bad_size": "Choose a size from the list.",
        "bad_height": f"Write a whole number from {_MIN_HEIGHT} to {_MAX_HEIGHT}.",
        "errors": "The code could not be made. Correct what is marked below.",
        "frame_title": "Map of businesses and business networks",
    },
}

_PAGE = """<!doctype html>
<html lang="{ui}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Mikrokort</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; margin: 0 auto;
         max-width: 52rem; padding: 1rem; }}
  h1 {{ font-size: 1.6rem; margin: 0 0 .5rem; }}
  h2 {{ font-size: 1.2rem; margin: 2rem 0 .5rem; }}
  label {{ display: block; font-weight: 600; margin-top: 1rem; }}
  select, input {{ font: inherit; padding: .3rem; min-width: 16rem; max-width: 100%; }}
  button {{ font: inherit; margin-top: 1.25rem; padding: .45rem 1.2rem; background: #0b4f8a;
            color: #fff; border: 0; border-radius: 4px; cursor: pointer; }}
  button:focus-visible, select:focus-visible, input:focus-visible, a:focus-visible
    {{ outline: 3px solid #b35900; outline-offset: 2px; }}
  pre {{ background: #f3f3f3; padding: .75rem; overflow-x: auto; font-size: .85rem;
         white-space: pre-wrap; word-break: break-all; }}
  .error {{ color: #a4001d; font-weight: 600; margin: .25rem 0 0; }}
  .summary {{ border: 2px solid #a4001d; padding: .5rem .75rem; }}
  .lang-switch {{ float: right; }}
  iframe {{ border: 1px solid #767676; width: 100%; }}
</style>
</head>
<body>
<header>
<p class="lang-switch">
<a href="{other_href}" lang="{other_lang}" hreflang="{other_lang}">{other}</a></p>
<h1>{title}</h1>
<p>{intro}</p>
</header>
<main>
{summary}
<form method="get" action="{base}/embed" novalidate>
<input type="hidden" name="ui" value="{ui}">
{fields}
<button type="submit">{submit}</button>
</form>
{result}
</main>
</body>
</html>
"""


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str, error: str) -> str:
    items = "".join(
        f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>'
        f"{html.escape(text)}</option>"
        for v, text in options
    )
    return _field(name, label, f'<select id="{name}" name="{name}"{{aria}}>{items}</select>', error)


def _field(name: str, label: str, control: str, error: str) -> str:
    aria = ""
    message = ""
    if error:
        aria = f' aria-invalid="true" aria-describedby="{name}-error"'
        message = f'<p class="error" id="{name}-error">{html.escape(error)}</p>'
    control = control.replace("{aria}", aria)
    return f'<label for="{name}">{html.escape(label)}</label>{control}{message}'


def embed_code_page(req: HttpRequest) -> HttpResponse:
    """`/embed[?municipality=…&lang=…&industry=…&height=…][&ui=en]`."""
    values = {k: v[0] for k, v in req.params.items() if k in _FIELDS and v}
    ui = "en" if values.get("ui") == "en" else "da"
    t = _TEXT[ui]
    covered = list(req.settings.municipalities)
    municipalities = [(c, official_name(c, ui)) for c in covered] + [(NATIONAL, t["country"])]
    sections = [("", t["all"])] + [
        (letter, f"{letter}: {names[0 if ui == 'da' else 1]}")
        for letter, names in SECTION_NAMES.items()
    ]
    asked = "municipality" in values
    chosen = {
        "municipality": values.get("municipality", covered[0] if covered else NATIONAL),
        "lang": values.get("lang", ui),
        "industry": values.get("industry", "").upper(),
        "size": values.get("size", "micro"),
        "height": values.get("height", str(_DEFAULT_HEIGHT)),
    }
    errors: dict[str, str] = {}
    if asked:
        if chosen["municipality"] not in {c for c, _ in municipalities}:
            errors["municipality"] = t["bad_municipality"]
        if chosen["lang"] not in ("da", "en"):
            errors["lang"] = t["bad_lang"]
        if chosen["industry"] and chosen["industry"] not in SECTION_NAMES:
            errors["industry"] = t["bad_industry"]
        if chosen["size"] not in SIZES:
            errors["size"] = t["bad_size"]
        height = chosen["height"]
        if not (height.isascii() and height.isdigit()) or not (
            _MIN_HEIGHT <= int(height) <= _MAX_HEIGHT
        ):
            errors["height"] = t["bad_height"]
    fields = "\n".join(
        [
            _select(
                "municipality",
                t["municipality"],
                municipalities,
                chosen["municipality"],
                errors.get("municipality", ""),
            ),
            _select(
                "lang",
                t["lang"],
                [("da", "Dansk"), ("en", "English")],
                chosen["lang"],
                errors.get("lang", ""),
            ),
            _select(
                "industry",
                t["industry"],
                sections,
                chosen["industry"],
                errors.get("industry", ""),
            ),
            _select(
                "size",
                t["size"],
                [(size, t["sizes"][size]) for size in SIZES],
                chosen["size"],
                errors.get("size", ""),
            ),
            _field(
                "height",
                t["height"],
                f'<input id="height" name="height" type="text" inputmode="numeric" '
                f'value="{html.escape(chosen["height"])}"{{aria}}>',
                errors.get("height", ""),
            ),
        ]
    )
    summary = f'<p class="summary" role="alert">{t["errors"]}</p>' if errors else ""
    result = _result(req.base_url, t, chosen) if asked and not errors else ""
    other_text, other_lang = t["other"]
    other_query = urlencode({**values, "ui": other_lang})
    page = _PAGE.format(
        ui=ui,
        title=html.escape(t["title"]),
        intro=html.escape(t["intro"]),
        other=other_text,
        other_lang=other_lang,
        other_href=html.escape(f"{req.base_url}/embed?{other_query}"),
        base=html.escape(req.base_url),
        summary=summary,
        fields=fields,
        submit=html.escape(t["submit"]),
        result=result,
    ).encode()
    if errors:
        return HttpResponse(400, page, HTML, {"Cache-Control": "no-store"})
    return ok(req, page, HTML, etag=etag_of(page), max_age=300)


def _result(base: str, t: dict[str, Any], chosen: dict[str, str]) -> str:
    """The two snippets, the oEmbed address, a preview, the accessibility statement."""
    code, lang, industry, height = (
        chosen["municipality"],
        chosen["lang"],
        chosen["industry"],
        chosen["height"],
    )
    attributes = f'data-municipality="{code}" data-lang="{lang}"'
    if industry:
        attributes += f' data-industry="{industry}"'
    size = chosen["size"]
    if size != "micro":  # the widget's default
        attributes += f' data-size="{size}"'
    attributes += f' data-height="{height}"'
    script = (
        f"<div data-mikrokort {attributes}></div>\n"
        f'<script src="{base}/widget/mikrokort.js" defer></script>'
    )
    options = {
        "lang": lang,
        **({"industry": industry} if industry else {}),
        **({"size": size} if size != "micro" else {}),
    }
    src = embed_url(base, code, options)
    frame_title = t["frame_title"]
    frame = (
        f'<iframe src="{html.escape(src)}" allow="geolocation" '
        f'title="{html.escape(frame_title)}" width="100%" '
        f'height="{height}" loading="lazy" style="border:0"></iframe>'
    )
    return f"""<section aria-labelledby="script-code">
<h2 id="script-code">{html.escape(t["script"])}</h2>
<p>{html.escape(t["script_note"])}</p>
<pre><code>{html.escape(script)}</code></pre>
</section>
<section aria-labelledby="iframe-code">
<h2 id="iframe-code">{html.escape(t["iframe"])}</h2>
<pre><code>{html.escape(frame)}</code></pre>
<p>{html.escape(t["iframe_note"])}</p>
<pre><code>{html.escape(src)}</code></pre>
</section>
<section aria-labelledby="preview">
<h2 id="preview">{html.escape(t["preview"])}</h2>
{frame}
</section>
<section aria-labelledby="statement">
<h2 id="statement">{html.escape(t["statement"])}</h2>
<p>{html.escape(t["statement_text"])}</p>
</section>"""
