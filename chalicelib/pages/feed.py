"""The welcome feed and the published snapshots as pages, for the business department.

The feed's page shows the same entries as its JSON and Atom (the public features, with the
networks nearest to each), a form to choose the start date, the municipality's business
contact, and a link to each firm's page. The snapshots' page lists each year's files with
their sizes and checksums, and the barometer's press release.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.domain.text import date_text, number, size_group
from chalicelib.matchmaking.distance import network_distance
from chalicelib.web.pages import TEXT, Page, e, href, render, web_address

if TYPE_CHECKING:
    from chalicelib.web.http import HttpRequest

WORDS = {
    "da": {
        "since": "Registreret siden",
        "show": "Vis",
        "contact": "Kommunens erhvervskontakt",
        "networks": "Nærmeste netværk",
        "no_networks": "Ingen netværk registreret endnu",
        "protected": "Reklamebeskyttet: må ikke kontaktes med markedsføring.",
        "registered": "Registreret",
        "next": "Flere nye virksomheder",
        "feeds": "Følg med i et nyhedsprogram (Atom)",
        "snapshots": "Årlige åbne data",
        "snapshots_lead": "Hvert år udgives et øjebliksbillede af virksomhederne og netværkene "
        "som åbne data, med et virksomhedsbarometer.",
        "none": "Der er ikke udgivet noget endnu.",
        "year": "År {year}",
        "revision": "Udgave {revision}, data pr. {as_of}, udgivet {published}.",
        "file": "Fil",
        "size": "Størrelse",
        "checksum": "SHA-256",
        "barometer": "Virksomhedsbarometeret {year} (pressemeddelelse)",
        "catalog": "Datakatalog (DCAT-AP-DK)",
        "files": "Filerne for {year}",
    },
    "en": {
        "since": "Registered since",
        "show": "Show",
        "contact": "The municipality's business contact",
        "networks": "Nearest networks",
        "no_networks": "No networks registered yet",
        "protected": "Marketing-protected: must not be contacted for marketing.",
        "registered": "Registered",
        "next": "More new businesses",
        "feeds": "Follow it in a feed reader (Atom)",
        "snapshots": "Yearly open data",
        "snapshots_lead": "Every year a snapshot of the businesses and networks is published "
        "as open data, with a business barometer.",
        "none": "Nothing has been published yet.",
        "year": "Year {year}",
        "revision": "Revision {revision}, data as of {as_of}, published {published}.",
        "file": "File",
        "size": "Size",
        "checksum": "SHA-256",
        "barometer": "The business barometer {year} (press release)",
        "catalog": "Data catalogue (DCAT-AP-DK)",
        "files": "The files of {year}",
    },
}


def _home(req: HttpRequest, lang: str) -> tuple[str, str]:
    return TEXT[lang]["home"], f"{req.base_url}/" + ("?lang=en" if lang == "en" else "")


def _entry(
    req: HttpRequest, lang: str, feature: dict[str, Any], network_paths: dict[str, str]
) -> str:
    w = WORDS[lang]
    p = feature["properties"]
    page = f"{req.base_url}/collections/businesses/items/{feature['id']}?f=html"
    page += "&lang=en" if lang == "en" else ""
    place = " ".join(x for x in (p.get("postcode"), p.get("city")) if x)
    where = ", ".join(x for x in (p.get("address"), place) if x)
    size = size_group(p["employees"], lang) if p.get("employees") else None
    facts = " · ".join(x for x in (p.get("industry_text"), size, where) if x)
    founded = (
        f"<p>{e(w['registered'])}: {e(date_text(date.fromisoformat(p['founded']), lang))}</p>"
        if p.get("founded")
        else ""
    )
    protected = f'<p class="note">{e(w["protected"])}</p>' if p.get("reklamebeskyttet") else ""
    near = []
    for n in p.get("nearest_networks") or []:
        distance = network_distance(n, lang)
        path = network_paths.get(n["id"], f"/collections/networks/items/{n['id']}")
        target = f"{req.base_url}{path}?f=html"
        near.append(f'<li><a href="{e(target)}">{e(n["name"])}</a> ({e(distance)})</li>')
    networks = (
        f'<p>{e(w["networks"])}:</p><ul class="plain">{"".join(near)}</ul>'
        if near
        else f"<p>{e(w['no_networks'])}</p>"
    )
    return (
        f'<article><h2><a href="{e(page)}">{e(p.get("name"))}</a></h2>'
        f"<p>{e(facts)}</p>{founded}{protected}{networks}</article>"
    )


def welcome_feed(
    req: HttpRequest,
    lang: str,
    entries: list[dict[str, Any]],
    links: dict[str, str],
    ctx: dict[str, Any],
    network_paths: dict[str, str],
) -> bytes:
    """The feed as a page; `network_paths`: each network's page (network_path)."""
    w = WORDS[lang]
    action = ctx["href"]
    hidden = '<input type="hidden" name="f" value="html">'
    if lang == "en":
        hidden += '<input type="hidden" name="lang" value="en">'
    form = (
        f'<form class="filters" method="get" action="{e(action)}">{hidden}'
        f'<div><label for="since">{e(w["since"])}</label>'
        f'<input id="since" name="since" type="date" value="{e(ctx["since"].isoformat())}">'
        f'</div><div><button type="submit">{e(w["show"])}</button></div></form>'
    )
    contact = ctx.get("contact")
    contact_html = ""
    if contact:
        parts = [e(contact.get("name"))]
        if contact.get("email"):
            parts.append(f'<a href="mailto:{e(contact["email"])}">{e(contact["email"])}</a>')
        if contact.get("phone"):
            parts.append(e(contact["phone"]))
        site = web_address(contact.get("website"))
        if site:
            parts.append(f'<a href="{e(site)}">{e(contact["website"])}</a>')
        contact_html = f"<p><strong>{e(w['contact'])}:</strong> {' · '.join(parts)}</p>"
    atom = href(ctx["href"], {"since": ctx["since"].isoformat(), "f": "atom", "lang": lang})
    more = ""
    if "next" in links:
        nxt = links["next"] + "&f=html" if "f=html" not in links["next"] else links["next"]
        more = f'<p><a href="{e(nxt)}" rel="next">{e(w["next"])}</a></p>'
    body = (
        f'<p class="lead">{e(ctx["subtitle"])}</p>{contact_html}{form}'
        f"{''.join(_entry(req, lang, f, network_paths) for f in entries)}{more}"
        f'<p><a href="{e(atom)}" type="application/atom+xml">{e(w["feeds"])}</a></p>'
    )
    json_href = href(ctx["href"], {"since": ctx["since"].isoformat()})
    page = Page(
        lang,
        ctx["title"],
        body,
        crumbs=[_home(req, lang)],
        alternates=[
            (json_href, "application/geo+json", "GeoJSON"),
            (atom, "application/atom+xml", "Atom"),
        ],
        description=ctx["subtitle"],
    )
    return render(req, page)


def _size(n: int, lang: str) -> str:
    if n >= 1_000_000:
        return f"{number(n / 1_000_000, lang, 1)} MB"
    return f"{number(max(n / 1000, 0.1), lang, 1)} kB"


def snapshots(req: HttpRequest, lang: str, doc: dict[str, Any]) -> bytes:
    w = WORDS[lang]
    sections = []
    for snap in doc["snapshots"]:
        year = snap["year"]
        rows = "".join(
            f'<tr><th scope="row"><a href="{e(f["url"])}">{e(f["name"])}</a></th>'
            f"<td>{e(_size(f['size'], lang))}</td><td><code>{e(f['sha256'])}</code></td></tr>"
            for f in snap["files"]
        )
        barometer = f"{req.base_url}/barometer/{year}?f=html"
        sections.append(
            f"<h2>{e(w['year'].format(year=year))}</h2>"
            f"<p>{e(w['revision'].format(**_revision(snap, lang)))}</p>"
            f'<p><a href="{e(barometer)}">{e(w["barometer"].format(year=year))}</a></p>'
            f'<div class="table-wrap" role="region" tabindex="0" '
            f'aria-label="{e(w["files"].format(year=year))}">'
            f"<table><caption>{e(w['files'].format(year=year))}"
            f'</caption><thead><tr><th scope="col">{e(w["file"])}</th>'
            f'<th scope="col">{e(w["size"])}</th><th scope="col">{e(w["checksum"])}</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    body = (
        f'<p class="lead">{e(w["snapshots_lead"])}</p>'
        + ("".join(sections) or f"<p>{e(w['none'])}</p>")
        + f'<p><a href="{e(req.base_url)}/catalog">{e(w["catalog"])}</a></p>'
    )
    page = Page(
        lang,
        w["snapshots"],
        body,
        crumbs=[_home(req, lang)],
        alternates=[(f"{req.base_url}/snapshots?f=json", "application/json", "JSON")],
    )
    return render(req, page)


def _revision(snap: dict[str, Any], lang: str) -> dict[str, str]:
    def day(value: str | None) -> str:
        return date_text(date.fromisoformat(value[:10]), lang) if value else "?"

    return {
        "revision": str(snap.get("revision", 1)),
        "as_of": day(snap.get("as_of")),
        "published": day(snap.get("published")),
    }
