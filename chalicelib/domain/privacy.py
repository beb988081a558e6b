"""The privacy rules of the design, applied in one place: what the public may see of a business.

Every public output (API, widget data, snapshots) goes through `public_business`.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.geo import snap_to_grid
from chalicelib.domain.models import Business, Municipality, Network


def public_location(b: Business) -> tuple[tuple[float, float] | None, str | None]:
    """The point to publish and its precision, after curation and coarsening."""
    if b.curated.location is not None:
        point, precision = b.curated.location, "address"
    elif b.location is not None:
        point, precision = b.location, b.location_precision or "address"
    else:
        return None, None
    if precision == "address" and b.personally_owned and not b.curated.show_address:
        return snap_to_grid(point.lon, point.lat), "grid"
    return (round(point.lon, 6), round(point.lat, 6)), precision


def shows_address(b: Business) -> bool:
    return not b.personally_owned or b.curated.show_address


def shows_contact(b: Business) -> bool:
    if b.reklamebeskyttet:
        return False
    return not b.personally_owned or b.curated.show_contact


def public_business(b: Business) -> dict[str, Any] | None:
    """The GeoJSON Feature the public may see, or None for a business hidden on request or
    moved out of the covered municipalities."""
    if not b.public:
        return None
    point, precision = public_location(b)
    props: dict[str, Any] = {
        "name": b.name,
        "industry_code": b.industry_code,
        "industry_text": b.industry_text,
        "industry_section": b.industry_section,
        "company_form": b.company_form,
        "company_form_text": b.company_form_text,
        "employees": b.employees,
        "status": b.status,
        "founded": b.founded.isoformat() if b.founded else None,
        "ceased": b.ceased.isoformat() if b.ceased else None,
        "address": b.address if shows_address(b) else None,
        "postcode": b.postcode,
        "city": b.city,
        "municipality": b.municipality,
        "location_precision": precision,
        "reklamebeskyttet": b.reklamebeskyttet,
        "networks": sorted(b.networks),
        "phone": None,
        "email": None,
        "website": None,
        "updated_at": b.updated_at.isoformat(timespec="seconds"),
    }
    if shows_contact(b):
        props.update(phone=b.contact.phone, email=b.contact.email, website=b.contact.website)
    geometry = {"type": "Point", "coordinates": list(point)} if point else None
    return {"type": "Feature", "id": b.id, "geometry": geometry, "properties": props}


def public_network(n: Network, visible_members: list[str]) -> dict[str, Any]:
    """A network as a Feature; members are limited to businesses not hidden from the public."""
    props: dict[str, Any] = {
        "name": n.name,
        "description": n.description,
        "website": n.website,
        "email": n.contact.email,
        "phone": n.contact.phone,
        "municipalities": n.municipalities,
        "meeting_place": n.meeting_place.geojson() if n.meeting_place else None,
        "meeting_place_name": n.meeting_place_name,
        "tags": n.tags,
        "members": visible_members,
        "member_count": len(visible_members),
        "founded": n.founded.isoformat() if n.founded else None,
        "updated_at": n.updated_at.isoformat(timespec="seconds"),
    }
    return {"type": "Feature", "id": n.id, "geometry": n.geometry(), "properties": props}


def public_municipality(m: Municipality) -> dict[str, Any]:
    """A municipality as a Feature with its boundary (public reference data)."""
    return {
        "type": "Feature",
        "id": m.kommunekode,
        "geometry": m.boundary,
        "properties": {
            "kommunekode": m.kommunekode,
            "name": m.name,
            "region": m.region,
            "business_contact": m.business_contact.model_dump() if m.business_contact else None,
        },
    }
