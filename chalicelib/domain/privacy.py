"""The privacy rules of the design, applied in one place: what the public may see of a business.

Every public output (API, widget data, snapshots) goes through `public_business`. The properties
are built through the models of `chalicelib.domain.public`, so what is published is exactly the
shape the API document and the open-data files describe.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.geo import snap_to_grid
from chalicelib.domain.models import Business, Municipality, Network, is_personal_form
from chalicelib.domain.public import (
    LIST_SEPARATOR,
    PublicBusinessProperties,
    PublicMunicipalityProperties,
    PublicNetworkProperties,
    joined,
    public_code,
)


# Forms that are a legal person of their own (companies, cooperatives, foundations, public
# bodies): the address and contact details are the firm's, not a person's home. Every other form,
# and a missing one, is treated as personally owned: when the register does not say who stands
# behind a firm, the rules must protect a person rather than publish one. The register gives the
# form twice, as a short text (kortBeskrivelse) and as a number (virksomhedsformkode): either
# one naming a person's form is enough to protect it.
def is_personally_owned_form(form: str | None, code: int | None = None) -> bool:
    """Fails closed: only a form known to be a company of its own is not personally owned."""
    return is_personal_form(form, code)


def personally_owned(b: Business) -> bool:
    """Whether the privacy rules protect this business as a person's (unknown forms included)."""
    return is_personally_owned_form(b.company_form, b.company_form_code)


def public_location(b: Business) -> tuple[tuple[float, float] | None, str | None]:
    """The point to publish and its precision, after curation and coarsening."""
    if b.curated.location is not None:
        point, precision = b.curated.location, "address"
    elif b.location is not None:
        point, precision = b.location, b.location_precision or "address"
    else:
        return None, None
    if precision == "address" and personally_owned(b) and not b.curated.show_address:
        return snap_to_grid(point.lon, point.lat), "grid"
    return (round(point.lon, 6), round(point.lat, 6)), precision


def shows_address(b: Business) -> bool:
    return not personally_owned(b) or b.curated.show_address


def shows_contact(b: Business) -> bool:
    if b.reklamebeskyttet:
        return False
    return not personally_owned(b) or b.curated.show_contact


def public_workplaces(b: Business) -> str | None:
    """`kommunekode:size group` of each active unit in the covered municipalities, `;`-joined
    in a stable order (a flat text GIS files keep); None where the units were never read. Only
    the unit's municipality and size are published, never its address."""
    if b.workplaces is None:
        return None
    units = sorted(
        (public_code(w.municipality) if w.municipality else "?", w.employees or "?", w.p_number)
        for w in b.workplaces
        if w.active
    )
    return LIST_SEPARATOR.join(f"{where}:{size}" for where, size, _ in units)


def public_business(b: Business) -> dict[str, Any] | None:
    """The GeoJSON Feature the public may see, or None for a business hidden on request or
    moved out of the covered municipalities."""
    if not b.public:
        return None
    point, precision = public_location(b)
    contact = shows_contact(b)
    props = PublicBusinessProperties(
        name=b.name,
        industry_code=b.industry_code,
        industry_text=b.industry_text,
        industry_section=b.industry_section,
        company_form=b.company_form,
        company_form_text=b.company_form_text,
        employees=b.employees,
        status=b.status,
        founded=b.founded,
        ceased=b.ceased,
        address=b.address if shows_address(b) else None,
        postcode=b.postcode,
        city=b.city,
        municipality=public_code(b.municipality) if b.municipality else None,
        location_precision=precision,
        reklamebeskyttet=b.reklamebeskyttet,
        networks=joined(sorted(b.networks)),
        phone=b.contact.phone if contact else None,
        email=b.contact.email if contact else None,
        website=b.contact.website if contact else None,
        seated_elsewhere=b.seated_elsewhere,
        workplaces=public_workplaces(b),
        updated_at=b.updated_at,
    )
    geometry = {"type": "Point", "coordinates": list(point)} if point else None
    return {
        "type": "Feature",
        "id": b.id,
        "geometry": geometry,
        "properties": props.model_dump(mode="json"),
    }


def public_network(n: Network, visible_members: list[str]) -> dict[str, Any]:
    """A network as a Feature of its area (no geometry where it has none); only members not
    hidden from the public are counted."""
    place = n.meeting_place
    props = PublicNetworkProperties(
        name=n.name,
        description=n.description,
        website=n.website,
        email=n.contact.email,
        phone=n.contact.phone,
        municipalities=joined([public_code(c) for c in n.municipalities]),
        meeting_place_name=n.meeting_place_name,
        meeting_place_lon=round(place.lon, 6) if place else None,
        meeting_place_lat=round(place.lat, 6) if place else None,
        tags=joined(n.tags),
        member_count=len(visible_members),
        founded=n.founded,
        updated_at=n.updated_at,
    )
    return {
        "type": "Feature",
        "id": n.id,
        "geometry": n.area,
        "properties": props.model_dump(mode="json"),
    }


def meeting_place_feature(network_feature: dict[str, Any]) -> dict[str, Any] | None:
    """A public network feature as a Feature of its meeting place (a Point), None without one:
    the collection `network-meeting-places`, one geometry type per collection as GIS layers
    need."""
    p = network_feature["properties"]
    if p.get("meeting_place_lon") is None or p.get("meeting_place_lat") is None:
        return None
    return {
        "type": "Feature",
        "id": network_feature["id"],
        "geometry": {
            "type": "Point",
            "coordinates": [p["meeting_place_lon"], p["meeting_place_lat"]],
        },
        "properties": p,
    }


def public_municipality(m: Municipality) -> dict[str, Any]:
    """A municipality as a Feature with its boundary (public reference data)."""
    contact = m.business_contact
    props = PublicMunicipalityProperties(
        kommunekode=public_code(m.kommunekode),
        name=m.name,
        region=m.region,
        business_contact_name=contact.name if contact else None,
        business_contact_email=contact.email if contact else None,
        business_contact_phone=contact.phone if contact else None,
        business_contact_website=contact.website if contact else None,
        business_contact_note=contact.note if contact else None,
    )
    return {
        "type": "Feature",
        "id": public_code(m.kommunekode),
        "geometry": m.boundary,
        "properties": props.model_dump(mode="json"),
    }
