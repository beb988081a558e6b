"""The welcome feed: businesses newly registered in a municipality, with the networks near them.

The business department reads it (as JSON, or as an Atom feed in a feed reader or an
e-mail-by-feed tool) to welcome every new CVR number and point it to its local networks.
Businesses that declined marketing (`reklamebeskyttet`) are flagged: they may be welcomed by
the municipality as a public service, never contacted for marketing. The privacy rules apply as
everywhere: only public features are used.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.public import municipality_contact
from chalicelib.domain.reference import official_name
from chalicelib.domain.text import count, date_text, size_group
from chalicelib.matchmaking.distance import network_distance
from chalicelib.matchmaking.matches import network_profiles, profiles_digest, suggest_networks
from chalicelib.matchmaking.nearby import NetworkAreas, load_networks
from chalicelib.store import FeatureQuery, Store
from chalicelib.web import params as P
from chalicelib.web.cursor import Cursor, decode_cursor, selection_digest
from chalicelib.web.http import HttpRequest, HttpResponse, etag_of, negotiate, ok, with_query
from chalicelib.web.pages import HTML, language

ATOM = "application/atom+xml"
GEOJSON = "application/geo+json"
DEFAULT_DAYS = 30
MAX_YEARS_BACK = 2  # a feed of new businesses; older registrations are the register's job
LIMIT_DEFAULT = 100
LIMIT_MAX = 1000
NEAREST = 3
_PARAMS = ("since", "limit", "cursor", "f", "lang")

TEXTS = {
    "da": {
        "title": "Nye virksomheder i {name}",
        "subtitle": "Virksomheder registreret i CVR siden {since}, med de nærmeste netværk",
        "counted": "{count} registreret i CVR siden {since}, med de nærmeste netværk",
        "none": "Ingen nye virksomheder registreret i CVR siden {since}",
        "networks": "Nærmeste netværk",
        "no_networks": "Ingen netværk registreret endnu",
        "protected": "Reklamebeskyttet: må ikke kontaktes med markedsføring",
        "founded": "Registreret",
    },
    "en": {
        "title": "New businesses in {name}",
        "subtitle": "Businesses registered in CVR since {since}, with the nearest networks",
        "counted": "{count} registered in CVR since {since}, with the nearest networks",
        "none": "No new businesses registered in CVR since {since}",
        "networks": "Nearest networks",
        "no_networks": "No networks registered yet",
        "protected": "Marketing-protected: must not be contacted for marketing",
        "founded": "Registered",
    },
}


def earliest_since(today: date) -> date:
    """The earliest `since` a request may ask for: the same day `MAX_YEARS_BACK` years ago."""
    try:
        return today.replace(year=today.year - MAX_YEARS_BACK)
    except ValueError:  # 29 February
        return today.replace(year=today.year - MAX_YEARS_BACK, day=28)


def parse_since(value: str | None, today: date) -> date:
    """The feed's start; at most `MAX_YEARS_BACK` years back, so a page is bounded work."""
    if value is None:
        return today - timedelta(days=DEFAULT_DAYS)
    try:
        since = date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            f"since '{value}' is not a date (YYYY-MM-DD)", parameter="since"
        ) from None
    earliest = earliest_since(today)
    if since < earliest:
        raise InvalidParameter(
            f"since must be at most {MAX_YEARS_BACK} years back: {earliest.isoformat()} or later",
            parameter="since",
        )
    return since


def parse_limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise InvalidParameter(f"limit must be an integer from 1 to {LIMIT_MAX}", parameter="limit")
    return min(int(value), LIMIT_MAX)


def parse_lang(value: str | None) -> str:
    if value is None:
        return "da"
    if value not in TEXTS:
        raise InvalidParameter("lang must be 'da' or 'en'", parameter="lang")
    return value


def new_businesses(store: Store, req: HttpRequest, code: str) -> HttpResponse:
    """The feed page for one municipality, as GeoJSON or Atom."""
    values = P.single_values(req.params, _PARAMS)
    kommunekode = _kommunekode(code)
    municipality = store.get_feature("municipalities", kommunekode)
    if municipality is None:
        raise NotFound(f"no municipality {code} in this service")
    municipality_props = orjson.loads(municipality)["properties"]
    since = parse_since(values.get("since"), datetime.now(UTC).date())
    media = _media(req, values.get("f"))
    if media == HTML and "lang" not in values:  # a page speaks the browser's language
        lang = language(req)
    else:
        lang = parse_lang(values.get("lang"))
    query = FeatureQuery(
        municipality=kommunekode, founded_from=since, limit=parse_limit(values.get("limit"))
    )
    selection = selection_digest("new-businesses", query.filters())
    if "cursor" in values:
        query = query.model_copy(
            update={
                "after": decode_cursor(
                    values["cursor"], selection, req.settings.cursor_secret
                ).after
            }
        )
    page = store.query("businesses", query)
    networks = load_networks(store)
    profiles = network_profiles(store, networks)  # what each network is about: its members
    href = f"{req.base_url}/municipalities/{kommunekode}/new-businesses"
    shown = {k: v for k, v in values.items() if k != "cursor"} | {"since": since.isoformat()}
    if media == ATOM:
        shown["f"] = "atom"
    elif media == HTML:
        shown["f"] = "html"
    links = {
        "self": with_query(
            href, {**shown, **({"cursor": values["cursor"]} if "cursor" in values else {})}
        )
    }
    if page.next_after is not None:
        token = Cursor(page.next_after, None, selection).encode(req.settings.cursor_secret)
        links["next"] = with_query(href, {**shown, "cursor": token})
    links["alternate"] = with_query(href, {**shown, "f": "json" if media == ATOM else "atom"})
    if media != HTML:
        links["describedby"] = with_query(href, {**shown, "f": "html"})
    # The answer is a function of the page's versions, the networks' version, the municipality
    # and the request's form: its ETag is known before any entry is built, so a client that
    # holds it gets its 304 for the price of the store's page query.
    validator = page.validator.encode() if page.validator else b"".join(page.features)
    etag = etag_of(
        validator,
        media.encode(),
        lang.encode(),
        orjson.dumps(links),
        networks.version.encode(),
        profiles_digest(profiles),
        municipality,
    )
    vary = {"Vary": "Accept, Accept-Language"} if media == HTML else None
    unchanged = ok(req, b"", media, etag=etag, max_age=300, extra=vary)
    if unchanged.status == 304:
        return unchanged
    entries = [_with_networks(orjson.loads(f), networks, profiles) for f in page.features]
    entries.sort(key=lambda f: (f["properties"]["founded"] or "", f["id"]), reverse=True)
    t = TEXTS[lang]
    context = {
        "code": kommunekode,
        "name": municipality_props["name"],
        "official_name": official_name(kommunekode, lang),
        # the whole selection on one page can be counted; a page of several cannot
        "count": None if "cursor" in values or "next" in links else len(entries),
        "since": since,
        "lang": lang,
        "href": href,
        "contact": municipality_contact(municipality_props),
    }
    context["title"] = t["title"].format(name=context["official_name"])
    context["subtitle"] = _subtitle(context, t)
    if media == ATOM:
        body = _atom(entries, links, context, req.base_url)
    elif media == HTML:
        from chalicelib.pages.feed import welcome_feed
        from chalicelib.pages.schema_org import network_path

        paths = {str(n.get("id")): network_path(n) for n in networks.networks}
        body = welcome_feed(req, lang, entries, links, context, paths)
        return ok(
            req,
            body,
            HTML,
            etag=etag,
            max_age=300,
            extra={"Vary": "Accept, Accept-Language"},
        )
    else:
        body = _geojson(entries, links, context)
    return ok(req, body, media, etag=etag, max_age=300)


def _kommunekode(code: str) -> str:
    try:
        return P.parse_municipality(code)
    except InvalidParameter:
        raise NotFound(f"'{code}' is not a kommunekode (e.g. 376)") from None


def _media(req: HttpRequest, f: str | None) -> str:
    if f is not None:
        if f not in ("json", "geojson", "atom", "html"):
            raise InvalidParameter("f must be 'json', 'geojson', 'atom' or 'html'", parameter="f")
        return {"atom": ATOM, "html": HTML}.get(f, GEOJSON)
    return negotiate(req.header("accept"), [GEOJSON, "application/json", ATOM, HTML])


def _with_networks(
    feature: dict[str, Any], networks: NetworkAreas, profiles: dict[str, Counter[str]]
) -> dict[str, Any]:
    props = feature["properties"]
    point = feature["geometry"]["coordinates"] if feature.get("geometry") else None
    where = (point[0], point[1]) if point else None
    section = props.get("industry_section")
    props["nearest_networks"] = suggest_networks(where, section, networks, profiles, limit=NEAREST)
    props["marketing_allowed"] = not props.get("reklamebeskyttet", False)
    return feature


def _subtitle(ctx: dict[str, Any], t: dict[str, str]) -> str:
    """'3 nye virksomheder registreret i CVR siden 1. november 2026, ...' when the page holds
    the whole selection; the uncounted form on a page of several."""
    since = date_text(ctx["since"], ctx["lang"])
    n = ctx["count"]
    if n is None:
        return t["subtitle"].format(since=since)
    if n == 0:
        return t["none"].format(since=since)
    return t["counted"].format(count=count(n, "new_business", ctx["lang"]), since=since)


def _geojson(entries: list[dict[str, Any]], links: dict[str, str], ctx: dict[str, Any]) -> bytes:
    doc = {
        "type": "FeatureCollection",
        "title": ctx["title"],
        "description": ctx["subtitle"],
        "municipality": {
            "kommunekode": ctx["code"],
            "name": ctx["name"],
            "official_name": ctx["official_name"],
            "business_contact": ctx["contact"],
        },
        "since": ctx["since"].isoformat(),
        "numberReturned": len(entries),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": [
            {"href": href, "rel": rel, "type": _link_type(href)} for rel, href in links.items()
        ],
        "features": entries,
    }
    return orjson.dumps(doc)


def _link_type(href: str) -> str:
    if "f=atom" in href:
        return ATOM
    return "text/html" if "f=html" in href else GEOJSON


def _atom(
    entries: list[dict[str, Any]], links: dict[str, str], ctx: dict[str, Any], base_url: str
) -> bytes:
    t = TEXTS[ctx["lang"]]
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": ctx["lang"]})

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: _xml_safe(v) for k, v in attrs.items()})
        if text is not None:
            el.text = _xml_safe(text)
        return el

    sub(feed, "id", ctx["href"])
    sub(feed, "title", ctx["title"])
    sub(feed, "subtitle", ctx["subtitle"])
    newest = max((e["properties"]["updated_at"] for e in entries), default=None)
    sub(feed, "updated", _atom_time(newest))
    sub(sub(feed, "author"), "name", "Mikrokort")
    sub(feed, "link", rel="self", href=links["self"], type=ATOM)
    for rel in ("next", "alternate"):
        if rel in links:
            sub(feed, "link", rel=rel, href=links[rel], type=ATOM if rel == "next" else GEOJSON)
    for e in entries:
        p = e["properties"]
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:cvr:{e['id']}")
        sub(entry, "title", p["name"])
        sub(entry, "updated", _atom_time(p["updated_at"]))
        if p.get("founded"):
            sub(entry, "published", f"{p['founded']}T00:00:00Z")
        sub(entry, "link", href=f"{base_url}/collections/businesses/items/{e['id']}")
        if p.get("industry_section"):
            names = SECTION_NAMES.get(p["industry_section"])
            label = names[0 if ctx["lang"] == "da" else 1] if names else p["industry_section"]
            sub(entry, "category", term=p["industry_section"], label=label)
        if p.get("reklamebeskyttet"):
            sub(entry, "category", term="reklamebeskyttet", label=t["protected"])
        sub(entry, "content", _summary(p, t, ctx["lang"]), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _summary(p: dict[str, Any], t: dict[str, str], lang: str) -> str:
    place = f"{p.get('postcode') or ''} {p.get('city') or ''}".strip()
    where = ", ".join(x for x in (p.get("address"), place) if x)
    size = size_group(p["employees"], lang) if p.get("employees") else None
    lines = [" · ".join(x for x in (p.get("industry_text"), size, where) if x)]
    if p.get("founded"):
        lines.append(f"{t['founded']}: {date_text(date.fromisoformat(p['founded']), lang)}")
    if p.get("reklamebeskyttet"):
        lines.append(t["protected"])
    near = p.get("nearest_networks") or []
    if near:
        parts = [f"{n['name']} ({network_distance(n, lang)})" for n in near]
        lines.append(f"{t['networks']}: " + "; ".join(parts))
    else:
        lines.append(t["no_networks"])
    return "\n".join(lines)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (a register name may hold them)."""
    return _NOT_XML.sub("", text)


def _atom_time(iso: str | None) -> str:
    if not iso:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
