"""The shapes of what the public sees: the properties of each public feature, once.

The privacy rules (`chalicelib.domain.privacy`) build their output through these models, the
OpenAPI document generates its feature schemas from them, and the open-data CSV takes its
columns from `PublicBusinessProperties`, so the three cannot drift apart.

Every property holds one value (text, number, date, boolean or null), because GIS files hold
nothing else: QGIS and GDAL write a feature with a list or a nested object to no format at all.
Lists are `|`-joined text (`LIST_SEPARATOR`), a nested object is its own fields, and a
kommunekode has four digits ("0376"), as DAGI and every official data set write it (the
service keeps three inside; `public_code` and `internal_code` convert).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from chalicelib.domain.models import EmployeeGroup, Postcode

# "|", not ";": GDAL cannot read GeoJSON given as text when a value holds a ";"
LIST_SEPARATOR = "|"

PublicKommunekode = Annotated[
    str, Field(pattern=r"^[0-9]{4}$", description="4-digit kommunekode, as DAGI writes it")
]


def public_code(code: str) -> str:
    """A kommunekode as published: four digits ("376" -> "0376")."""
    return code.zfill(4)


def internal_code(code: str) -> str:
    """A published kommunekode as the service keeps it: three digits ("0376" -> "376")."""
    return code[-3:]


def joined(items: list[str]) -> str:
    """A list as one text property ("" for none)."""
    return LIST_SEPARATOR.join(items)


def split(text: str | None) -> list[str]:
    """A `|`-joined text property as its list."""
    return [part for part in (text or "").split(LIST_SEPARATOR) if part]


def municipality_contact(props: dict) -> dict | None:
    """The business contact of a public municipality's properties, as one object (None when
    the municipality has none)."""
    if not props.get("business_contact_name"):
        return None
    return {
        field: props.get(f"business_contact_{field}")
        for field in ("name", "email", "phone", "website", "note")
    }


def business_network_ids(props: dict) -> list[str]:
    """The network ids of a public business's properties."""
    return split(props.get("networks"))


def network_codes(props: dict) -> list[str]:
    """The kommunekoder (three digits, as kept inside) of a public network's properties."""
    return [internal_code(c) for c in split(props.get("municipalities"))]


def _seconds(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


# Published to the second with its UTC offset, as the features have always carried it.
Timestamp = Annotated[
    datetime,
    PlainSerializer(_seconds, return_type=str, when_used="json"),
    Field(json_schema_extra={"type": "string", "format": "date-time"}),
]


class GeoJsonPoint(BaseModel):
    """A GeoJSON Point: longitude, latitude (CRS84 unless a `crs` parameter asks otherwise)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2)


class PublicBusinessProperties(BaseModel):
    """The properties of a public business feature, after the privacy rules."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Registered name.")
    industry_code: str | None = Field(
        pattern=r"^[0-9]{6}$", description="Main industry, DB07 (or DB25) code."
    )
    industry_text: str | None = Field(description="Main industry, text.")
    industry_section: str | None = Field(
        pattern=r"^[A-U]$", description="DB07 section letter; null when the code is unknown."
    )
    company_form: str | None = Field(description="CVR company form, short (ENK, APS, A/S).")
    company_form_text: str | None = Field(description="CVR company form, text.")
    employees: EmployeeGroup | None = Field(description="Size group of employees.")
    status: Literal["active", "ceased"]
    founded: date | None
    ceased: date | None = Field(description="Ceasing date; null while active.")
    address: str | None = Field(
        description="Street address; null for personally owned firms that did not opt in to "
        "show it."
    )
    postcode: Postcode | None
    city: str | None = Field(description="Postal district.")
    municipality: PublicKommunekode | None
    location_precision: Literal["address", "grid", "postcode"] | None = Field(
        description="How exact the geometry is: the address, a grid of about 250 m "
        "(personally owned firms), or the postcode."
    )
    reklamebeskyttet: bool = Field(
        description="Protected against marketing (CVR): contact details are never shown."
    )
    networks: str = Field(
        max_length=4000,
        description="Ids of the business networks it belongs to, separated by | (empty: none).",
    )
    phone: str | None = Field(description="Public phone, where the privacy rules allow.")
    email: str | None = Field(description="Public e-mail, where the privacy rules allow.")
    website: str | None = Field(description="Website, where the privacy rules allow.")
    seated_elsewhere: bool = Field(
        description="A local workplace (production unit) of a company seated outside the "
        "municipalities covered: address, municipality, industry and employees are the unit's.",
    )
    workplaces: str | None = Field(
        max_length=4000,
        description="The business's active workplaces (production units) in the covered "
        "municipalities, as kommunekode:size group separated by | (e.g. 0376:2-4|0390:0; ? "
        "where the register gives no size): the workplace level of the employment figures. "
        "Null where the register's units were not read.",
    )
    updated_at: Timestamp


class PublicNetworkProperties(BaseModel):
    """The properties of a network feature (its area, or its meeting place). Who the members
    are is on the businesses (`networks`, and `?network=` on the businesses); here only how
    many of them the public sees."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None
    website: str | None
    email: str | None
    phone: str | None
    municipalities: str = Field(
        description="The kommunekoder (4 digits) it works in, separated by |."
    )
    meeting_place_name: str | None
    meeting_place_lon: float | None = Field(description="Meeting place, WGS84 longitude.")
    meeting_place_lat: float | None = Field(description="Meeting place, WGS84 latitude.")
    tags: str = Field(description="Tags, separated by | (empty: none).")
    member_count: int = Field(ge=0, description="Members shown to the public.")
    founded: date | None
    updated_at: Timestamp


class PublicMunicipalityProperties(BaseModel):
    """The properties of a municipality feature (public reference data)."""

    model_config = ConfigDict(extra="forbid")
    kommunekode: PublicKommunekode
    name: str
    region: str | None
    business_contact_name: str | None = Field(
        description="Who answers micro-businesses in the municipality (a unit or a work title)."
    )
    business_contact_email: str | None
    business_contact_phone: str | None
    business_contact_website: str | None
    business_contact_note: str | None


# The CSV of the open-data snapshot: the feature id, then the business properties in the
# model's order with the point's longitude and latitude before its precision. Two properties
# stay out of its published format: the service's own timestamp, and the marketing-protection
# flag (protected firms are in the bulk files only where they consented).
_CSV_LEAVES_OUT = frozenset({"reklamebeskyttet", "updated_at"})
_CSV_POINT_BEFORE = "location_precision"


def _csv_columns() -> list[str]:
    columns = ["id"]
    for name in PublicBusinessProperties.model_fields:
        if name in _CSV_LEAVES_OUT:
            continue
        if name == _CSV_POINT_BEFORE:
            columns += ["lon", "lat"]
        columns.append(name)
    return columns


PUBLIC_BUSINESS_COLUMNS: list[str] = _csv_columns()
