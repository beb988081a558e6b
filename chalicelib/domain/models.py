"""Domain models: Business, Network, Municipality, and the curated fields people own."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from chalicelib.domain.geo import in_denmark, validate_area
from chalicelib.domain.industry import section_of

CvrNumber = Annotated[str, Field(pattern=r"^[1-9][0-9]{7}$", description="8-digit CVR number")]
Kommunekode = Annotated[str, Field(pattern=r"^[0-9]{3}$", description="3-digit kommunekode")]
Postcode = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
PNumber = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{9}$", description="10-digit P-number (production unit)")
]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=2, max_length=80)]

# Size groups used by CVR (intervalKodeAntalAnsatte), published instead of exact head-counts.
EMPLOYEE_GROUPS: dict[str, tuple[int, int | None]] = {
    "0": (0, 0),
    "1": (1, 1),
    "2-4": (2, 4),
    "5-9": (5, 9),
    "10-19": (10, 19),
    "20-49": (20, 49),
    "50-99": (50, 99),
    "100-199": (100, 199),
    "200-499": (200, 499),
    "500-999": (500, 999),
    "1000+": (1000, None),
}
MICRO_GROUPS = frozenset({"0", "1", "2-4", "5-9"})
# A selection by size (FeatureQuery.sizes) names this for a business without a size group: the
# register has no employment figure for it, which mostly means nobody but the owner works there.
NO_SIZE_GROUP = ""
# The map's choices of size (the widget's size filter, the items page's): micro-businesses, the
# default, are those of 0-9 employees and those without a size group; the others have 10 or more
# (the two hold every business once: the map data counts the second as the rest).
SIZE_CHOICES: dict[str, tuple[str, ...]] = {
    "micro": (NO_SIZE_GROUP, *(g for g in EMPLOYEE_GROUPS if g in MICRO_GROUPS)),
    "larger": tuple(g for g in EMPLOYEE_GROUPS if g not in MICRO_GROUPS),
}


def _employee_group(value: str) -> str:
    if value not in EMPLOYEE_GROUPS:
        raise ValueError(f"employees must be one of {', '.join(EMPLOYEE_GROUPS)}")
    return value


# One of EMPLOYEE_GROUPS; its schema lists them, so API documents show the choices.
EmployeeGroup = Annotated[
    str,
    AfterValidator(_employee_group),
    Field(json_schema_extra={"enum": list(EMPLOYEE_GROUPS)}),
]

# Company forms (CVR kortBeskrivelse) owned by one or a few natural persons, whose registered
# address is often the owner's home: the privacy rules coarsen them unless they opt in.
PERSONALLY_OWNED_FORMS = frozenset({"ENK", "PMV", "I/S", "DØD", "FFO"})
# The company forms known to be a legal person of their own. The privacy rules protect every
# other business as a person's: an unknown or missing form fails closed.
ENTITY_FORMS = frozenset(
    {
        "A/S",  # aktieselskab
        "APS",  # anpartsselskab
        "IVS",  # iværksætterselskab
        "P/S",  # partnerselskab
        "K/S",  # kommanditselskab
        "KAS",  # kommanditaktieselskab
        "SMBA",  # selskab med begrænset ansvar
        "FMBA",  # forening med begrænset ansvar
        "AMBA",  # andelsselskab med begrænset ansvar
        "FON",  # fond
        "EFO",  # erhvervsdrivende fond
        "SE",  # europæisk selskab
        "SCE",  # europæisk andelsselskab
        "KOM",  # kommune
        "REG",  # region
        "STA",  # statslig administrativ enhed
    }
)


# The same rule on the register's numeric form code (virksomhedsformkode), which the register
# fills in where the short text is missing or spelt in a way not listed above. Codes as the
# register's form list gives them (see docs/CVR_REFRESH.md for the sources).
PERSONALLY_OWNED_FORM_CODES = frozenset(
    {
        10,  # enkeltmandsvirksomhed (ENK)
        15,  # personligt ejet mindre virksomhed (PMV)
        20,  # dødsbo (DØD)
        30,  # interessentskab (I/S)
        50,  # partrederi: owned by the shipowners themselves
        115,  # frivillig forening (FFO)
    }
)
ENTITY_FORM_CODES = frozenset(
    {
        40,  # kommanditselskab (K/S)
        45,  # medarbejderinvesteringsselskab
        60,  # aktieselskab (A/S)
        70,  # kommanditaktieselskab / partnerselskab (KAS, P/S)
        80,  # anpartsselskab (APS)
        81,  # iværksætterselskab (IVS)
        90,  # fond (FON)
        100,  # erhvervsdrivende fond (EFO)
        130,  # andelsselskab (-forening)
        140,  # andelsselskab (-forening) med begrænset ansvar (AMBA)
        150,  # forening eller selskab med begrænset ansvar
        151,  # selskab med begrænset ansvar (SMBA)
        152,  # forening med begrænset ansvar (FMBA)
        195,  # SCE-selskab (SCE)
        230,  # offentlige arbejdspladser: state, regions, municipalities
        235,
        245,
        250,
        260,  # folkekirkelige institutioner
        290,  # SE-selskab (SE)
    }
)


def is_personal_form(form: str | None, code: int | None = None) -> bool:
    """Whether a company form gets the privacy of a person, read from the short text and the
    numeric code together: either one naming a person's form is enough, and only a form known
    to be a legal person of its own (by text or code) is not protected. Unknown and missing
    forms are protected."""
    short = (form or "").strip().upper()
    if short in PERSONALLY_OWNED_FORMS or code in PERSONALLY_OWNED_FORM_CODES:
        return True
    return short not in ENTITY_FORMS and code not in ENTITY_FORM_CODES


# The register's status (`sammensatStatus`), normalised; which of them count as ceased is
# decided by the register mapping (`chalicelib/intake/cvr/mapping.py`, docs/CVR_REFRESH.md).
RegisterStatus = Literal[
    "normal",  # NORMAL, Aktiv
    "future",  # FREMTID: registered with a start date still to come
    "under_bankruptcy",  # UNDER KONKURS
    "under_voluntary_liquidation",  # UNDER FRIVILLIG LIKVIDATION
    "under_compulsory_dissolution",  # UNDER TVANGSOPLØSNING
    "under_reconstruction",  # UNDER REKONSTRUKTION
    "under_reassumption",  # UNDER REASSUMERING
    "without_legal_effect",  # UDEN RETSVIRKNING: the registration has no legal effect
    "ceased",  # OPHØRT
    "dissolved",  # OPLØST, OPLØST EFTER ... (erklæring, fusion, spaltning, konkurs, ...)
    "compulsorily_dissolved",  # TVANGSOPLØST
    "deleted",  # SLETTET
    "unknown",  # a status text not in this list (kept out of the active/ceased decision)
]

_COMPANY_FORM = re.compile(r"^[A-ZÆØÅ0-9/.&-]{1,12}$")


class Point(BaseModel):
    """A WGS84 longitude/latitude inside Denmark."""

    model_config = ConfigDict(frozen=True)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _inside_denmark(self) -> Point:
        if not in_denmark(self.lon, self.lat):
            raise ValueError(f"point ({self.lon}, {self.lat}) lies outside Denmark")
        return self

    def geojson(self) -> dict[str, Any]:
        return {"type": "Point", "coordinates": [self.lon, self.lat]}


class Contact(BaseModel):
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")

    def is_empty(self) -> bool:
        return not (self.phone or self.email or self.website)


class Curation(BaseModel):
    """Fields owned by people, never overwritten by a register refresh."""

    model_config = ConfigDict(extra="forbid")
    show_address: bool = False  # the owner opted in to show the exact address and point
    show_contact: bool = False  # the owner opted in to show contact details
    hidden: bool = False  # hidden from every public output on request
    location: Point | None = None  # a manual fix of a wrong geocode
    note: str | None = Field(default=None, max_length=500)


# Validation context for documents read back from a store: their areas were checked (shapely,
# the costly part) when they were written, so reading them again need not repeat it.
STORED = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def cvr_check_digit(first_seven: str) -> int | None:
    """The eighth digit that makes a CVR number of these seven (modulus 11, weights
    2,7,6,5,4,3,2,1), or None when no digit can."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    digit = (11 - sum(w * int(d) for w, d in zip(weights, first_seven, strict=True)) % 11) % 11
    return digit if digit < 10 else None


def is_cvr_number(text: str) -> bool:
    """Eight ASCII digits: `isdigit()` alone also passes '١٠٠٠٠٠٠٤' (which int() reads as a
    real CVR number) and '1234567²' (which int() refuses)."""
    return len(text) == 8 and text.isascii() and text.isdigit()


class Workplace(BaseModel):
    """A production unit (P-enhed) of a business in a covered municipality: a place where the
    business works, with its own address, industry and employees as the register keeps them.

    Official employment statistics count jobs where people work, not where the company is
    seated, so the unit's own employee figure is kept beside the company's."""

    model_config = ConfigDict(extra="forbid")
    p_number: PNumber
    name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=300)
    address_id: str | None = Field(default=None, max_length=64)
    address_issue: str | None = Field(default=None, max_length=200)
    postcode: Postcode | None = None
    city: str | None = Field(default=None, max_length=100)
    municipality: Kommunekode | None = None
    industry_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    industry_text: str | None = Field(default=None, max_length=300)
    employees: EmployeeGroup | None = None  # the unit's own size group (workplace level)
    active: bool = True


# Fields added with the production units: left out of a business's serialised form while they
# hold their defaults, so documents written before them keep their content hash and a refresh
# does not rewrite every stored business once.
_OMITTED_AT_DEFAULT = {"workplaces": None, "seated_elsewhere": False, "seat_municipality": None}


class Business(BaseModel):
    """One business, identified by its CVR number."""

    id: CvrNumber
    name: str = Field(min_length=1, max_length=300)
    industry_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    industry_text: str | None = Field(default=None, max_length=300)
    company_form: str | None = None
    company_form_code: int | None = Field(default=None, ge=0, le=9999)  # virksomhedsformkode
    company_form_text: str | None = Field(default=None, max_length=200)
    employees: EmployeeGroup | None = None
    status: Literal["active", "ceased"] = "active"
    register_status: RegisterStatus | None = None  # the register's own status, normalised
    founded: date | None = None
    ceased: date | None = None
    address: str | None = Field(default=None, max_length=300)
    address_id: str | None = Field(default=None, max_length=64)  # DAR UUID (CVR adresseId)
    address_issue: str | None = Field(default=None, max_length=200)  # why no usable address
    postcode: Postcode | None = None
    city: str | None = Field(default=None, max_length=100)
    municipality: Kommunekode | None = None
    location: Point | None = None
    location_precision: Literal["address", "grid", "postcode"] | None = None
    reklamebeskyttet: bool = False
    outside_area: bool = False  # moved out of the municipalities this deployment covers
    # Its production units in the covered municipalities, by P-number; None when the units
    # were never read (a file of company documents only), [] when it has none in the area.
    workplaces: list[Workplace] | None = None
    # A local workplace of a company seated outside the covered municipalities: address,
    # municipality, industry and employees are then its unit's (see `workplaces`).
    seated_elsewhere: bool = False
    seat_municipality: Kommunekode | None = None  # the seat's kommunekode, when elsewhere
    contact: Contact = Field(default_factory=Contact)
    curated: Curation = Field(default_factory=Curation)
    networks: list[str] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = "cvr"

    @field_validator("company_form")
    @classmethod
    def _company_form(cls, v: str | None) -> str | None:
        if v is not None and not _COMPANY_FORM.match(v):
            raise ValueError("company_form must be a CVR short form such as ENK, APS, A/S")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Business:
        if self.ceased is not None and self.founded is not None and self.ceased < self.founded:
            raise ValueError("ceased lies before founded")
        if self.status == "ceased" and self.ceased is None:
            raise ValueError("a ceased business needs its ceased date")
        if self.location is not None and self.location_precision is None:
            self.location_precision = "address"
        return self

    @model_serializer(mode="wrap")
    def _without_unset_unit_fields(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data = handler(self)
        for name, default in _OMITTED_AT_DEFAULT.items():
            if name in data and data[name] == default:
                del data[name]
        return data

    @property
    def industry_section(self) -> str | None:
        return section_of(self.industry_code) if self.industry_code else None

    @property
    def public(self) -> bool:
        """Shown in public outputs at all: not hidden on request and still in our area."""
        return not (self.curated.hidden or self.outside_area)

    @property
    def personally_owned(self) -> bool:
        """Protected as a person's by the privacy rules (fails closed on an unknown form)."""
        return is_personal_form(self.company_form, self.company_form_code)

    def active_on(self, day: date) -> bool:
        """Registered and not yet ceased on that day."""
        started = self.founded is None or self.founded <= day
        return started and (self.ceased is None or self.ceased > day)


class Network(BaseModel):
    """A local business network: who meets where, and who is a member."""

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    contact: Contact = Field(default_factory=Contact)
    municipalities: list[Kommunekode] = Field(default_factory=list, max_length=98)
    meeting_place: Point | None = None
    meeting_place_name: str | None = Field(default=None, max_length=200)
    area: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=30
    )
    members: list[CvrNumber] = Field(default_factory=list, max_length=5000)
    founded: date | None = None
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("area")
    @classmethod
    def _valid_area(cls, v: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        if v is None or _stored(info):
            return v
        return validate_area(v)

    @field_validator("members")
    @classmethod
    def _unique_members(cls, v: list[str]) -> list[str]:
        return sorted(set(v))

    @model_validator(mode="after")
    def _located(self) -> Network:
        if self.meeting_place is None and self.area is None:
            raise ValueError("a network needs a meeting_place, an area, or both")
        return self

    def geometry(self) -> dict[str, Any]:
        """The map geometry: the area where there is one, else the meeting place."""
        if self.area is not None:
            return self.area
        assert self.meeting_place is not None
        return self.meeting_place.geojson()


class MunicipalityContact(BaseModel):
    """Who in the municipality answers micro-businesses, and how to reach them (public)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)  # a unit or a person's work title
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9 +()-]{6,40}$")
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    note: str | None = Field(default=None, max_length=500)


class Municipality(BaseModel):
    kommunekode: Kommunekode
    name: str
    region: str | None = None
    boundary: dict[str, Any]
    business_contact: MunicipalityContact | None = None

    @field_validator("boundary")
    @classmethod
    def _valid_boundary(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return v if _stored(info) else validate_area(v)
