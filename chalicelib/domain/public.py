"""The shapes of what the public sees: the properties of each public feature, once.

The privacy rules (`chalicelib.domain.privacy`) build their output through these models, the
OpenAPI document generates its feature schemas from them, and the open-data CSV takes its
columns from `PublicBusinessProperties`, so the three cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from chalicelib.domain.models import (
    CvrNumber,
    EmployeeGroup,
    Kommunekode,
    MunicipalityContact,
    Postcode,
)


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
    municipality: Kommunekode | None
    location_precision: Literal["address", "grid", "postcode"] | None = Field(
        description="How exact the geometry is: the address, a grid of about 250 m "
        "(personally owned firms), or the postcode."
    )
    reklamebeskyttet: bool = Field(
        description="Protected against marketing (CVR): contact details are never shown."
    )
    networks: list[str] = Field(description="Ids of the business networks it belongs to.")
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
        "municipalities, as kommunekode:size group separated by ; (e.g. 376:2-4;390:0; ? "
        "where the register gives no size): the workplace level of the employment figures. "
        "Null where the register's units were not read.",
    )
    updated_at: Timestamp


class PublicNetworkProperties(BaseModel):
    """The properties of a network feature; members only businesses shown to the public."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None
    website: str | None
    email: str | None
    phone: str | None
    municipalities: list[Kommunekode]
    meeting_place: GeoJsonPoint | None
    meeting_place_name: str | None
    tags: list[str]
    members: list[CvrNumber]
    member_count: int = Field(ge=0)
    founded: date | None
    updated_at: Timestamp


class PublicMunicipalityProperties(BaseModel):
    """The properties of a municipality feature (public reference data)."""

    model_config = ConfigDict(extra="forbid")
    kommunekode: Kommunekode
    name: str
    region: str | None
    business_contact: MunicipalityContact | None


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
