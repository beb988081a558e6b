"""The OGC API - Features resources as HTML pages (Part 1, the `html` conformance class): the
landing page, conformance, the collections, one collection, a page of items with a map and a
table, and one item.

Each page is built from the JSON document (or the features) the same request would get, so it
shows what the JSON shows and nothing more: the privacy rules were applied by the store. The
item pages of a business and a network are the pages people link to and search engines list;
they carry schema.org markup (chalicelib.pages.schema_org).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.industry import SECTION_NAMES, industry_text
from chalicelib.domain.models import PERSONALLY_OWNED_FORMS, SIZE_CHOICES
from chalicelib.domain.public import internal_code, split
from chalicelib.domain.reference import official_name
from chalicelib.domain.text import date_text, number, size_group
from chalicelib.pages import schema_org
from chalicelib.pages.schema_org import network_path
from chalicelib.pages.svgmap import outline, svg_map
from chalicelib.web.pages import TEXT, Page, e, href, overview_map, render, web_address

if TYPE_CHECKING:
    from chalicelib.web.http import HttpRequest

# Titles and descriptions for people, per language (the JSON documents keep their English).
COLLECTION_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "businesses": {
        "da": (
            "Virksomheder",
            "Virksomheder fra CVR i kommunerne: branche, virksomhedsform, antal ansatte, "
            "status og placering. Personligt ejede virksomheder vises på et net af ca. 250 m "
            "og uden gadeadresse, medmindre de selv har valgt at vise den.",
        ),
        "en": (
            "Businesses",
            "Businesses from CVR in the municipalities: industry, company form, number of "
            "employees, status and location. Personally owned firms are shown on a grid of "
            "about 250 m and without street address unless they chose to show it.",
        ),
    },
    "networks": {
        "da": (
            "Erhvervsnetværk",
            "Lokale netværk af selvstændige og små virksomheder: hvor de arbejder, hvordan man "
            "kommer i kontakt med dem, og hvor mange medlemmer de har.",
        ),
        "en": (
            "Business networks",
            "Local networks of self-employed people and small firms: where they work, how to "
            "reach them and how many members they have.",
        ),
    },
    "network-meeting-places": {
        "da": ("Netværkenes mødesteder", "Hvor hvert erhvervsnetværk mødes."),
        "en": ("Network meeting places", "Where each business network meets."),
    },
    "municipalities": {
        "da": (
            "Kommuner",
            "De kommuner, tjenesten dækker, med deres grænser og erhvervskontakt.",
        ),
        "en": (
            "Municipalities",
            "The municipalities the service covers, with their boundaries and business contact.",
        ),
    },
}

WORDS: dict[str, dict[str, str]] = {
    "da": {
        "landing_lead": "Et åbent kort og åbne data om mikrovirksomheder (under 10 ansatte) og "
        "de erhvervsnetværk, de danner, til danske kommuner.",
        "maps": "Kortet over virksomheder og netværk",
        "map_of": "Kort over {name}",
        "data": "Data",
        "feeds": "Nye virksomheder",
        "feed_of": "Nye virksomheder i {name}",
        "snapshots": "Årlige åbne data og virksomhedsbarometeret",
        "register": "Tilmeld et erhvervsnetværk",
        "embed": "Sæt kortet på jeres hjemmeside",
        "developers": "For udviklere",
        "tms": "Kortfliser: tile matrix sets",
        "conformance_lead": "Tjenesten følger disse standarder (OGC-overensstemmelsesklasser).",
        "items": "Se data",
        "extent": "Område",
        "period": "Stiftet fra",
        "downloads": "Hent data",
        "geojson": "GeoJSON",
        "jsonfg": "JSON-FG",
        "csv": "CSV (regneark og GIS)",
        "queryables": "Egenskaber, der kan filtreres på",
        "filter": "Afgræns",
        "search": "Søg",
        "municipality": "Kommune",
        "industry": "Branche",
        "status": "Status",
        "size": "Størrelse",
        "size_micro": "0–9 ansatte (mikrovirksomheder)",
        "size_larger": "10 ansatte eller flere",
        "any": "Alle",
        "show": "Vis",
        "active": "Aktiv",
        "ceased": "Ophørt",
        "shown": "Viser nr. {first}–{last}.",
        "shown_more": "Viser {count} mere.",
        "in_all": "I alt {total}.",
        "none": "Ingen fundet.",
        "next": "Næste side",
        "first": "Første side",
        "table": "{title}: denne side",
        "name": "Navn",
        "employees": "Ansatte",
        "city": "By",
        "municipalities": "Kommuner",
        "members": "Medlemmer",
        "meeting_place": "Mødested",
        "network": "Netværk",
        "code": "Kommunekode",
        "region": "Region",
        "map_label": "Kort: {what}",
        "map_note": "Kortet viser prikkerne på denne side over kommunegrænsen.",
        "open_map": "Se det på det interaktive kort",
        "cvr": "CVR-nummer",
        "company_form": "Virksomhedsform",
        "founded": "Stiftet",
        "ceased_on": "Ophørt",
        "address": "Adresse",
        "address_hidden": "Vises ikke: en personligt ejet virksomhed vises kun med postnummer "
        "og på et net af ca. 250 m.",
        "precision_grid": "Placeringen er afrundet til et net af ca. 250 m.",
        "precision_postcode": "Placeringen er postnummerets midte.",
        "phone": "Telefon",
        "email": "E-mail",
        "website": "Hjemmeside",
        "protected": "Reklamebeskyttet: kontaktoplysninger vises ikke.",
        "networks_of": "Netværk",
        "no_networks": "Er ikke medlem af et netværk, tjenesten kender.",
        "workplace": "Lokal arbejdsplads for en virksomhed med hjemsted uden for kommunerne.",
        "no_employees": "Ingen ansatte",
        "description": "Beskrivelse",
        "contact": "Kontakt",
        "tags": "Emner",
        "member_list": "Medlemmer",
        "member_more": "Og {more} flere: se dem alle i tabellen over virksomheder.",
        "no_members": "Ingen medlemmer vises offentligt.",
        "business_contact": "Erhvervskontakt",
        "businesses_in": "Virksomheder i {name}",
        "network_page": "Netværkets side",
        "updated": "Opdateret",
        "area": "Område",
    },
    "en": {
        "landing_lead": "An open map and open data of micro-businesses (under 10 employees) and "
        "the business networks they form, for Danish municipalities.",
        "maps": "The map of businesses and networks",
        "map_of": "Map of {name}",
        "data": "Data",
        "feeds": "New businesses",
        "feed_of": "New businesses in {name}",
        "snapshots": "Yearly open data and the business barometer",
        "register": "Register a business network",
        "embed": "Put the map on your web site",
        "developers": "For developers",
        "tms": "Map tiles: tile matrix sets",
        "conformance_lead": "The service follows these standards (OGC conformance classes).",
        "items": "See the data",
        "extent": "Extent",
        "period": "Founded from",
        "downloads": "Download",
        "geojson": "GeoJSON",
        "jsonfg": "JSON-FG",
        "csv": "CSV (spreadsheets and GIS)",
        "queryables": "Properties a filter may name",
        "filter": "Narrow down",
        "search": "Search",
        "municipality": "Municipality",
        "industry": "Industry",
        "status": "Status",
        "size": "Size",
        "size_micro": "0–9 employees (micro-businesses)",
        "size_larger": "10 employees or more",
        "any": "All",
        "show": "Show",
        "active": "Active",
        "ceased": "Ceased",
        "shown": "Showing numbers {first}–{last}.",
        "shown_more": "Showing {count} more.",
        "in_all": "{total} in all.",
        "none": "None found.",
        "next": "Next page",
        "first": "First page",
        "table": "{title}: this page",
        "name": "Name",
        "employees": "Employees",
        "city": "Town",
        "municipalities": "Municipalities",
        "members": "Members",
        "meeting_place": "Meeting place",
        "network": "Network",
        "code": "Municipality code",
        "region": "Region",
        "map_label": "Map: {what}",
        "map_note": "The map shows the dots of this page over the municipal boundary.",
        "open_map": "See it on the interactive map",
        "cvr": "CVR number",
        "company_form": "Company form",
        "founded": "Founded",
        "ceased_on": "Ceased",
        "address": "Address",
        "address_hidden": "Not shown: a personally owned firm is shown with its postcode only, "
        "on a grid of about 250 m.",
        "precision_grid": "The location is rounded to a grid of about 250 m.",
        "precision_postcode": "The location is the centre of the postcode.",
        "phone": "Phone",
        "email": "E-mail",
        "website": "Website",
        "protected": "Protected against marketing: contact details are not shown.",
        "networks_of": "Networks",
        "no_networks": "Not a member of a network the service knows.",
        "workplace": "A local workplace of a company seated outside the municipalities.",
        "no_employees": "No employees",
        "description": "Description",
        "contact": "Contact",
        "tags": "Topics",
        "member_list": "Members",
        "member_more": "And {more} more: see them all in the table of businesses.",
        "no_members": "No members are shown publicly.",
        "business_contact": "Business contact",
        "businesses_in": "Businesses in {name}",
        "network_page": "The network's page",
        "updated": "Updated",
        "area": "Area",
    },
}

MEMBERS_SHOWN = 200


def collection_title(cid: str, lang: str) -> str:
    return COLLECTION_TEXT[cid][lang][0]


def _covered(req: HttpRequest) -> list[str]:
    return list(req.settings.municipalities)


def _html_link(req: HttpRequest, path: str, lang: str, **params: str) -> str:
    """A link to another page of the API, as a page in this language."""
    query = {**params, "f": "html"}
    if lang != "da":
        query["lang"] = lang
    return href(f"{req.base_url}{path}", query)


def _alternates(links: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """The JSON document's own links to itself and its other formats, for the page's footer."""
    out = []
    for link in links:
        if link.get("rel") in ("self", "alternate", "items") and "html" not in link["type"]:
            out.append((link["href"], link["type"], link.get("title") or link["type"]))
    return out


def _crumbs(req: HttpRequest, lang: str, *path: tuple[str, str]) -> list[tuple[str, str]]:
    home = (TEXT[lang]["home"], _html_link(req, "/", lang))
    return [home, *path]


def _collections_crumb(req: HttpRequest, lang: str) -> tuple[str, str]:
    return TEXT[lang]["collections"], _html_link(req, "/collections", lang)


def _collection_crumb(req: HttpRequest, lang: str, cid: str) -> tuple[str, str]:
    return collection_title(cid, lang), _html_link(req, f"/collections/{cid}", lang)


def _name(code: str, lang: str) -> str:
    return official_name(internal_code(code), lang)


def _map_link(req: HttpRequest, code: str, lang: str) -> str:
    return f"{req.base_url}/embed/{code}" + ("?lang=en" if lang == "en" else "")


# -- landing, conformance, collections ---------------------------------------------------------


def landing(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    w, t = WORDS[lang], TEXT[lang]
    covered = _covered(req)
    maps = "".join(
        f'<li><a href="{e(_map_link(req, c, lang))}">'
        f"{e(w['map_of'].format(name=official_name(c, lang)))}</a></li>"
        for c in covered
    )
    data = "".join(
        f'<li><a href="{e(_html_link(req, f"/collections/{cid}/items", lang))}">'
        f"{e(collection_title(cid, lang))}</a>: {e(COLLECTION_TEXT[cid][lang][1])}</li>"
        for cid in COLLECTION_TEXT
    )
    feeds = "".join(
        f'<li><a href="{e(_html_link(req, f"/municipalities/{c}/new-businesses", lang))}">'
        f"{e(w['feed_of'].format(name=official_name(c, lang)))}</a></li>"
        for c in covered
    )
    ui = "?ui=en" if lang == "en" else ""
    body = f"""<p class="lead">{e(w["landing_lead"])}</p>
<p class="note" lang="en">{e(doc.get("description", ""))}</p>
<h2>{e(w["maps"])}</h2>
<ul class="plain">{maps}</ul>
<p><a href="{e(req.base_url)}/embed{ui}">{e(w["embed"])}</a></p>
<h2>{e(w["data"])}</h2>
<ul class="plain">{data}</ul>
<h2>{e(w["feeds"])}</h2>
<ul class="plain">{feeds}</ul>
<h2>{e(w["snapshots"])}</h2>
<p><a href="{e(req.base_url)}/snapshots">{e(w["snapshots"])}</a></p>
<h2>{e(w["register"])}</h2>
<p><a href="{e(req.base_url)}/networks/register">{e(w["register"])}</a></p>
<h2>{e(w["developers"])}</h2>
<ul class="plain">
<li><a href="{e(req.base_url)}/api">{e(t["api"])}</a></li>
<li><a href="{e(_html_link(req, "/conformance", lang))}">{e(t["conformance"])}</a></li>
<li><a href="{e(_html_link(req, "/collections", lang))}">{e(t["collections"])}</a></li>
<li><a href="{e(req.base_url)}/tileMatrixSets">{e(w["tms"])}</a></li>
</ul>"""
    title = f"{t['site']}: {t['tagline']}"
    page = Page(
        lang, title, body, alternates=_alternates(doc["links"]), description=w["landing_lead"]
    )
    page.crumbs = []
    return render(req, page)


def conformance(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    w, t = WORDS[lang], TEXT[lang]
    items = "".join(f"<li><code>{e(uri)}</code></li>" for uri in doc["conformsTo"])
    body = f'<p class="lead">{e(w["conformance_lead"])}</p><ul class="plain">{items}</ul>'
    self_json = f"{req.base_url}/conformance?f=json"
    page = Page(
        lang,
        t["conformance"],
        body,
        crumbs=_crumbs(req, lang),
        alternates=[(self_json, "application/json", "JSON")],
    )
    return render(req, page)


def _collection_section(req: HttpRequest, lang: str, doc: dict[str, Any], level: int) -> str:
    w = WORDS[lang]
    cid = doc["id"]
    bbox = doc["extent"]["spatial"]["bbox"][0]
    extent = ", ".join(f"{v:.4f}" for v in bbox)
    temporal = doc["extent"].get("temporal")
    period = ""
    if temporal and temporal["interval"][0][0]:
        period = f"<dt>{e(w['period'])}</dt><dd>{e(temporal['interval'][0][0][:10])}</dd>"
    downloads = [
        (f"{req.base_url}/collections/{cid}/items", w["geojson"]),
        (f"{req.base_url}/collections/{cid}/items?f=jsonfg", w["jsonfg"]),
        (f"{req.base_url}/collections/{cid}/items?f=csv", w["csv"]),
        (f"{req.base_url}/collections/{cid}/queryables", w["queryables"]),
    ]
    links = "".join(f'<li><a href="{e(h)}">{e(label)}</a></li>' for h, label in downloads)
    title = collection_title(cid, lang)
    heading = (
        f'<h{level}><a href="{e(_html_link(req, f"/collections/{cid}", lang))}">'
        f"{e(title)}</a></h{level}>"
        if level > 1
        else ""
    )
    return f"""{heading}
<p>{e(COLLECTION_TEXT[cid][lang][1])}</p>
<p><a href="{e(_html_link(req, f"/collections/{cid}/items", lang))}">{e(w["items"])}:
{e(title)}</a></p>
<dl class="facts"><dt>{e(w["extent"])}</dt><dd>{e(extent)} (CRS84)</dd>{period}</dl>
<p><strong>{e(w["downloads"])}:</strong></p><ul class="plain">{links}</ul>"""


def collections(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    t = TEXT[lang]
    body = "".join(_collection_section(req, lang, c, 2) for c in doc["collections"])
    page = Page(
        lang,
        t["collections"],
        body,
        crumbs=_crumbs(req, lang),
        alternates=_alternates(doc["links"]),
    )
    return render(req, page)


def collection(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    cid = doc["id"]
    body = _collection_section(req, lang, doc, 1)
    page = Page(
        lang,
        collection_title(cid, lang),
        body,
        crumbs=_crumbs(req, lang, _collections_crumb(req, lang)),
        alternates=_alternates(doc["links"]),
        description=COLLECTION_TEXT[cid][lang][1],
    )
    return render(req, page)


# -- items -------------------------------------------------------------------------------------


def _options(choices: list[tuple[str, str]], chosen: str | None, any_label: str) -> str:
    out = [f'<option value=""{"" if chosen else " selected"}>{e(any_label)}</option>']
    for value, label in choices:
        selected = " selected" if value == chosen else ""
        out.append(f'<option value="{e(value)}"{selected}>{e(label)}</option>')
    return "".join(out)


def _size_choices(w: dict[str, str]) -> list[tuple[str, str]]:
    """The map's size choices (models.SIZE_CHOICES) as values of the `size` parameter."""
    return [
        ("micro,unknown", w["size_micro"]),
        (",".join(SIZE_CHOICES["larger"]), w["size_larger"]),
    ]


def _filter_form(req: HttpRequest, lang: str, cid: str, values: dict[str, str]) -> str:
    """A form of the collection's simple filters; it sends the same parameters a client would."""
    w = WORDS[lang]
    fields = [
        f'<div><label for="q">{e(w["search"])}</label>'
        f'<input id="q" name="q" type="search" value="{e(values.get("q", ""))}" '
        'maxlength="100"></div>'
    ]
    if cid != "municipalities":
        towns = [(f"0{c}" if len(c) == 3 else c, official_name(c, lang)) for c in _covered(req)]
        chosen = values.get("municipality")
        chosen = chosen.zfill(4) if chosen else None
        fields.append(
            f'<div><label for="municipality">{e(w["municipality"])}</label>'
            f'<select id="municipality" name="municipality">'
            f"{_options(towns, chosen, w['any'])}</select></div>"
        )
    if cid == "businesses":
        sections = [(k, f"{k}: {v[0 if lang == 'da' else 1]}") for k, v in SECTION_NAMES.items()]
        fields.append(
            f'<div><label for="industry">{e(w["industry"])}</label>'
            f'<select id="industry" name="industry">'
            f"{_options(sections, values.get('industry'), w['any'])}</select></div>"
        )
        statuses = [("active", w["active"]), ("ceased", w["ceased"])]
        fields.append(
            f'<div><label for="status">{e(w["status"])}</label>'
            f'<select id="status" name="status">'
            f"{_options(statuses, values.get('status'), w['any'])}</select></div>"
        )
        fields.append(
            f'<div><label for="size">{e(w["size"])}</label>'
            f'<select id="size" name="size">'
            f"{_options(_size_choices(w), values.get('size'), w['any'])}</select></div>"
        )
    hidden = '<input type="hidden" name="f" value="html">'
    if lang != "da":
        hidden += f'<input type="hidden" name="lang" value="{e(lang)}">'
    action = f"{req.base_url}/collections/{cid}/items"
    return (
        f'<form class="filters" method="get" action="{e(action)}" role="search" '
        f'aria-label="{e(w["filter"])}">{hidden}{"".join(fields)}'
        f'<div><button type="submit">{e(w["show"])}</button></div></form>'
    )


def _data_params(values: dict[str, str], fmt: str) -> dict[str, str]:
    """The page's selection for its data in another format (the form's empty fields gone)."""
    return {**{k: v for k, v in values.items() if k not in ("f", "lang")}, "f": fmt}


def _employees(value: str | None, lang: str) -> str:
    if value is None:
        return ""
    return WORDS[lang]["no_employees"] if value == "0" else size_group(value, lang)


def _date(value: str | None, lang: str) -> str:
    return date_text(date.fromisoformat(value), lang) if value else ""


def _row(req: HttpRequest, lang: str, cid: str, f: dict[str, Any]) -> str:
    w = WORDS[lang]
    p = f["properties"]
    fid = str(f["id"])
    link = _html_link(req, f"/collections/{cid}/items/{fid}", lang)
    name = f'<th scope="row"><a href="{e(link)}">{e(p.get("name") or fid)}</a></th>'
    if cid == "businesses":
        cells = [
            industry_text(p.get("industry_code"), p.get("industry_text"), lang) or "",
            _employees(p.get("employees"), lang),
            " ".join(x for x in (p.get("postcode"), p.get("city")) if x),
            w.get(p.get("status") or "", ""),
        ]
    elif cid == "networks":
        cells = [
            ", ".join(_name(c, lang) for c in split(p.get("municipalities"))),
            str(p.get("member_count", "")),
            p.get("meeting_place_name") or "",
        ]
    elif cid == "network-meeting-places":
        cells = [p.get("meeting_place_name") or ""]
    else:
        cells = [p.get("kommunekode") or "", p.get("region") or ""]
    return f"<tr>{name}{''.join(f'<td>{e(c)}</td>' for c in cells)}</tr>"


_HEADERS = {
    "businesses": ("name", "industry", "employees", "city", "status"),
    "networks": ("name", "municipalities", "members", "meeting_place"),
    "network-meeting-places": ("network", "meeting_place"),
    "municipalities": ("name", "code", "region"),
}


def _page_outlines(req: HttpRequest, values: dict[str, str]) -> list[dict[str, Any]]:
    chosen = values.get("municipality")
    codes = [internal_code(chosen.zfill(4))] if chosen else _covered(req)
    return [g for g in (outline(c) for c in codes) if g is not None]


def items(
    req: HttpRequest,
    lang: str,
    cid: str,
    features: list[bytes],
    number_matched: int | None,
    links: list[dict[str, str]],
    values: dict[str, str],
) -> bytes:
    w = WORDS[lang]
    docs = [orjson.loads(f) for f in features]
    if cid == "municipalities":  # their exact boundaries are far too detailed for this map
        for d in docs:
            d["geometry"] = outline(internal_code(str(d["id"]).zfill(4)))
    title = collection_title(cid, lang)
    if not docs:
        summary = w["none"]
    else:
        shown = number(len(docs), lang)
        if "cursor" in values:  # where a later page starts is in its opaque cursor
            summary = w["shown_more"].format(count=shown)
        else:
            summary = w["shown"].format(first=1, last=shown)
        if number_matched is not None:
            summary += " " + w["in_all"].format(total=number(number_matched, lang))
    pager = []
    if "cursor" in values:
        first_params = {k: v for k, v in values.items() if k != "cursor"}
        first_params["f"] = "html"
        pager.append(
            f'<a href="{e(href(f"{req.base_url}/collections/{cid}/items", first_params))}">'
            f"{e(w['first'])}</a>"
        )
    for link in links:
        if link["rel"] == "next":
            pager.append(f'<a href="{e(link["href"])}" rel="next">{e(w["next"])}</a>')
    heads = "".join(f'<th scope="col">{e(w[h])}</th>' for h in _HEADERS[cid])
    rows = "".join(_row(req, lang, cid, d) for d in docs)
    table = (
        f'<div class="table-wrap" role="region" tabindex="0" '
        f'aria-label="{e(w["table"].format(title=title))}">'
        f"<table><caption>{e(w['table'].format(title=title))}</caption>"
        f"<thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></div>"
        if docs
        else ""
    )
    drawn = svg_map(docs, _page_outlines(req, values), w["map_label"].format(what=title))
    figure = (
        f'<figure class="map">{drawn}<figcaption>{e(w["map_note"])}</figcaption></figure>'
        if drawn
        else ""
    )
    chosen = values.get("municipality")
    map_code = internal_code(chosen.zfill(4)) if chosen else overview_map(req.settings)
    map_link = (
        f'<p><a href="{e(_map_link(req, map_code, lang))}">{e(w["open_map"])}</a></p>'
        if cid != "municipalities"
        else ""
    )
    body = (
        f"<p>{e(COLLECTION_TEXT[cid][lang][1])}</p>"
        f"{_filter_form(req, lang, cid, values)}"
        f'<p role="status">{e(summary)}</p>{figure}{map_link}{table}'
        f'<nav class="pager" aria-label="{e(w["next"])}">{"".join(pager)}</nav>'
    )
    page = Page(
        lang,
        title,
        body,
        crumbs=_crumbs(req, lang, _collections_crumb(req, lang), _collection_crumb(req, lang, cid)),
        alternates=[
            (href(f"{req.base_url}/collections/{cid}/items", _data_params(values, fmt)), kind, name)
            for fmt, kind, name in (
                ("json", "application/geo+json", "GeoJSON"),
                ("jsonfg", "application/vnd.ogc.fg+json", "JSON-FG"),
                ("csv", "text/csv", "CSV"),
            )
        ],
    )
    return render(req, page)


# -- one item ----------------------------------------------------------------------------------


def _facts(rows: list[tuple[str, str]]) -> str:
    """A definition list of (label, HTML value) pairs, the empty ones left out."""
    body = "".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows if value)
    return f'<dl class="facts">{body}</dl>'


def _contact_rows(lang: str, p: dict[str, Any]) -> list[tuple[str, str]]:
    w = WORDS[lang]
    rows = []
    if p.get("phone"):
        tel = "".join(ch for ch in p["phone"] if ch.isdigit() or ch == "+")
        rows.append((w["phone"], f'<a href="tel:{e(tel)}">{e(p["phone"])}</a>'))
    if p.get("email"):
        rows.append((w["email"], f'<a href="mailto:{e(p["email"])}">{e(p["email"])}</a>'))
    if target := web_address(p.get("website")):
        rows.append((w["website"], f'<a href="{e(target)}" rel="nofollow">{e(p["website"])}</a>'))
    return rows


def business(
    req: HttpRequest,
    lang: str,
    feature: dict[str, Any],
    networks: list[dict[str, Any]],
    links: list[dict[str, str]],
) -> bytes:
    w = WORDS[lang]
    p = feature["properties"]
    cvr = str(feature["id"])
    section = p.get("industry_section")
    named = industry_text(p.get("industry_code"), p.get("industry_text"), lang)
    industry = e(named or "")
    if p.get("industry_code"):
        industry += f" ({e(p['industry_code'])})"
    if named != p.get("industry_text") and p.get("industry_text"):  # the NACE class, in English
        industry += f'<br><span class="note" lang="da">{e(p["industry_text"])}</span>'
    if section in SECTION_NAMES:
        industry += (
            f'<br><span class="note">{e(SECTION_NAMES[section][0 if lang == "da" else 1])}</span>'
        )
    if p.get("address"):
        address = e(
            ", ".join(
                x
                for x in (p["address"], f"{p.get('postcode') or ''} {p.get('city') or ''}".strip())
                if x
            )
        )
    else:
        place = f"{p.get('postcode') or ''} {p.get('city') or ''}".strip()
        address = e(place)
        if p.get("company_form") in PERSONALLY_OWNED_FORMS:  # withheld, not missing
            address += f'<br><span class="note">{e(w["address_hidden"])}</span>'
    precision = {"grid": w["precision_grid"], "postcode": w["precision_postcode"]}.get(
        p.get("location_precision") or "", ""
    )
    code = p.get("municipality")
    municipality = ""
    if code:
        municipality = _a(_html_link(req, _municipality_path(code), lang), _name(code, lang))
    rows = [
        (w["cvr"], e(cvr)),
        (w["industry"], industry),
        (w["company_form"], e(p.get("company_form_text") or p.get("company_form") or "")),
        (w["employees"], e(_employees(p.get("employees"), lang))),
        (w["status"], e(w.get(p.get("status") or "", ""))),
        (w["founded"], e(_date(p.get("founded"), lang))),
        (w["ceased_on"], e(_date(p.get("ceased"), lang))),
        (w["address"], address),
        (w["municipality"], municipality),
        *_contact_rows(lang, p),
    ]
    notes = []
    if p.get("reklamebeskyttet"):
        notes.append(w["protected"])
    if p.get("seated_elsewhere"):
        notes.append(w["workplace"])
    if precision:
        notes.append(precision)
    member_of = "".join(
        f'<li><a href="{e(_html_link(req, network_path(n), lang))}">'
        f"{e(n['properties'].get('name') or n['id'])}</a></li>"
        for n in networks
    )
    outlines = [g for g in [outline(internal_code(code))] if g] if code else []
    # framed on the municipality: a dot alone says nothing about where it is
    drawn = svg_map(
        [feature],
        outlines,
        w["map_label"].format(what=p.get("name") or cvr),
        frame_on_outlines=True,
    )
    body = (
        _facts(rows)
        + "".join(f'<p class="note">{e(n)}</p>' for n in notes)
        + f"<h2>{e(w['networks_of'])}</h2>"
        + (f'<ul class="plain">{member_of}</ul>' if member_of else f"<p>{e(w['no_networks'])}</p>")
        + (f'<figure class="map">{drawn}</figure>' if drawn else "")
        + (f"<p>{_a(_map_link(req, internal_code(code), lang), w['open_map'])}</p>" if code else "")
    )
    page = Page(
        lang,
        p.get("name") or cvr,
        body,
        crumbs=_crumbs(
            req,
            lang,
            _collections_crumb(req, lang),
            _collection_crumb(req, lang, "businesses"),
        ),
        alternates=_alternates(links),
        head=_canonical(req, f"/collections/businesses/items/{cvr}", lang)
        + schema_org.script(schema_org.business(req.base_url, feature, networks)),
        description=f"{p.get('name')}: {named or ''}, {p.get('city') or ''}",
    )
    return render(req, page)


def _a(target: str, text: str) -> str:
    """A link, its address and text escaped."""
    return f'<a href="{e(target)}">{e(text)}</a>'


def _municipality_path(code: str) -> str:
    return f"/collections/municipalities/items/{internal_code(code.zfill(4))}"


def _industry_and_town(p: dict[str, Any], lang: str) -> str:
    named = industry_text(p.get("industry_code"), p.get("industry_text"), lang)
    return ", ".join(x for x in (named, p.get("city")) if x)


def _business_path(feature: dict[str, Any]) -> str:
    return f"/collections/businesses/items/{feature['id']}"


def _canonical(req: HttpRequest, path: str, lang: str) -> str:
    return f'<link rel="canonical" href="{e(_html_link(req, path, lang))}">'


def network(
    req: HttpRequest,
    lang: str,
    feature: dict[str, Any],
    members: list[dict[str, Any]],
    member_total: int,
    links: list[dict[str, str]],
    meeting_place: dict[str, Any] | None = None,
    collection: str = "networks",
) -> bytes:
    """A network's page: at its area's item, or at its meeting place's when it drew no area."""
    w = WORDS[lang]
    p = feature["properties"]
    nid = str(feature["id"])
    codes = split(p.get("municipalities"))
    municipalities = ", ".join(
        _a(_html_link(req, _municipality_path(c), lang), _name(c, lang)) for c in codes
    )
    rows = [
        (w["description"], e(p.get("description") or "")),
        (w["municipalities"], municipalities),
        (w["meeting_place"], e(p.get("meeting_place_name") or "")),
        *_contact_rows(lang, p),
        (w["tags"], e(", ".join(split(p.get("tags"))))),
        (w["members"], e(p.get("member_count", ""))),
        (w["founded"], e(_date(p.get("founded"), lang))),
    ]
    shown = members[:MEMBERS_SHOWN]
    member_items = "".join(
        f'<li><a href="{e(_html_link(req, _business_path(m), lang))}">'
        f"{e(m['properties'].get('name'))}</a> "
        f'<span class="note">{e(_industry_and_town(m["properties"], lang))}</span></li>'
        for m in shown
    )
    more = member_total - len(shown)
    all_members = _html_link(req, "/collections/businesses/items", lang, network=nid)
    members_html = (
        f'<ul class="plain">{member_items}</ul>'
        + (
            f'<p><a href="{e(all_members)}">{e(w["member_more"].format(more=more))}</a></p>'
            if more > 0
            else ""
        )
        if shown
        else f"<p>{e(w['no_members'])}</p>"
    )
    drawn_features = [feature] if feature.get("geometry") else []
    if meeting_place is not None and meeting_place is not feature:
        drawn_features.append(meeting_place)
    outlines = [g for g in (outline(internal_code(c)) for c in codes) if g]
    drawn = svg_map(drawn_features, outlines, w["map_label"].format(what=p.get("name") or nid))
    first_code = internal_code(codes[0]) if codes else None
    body = (
        _facts(rows)
        + (f'<figure class="map">{drawn}</figure>' if drawn else "")
        + (
            f'<p><a href="{e(_map_link(req, first_code, lang))}">{e(w["open_map"])}</a></p>'
            if first_code
            else ""
        )
        + f"<h2>{e(w['member_list'])}</h2>{members_html}"
    )
    page = Page(
        lang,
        p.get("name") or nid,
        body,
        crumbs=_crumbs(
            req, lang, _collections_crumb(req, lang), _collection_crumb(req, lang, collection)
        ),
        alternates=_alternates(links),
        head=_canonical(req, f"/collections/{collection}/items/{nid}", lang)
        + schema_org.script(schema_org.network(req.base_url, feature, members, collection)),
        description=p.get("description") or p.get("name"),
    )
    return render(req, page)


def municipality(
    req: HttpRequest, lang: str, feature: dict[str, Any], links: list[dict[str, str]]
) -> bytes:
    w = WORDS[lang]
    p = feature["properties"]
    code = internal_code(p.get("kommunekode") or str(feature["id"]))
    contact = _facts(
        [
            ("", ""),
            (w["name"], e(p.get("business_contact_name") or "")),
            *_contact_rows(
                lang,
                {
                    "phone": p.get("business_contact_phone"),
                    "email": p.get("business_contact_email"),
                    "website": p.get("business_contact_website"),
                },
            ),
            (w["description"], e(p.get("business_contact_note") or "")),
        ]
    )
    name = official_name(code, lang)
    rows = [(w["code"], e(p.get("kommunekode") or "")), (w["region"], e(p.get("region") or ""))]
    businesses = _html_link(req, "/collections/businesses/items", lang, municipality=code)
    networks = _html_link(req, "/collections/networks/items", lang, municipality=code)
    boundary = outline(code)  # the stored boundary is exact: far too detailed for this map
    drawn = svg_map(
        [{"geometry": boundary}] if boundary else [], [], w["map_label"].format(what=name)
    )
    body = (
        _facts(rows)
        + (f'<figure class="map">{drawn}</figure>' if drawn else "")
        + f'<ul class="plain"><li>{_a(businesses, w["businesses_in"].format(name=name))}</li>'
        f"<li>{_a(networks, collection_title('networks', lang))}</li>"
        f"<li>{_a(_map_link(req, code, lang), w['map_of'].format(name=name))}</li></ul>"
        + (
            f"<h2>{e(w['business_contact'])}</h2>{contact}"
            if p.get("business_contact_name")
            else ""
        )
    )
    page = Page(
        lang,
        name,
        body,
        crumbs=_crumbs(
            req, lang, _collections_crumb(req, lang), _collection_crumb(req, lang, "municipalities")
        ),
        alternates=_alternates(links),
    )
    return render(req, page)


# -- the schemas (queryables, sortables, the features' schema) and the API definition --------

SCHEMA_WORDS = {
    "da": {
        "queryables": "Egenskaber, der kan filtreres på: {title}",
        "sortables": "Egenskaber, der kan sorteres efter: {title}",
        "schema": "Skema for {title}",
        "property": "Egenskab",
        "type": "Type",
        "values": "Værdier",
        "about": "Beskrivelse",
        "api_lead": "Tjenestens operationer. Den maskinlæsbare beskrivelse (OpenAPI 3.0) er "
        "JSON-dokumentet nedenfor.",
        "operation": "Operation",
        "path": "Adresse",
    },
    "en": {
        "queryables": "Properties a filter may name: {title}",
        "sortables": "Properties sortby may name: {title}",
        "schema": "Schema of {title}",
        "property": "Property",
        "type": "Type",
        "values": "Values",
        "about": "Description",
        "api_lead": "The operations of the service. The machine-readable definition (OpenAPI "
        "3.0) is the JSON document below.",
        "operation": "Operation",
        "path": "Address",
    },
}


def _type_of(spec: dict[str, Any]) -> str:
    kind = spec.get("type") or ""
    if isinstance(kind, list):
        kind = " | ".join(kind)
    return " ".join(x for x in (kind, spec.get("format") or "") if x)


def json_schema(
    req: HttpRequest, lang: str, cid: str, kind: str, doc: dict[str, Any], self_href: str
) -> bytes:
    """A collection's queryables, sortables or schema (`kind`) as a table of its properties."""
    w = SCHEMA_WORDS[lang]
    title = w[kind].format(title=collection_title(cid, lang))
    rows = []
    for name, spec in doc.get("properties", {}).items():
        values = spec.get("enum") or (spec.get("items") or {}).get("enum") or []
        rows.append(
            f'<tr><th scope="row"><code>{e(name)}</code></th><td>{e(_type_of(spec))}</td>'
            f"<td>{e(', '.join(str(v) for v in values))}</td>"
            f'<td lang="en">{e(spec.get("description") or "")}</td></tr>'
        )
    body = (
        f'<p lang="en">{e(doc.get("description") or "")}</p>'
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{e(title)}">'
        f"<table><caption>{e(title)}</caption><thead><tr>"
        f'<th scope="col">{e(w["property"])}</th><th scope="col">{e(w["type"])}</th>'
        f'<th scope="col">{e(w["values"])}</th><th scope="col">{e(w["about"])}</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    page = Page(
        lang,
        title,
        body,
        crumbs=_crumbs(req, lang, _collections_crumb(req, lang), _collection_crumb(req, lang, cid)),
        alternates=[(self_href, "application/schema+json", "JSON Schema")],
    )
    return render(req, page)


def _is_page(doc: dict[str, Any], op: dict[str, Any]) -> bool:
    """Whether an operation answers a page without further parameters: linked from the
    API's page (one that needs a parameter, or answers only data, is listed, not linked)."""
    known = doc.get("components", {}).get("parameters", {})
    for p in op.get("parameters", []):
        if known.get(p.get("$ref", "").rsplit("/", 1)[-1], p).get("required"):
            return False
    ok_answer = op.get("responses", {}).get("200", {})
    return "text/html" in ok_answer.get("content", {})


def api_definition(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    """The OpenAPI document as a page: each operation with its address and summary."""
    w, t = SCHEMA_WORDS[lang], TEXT[lang]
    rows = []
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "summary" not in op:
                continue
            where = e(path)
            if method == "get" and "{" not in path and _is_page(doc, op):
                where = _a(f"{req.base_url}{path}", path)
            rows.append(
                f'<tr><th scope="row"><code>{e(method.upper())}</code> {where}</th>'
                f'<td lang="en">{e(op["summary"])}</td></tr>'
            )
    body = (
        f'<p class="lead">{e(w["api_lead"])}</p>'
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{e(t["api"])}">'
        f"<table><caption>{e(t['api'])}</caption><thead><tr>"
        f'<th scope="col">{e(w["path"])}</th><th scope="col">{e(w["about"])}</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    page = Page(
        lang,
        t["api"],
        body,
        crumbs=_crumbs(req, lang),
        alternates=[(f"{req.base_url}/api?f=json", "application/vnd.oai.openapi+json", "OpenAPI")],
    )
    return render(req, page)
