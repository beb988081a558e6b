"""schema.org markup (JSON-LD) for the page of a business and of a network, so that search
engines list the local firms and their networks.

Built from the public feature only, so it says no more than the page: no street address where
the privacy rules withhold it, coordinates only when the point is the address itself (a point
rounded to a grid would mislead a search engine about where the firm is), contact details only
where the feature carries them.
"""

from __future__ import annotations

from typing import Any

import orjson

from chalicelib.domain.public import internal_code, split
from chalicelib.domain.reference import official_name
from chalicelib.web.pages import web_address


def network_path(feature: dict[str, Any]) -> str:
    """The path of a network's page: its area's item, or its meeting place's (a network that
    drew no area is in network-meeting-places only)."""
    kind = (feature.get("geometry") or {}).get("type")
    collection = "networks" if kind in ("Polygon", "MultiPolygon") else "network-meeting-places"
    return f"/collections/{collection}/items/{feature['id']}"


def script(doc: dict[str, Any]) -> str:
    """The `<script type="application/ld+json">` element; `<` is escaped so that no text of
    the data can end the element."""
    text = orjson.dumps(doc).decode().replace("<", "\\u003c")
    return f'<script type="application/ld+json">{text}</script>'


def _page(base: str, collection: str, fid: str) -> str:
    return f"{base}/collections/{collection}/items/{fid}?f=html"


def _contact(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.get("phone"):
        out["telephone"] = p["phone"]
    if p.get("email"):
        out["email"] = p["email"]
    if site := web_address(p.get("website")):
        out["sameAs"] = site
    return out


def business(base: str, feature: dict[str, Any], networks: list[dict[str, Any]]) -> dict[str, Any]:
    p = feature["properties"]
    cvr = str(feature["id"])
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "DK"}
    if p.get("address"):
        address["streetAddress"] = p["address"]
    if p.get("postcode"):
        address["postalCode"] = p["postcode"]
    if p.get("city"):
        address["addressLocality"] = p["city"]
    if p.get("municipality"):
        address["addressRegion"] = official_name(internal_code(p["municipality"]))
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "@id": _page(base, "businesses", cvr),
        "url": _page(base, "businesses", cvr),
        "name": p.get("name"),
        "identifier": {"@type": "PropertyValue", "propertyID": "CVR", "value": cvr},
        "address": address,
        **_contact(p),
    }
    if p.get("industry_text"):
        doc["description"] = p["industry_text"]
    if p.get("founded"):
        doc["foundingDate"] = p["founded"]
    if p.get("ceased"):
        doc["dissolutionDate"] = p["ceased"]
    geometry = feature.get("geometry")
    if geometry and p.get("location_precision") == "address":
        lon, lat = geometry["coordinates"][:2]
        doc["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
    if networks:
        doc["memberOf"] = [
            {
                "@type": "Organization",
                "@id": base + network_path(n) + "?f=html",
                "name": n["properties"].get("name"),
            }
            for n in networks
        ]
    return doc


def network(
    base: str, feature: dict[str, Any], members: list[dict[str, Any]], collection: str
) -> dict[str, Any]:
    p = feature["properties"]
    nid = str(feature["id"])
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": _page(base, collection, nid),
        "url": _page(base, collection, nid),
        "name": p.get("name"),
        **_contact(p),
        "areaServed": [
            {"@type": "AdministrativeArea", "name": official_name(internal_code(c))}
            for c in split(p.get("municipalities"))
        ],
    }
    if p.get("description"):
        doc["description"] = p["description"]
    if p.get("founded"):
        doc["foundingDate"] = p["founded"]
    if p.get("tags"):
        doc["keywords"] = ", ".join(split(p["tags"]))
    if p.get("meeting_place_name"):
        place: dict[str, Any] = {"@type": "Place", "name": p["meeting_place_name"]}
        if p.get("meeting_place_lat") is not None and p.get("meeting_place_lon") is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": p["meeting_place_lat"],
                "longitude": p["meeting_place_lon"],
            }
        doc["location"] = place
    if members:
        doc["member"] = [
            {
                "@type": "LocalBusiness",
                "@id": _page(base, "businesses", str(m["id"])),
                "name": m["properties"].get("name"),
            }
            for m in members
        ]
    return doc
