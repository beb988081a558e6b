"""CVR company documents built from Businesses: the inverse of `chalicelib.intake.cvr.mapping`.

Stand-in servers and benchmarks need many register documents in the real shape (top-level
identity and timestamps, `penheder`, `livsforloeb`, the typed contact arrays, the employment
histories and `virksomhedMetadata`), with values that map back to the Business they came from.
The stand-in server answers with only the fields a search asks for in `_source`, as the register
does, so a field the client forgets to ask for is missing in tests too.

`variant_documents` builds the register's awkward cases on top of these documents, as real
documents carry them (secret and fax numbers, ended contacts, "Uoplyst" industries, every status,
zero-padded floors, size intervals inside a group, c/o addresses, placeholder dates, a form given
only by its code): see docs/CVR_REFRESH.md for the public documents each one was taken from.
"""

from __future__ import annotations

import copy
import csv
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from chalicelib.domain.models import EMPLOYEE_GROUPS, Business, Contact, cvr_check_digit
from chalicelib.domain.reference import DATA

_CET = timezone(timedelta(hours=1))
_DEFAULT_LOADED = datetime(2025, 11, 4, 10, 23, 5, 412000, tzinfo=_CET)
_ADDRESS_NAMESPACE = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://mikrokort.example/standins/cvr/adresse"
)
_ADDRESS = re.compile(
    r"^(?P<road>.*?\S)\s+(?P<number>[0-9]+)(?P<letter>[A-ZÆØÅ])?"
    r"(?:-(?P<to>[0-9]+)(?P<to_letter>[A-ZÆØÅ])?)?"
    r"(?:,\s*(?P<floor>[^\s.]+)\.?(?:\s+(?P<door>\S+))?)?$"
)
# virksomhedsformkode of the common forms, as the register numbers them (the form list decoded
# in ballerupgis' CVR map app and in other clients: 151 SMBA, 152 FMBA, 140 AMBA)
FORM_CODES = {
    "ENK": 10,
    "PMV": 15,
    "DØD": 20,
    "I/S": 30,
    "K/S": 40,
    "A/S": 60,
    "P/S": 70,
    "KAS": 70,
    "APS": 80,
    "IVS": 81,
    "FON": 90,
    "EFO": 100,
    "FFO": 115,
    "AMBA": 140,
    "SMBA": 151,
    "FMBA": 152,
}


@lru_cache(maxsize=1)
def _municipality_names() -> dict[str, str]:
    """3-digit kommunekode -> name in capitals, as the register writes `kommuneNavn`."""
    with (DATA / "dk_kommunekoder.csv").open(encoding="utf-8") as f:
        return {row["kommunekode"][-3:]: row["navn"].upper() for row in csv.DictReader(f)}


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def address_id_of(b: Business) -> str:
    """The stand-in DAR address id: stable for the same business at the same address."""
    key = f"{b.id}|{b.address or ''}|{b.postcode or ''}"
    return str(uuid.uuid5(_ADDRESS_NAMESPACE, key))


def _street_parts(address: str | None) -> dict[str, Any]:
    """'Langgade 12B-14, 2. th' split into the register's vejnavn/husnummer/etage fields."""
    parts: dict[str, Any] = dict.fromkeys(
        ("vejnavn", "husnummerFra", "bogstavFra", "husnummerTil", "bogstavTil", "etage", "sidedoer")
    )
    if not address:
        return parts
    match = _ADDRESS.match(address)
    if match is None:
        parts["vejnavn"] = address
        return parts
    parts.update(
        vejnavn=match["road"],
        husnummerFra=int(match["number"]),
        bogstavFra=match["letter"],
        husnummerTil=int(match["to"]) if match["to"] else None,
        bogstavTil=match["to_letter"],
        etage=match["floor"],
        sidedoer=match["door"],
    )
    return parts


def _address(b: Business, period: dict[str, Any], updated: str) -> dict[str, Any] | None:
    if b.address is None and b.postcode is None and b.municipality is None:
        return None
    kommune = None
    if b.municipality is not None:
        kommune = {
            "kommuneKode": int(b.municipality),
            "kommuneNavn": _municipality_names().get(b.municipality),
            "periode": {"gyldigFra": "2007-01-01", "gyldigTil": None},
            "sidstOpdateret": "2006-11-13T00:00:00.000+01:00",
        }
    return {
        "landekode": "DK",
        "fritekst": None,
        "vejkode": None,
        "kommune": kommune,
        **_street_parts(b.address),
        "adresseId": address_id_of(b) if b.address else None,
        "sidstValideret": updated,
        "conavn": None,
        "postboks": None,
        "bynavn": None,
        "postnummer": int(b.postcode) if b.postcode else None,
        "postdistrikt": b.city,
        "periode": period,
        "sidstOpdateret": updated,
    }


def _employment(group: str | None, loaded: datetime, updated: str) -> dict[str, Any] | None:
    if group is None:
        return None
    low, high = EMPLOYEE_GROUPS[group]
    interval = f"ANTAL_{low}_{high if high is not None else 999999}"
    return {
        "aar": loaded.year,
        "maaned": loaded.month,
        "antalAarsvaerk": low,
        "antalAnsatte": low,
        "sidstOpdateret": updated,
        "intervalKodeAntalAarsvaerk": interval,
        "intervalKodeAntalAnsatte": interval,
    }


def register_phone(phone: str | None) -> str | None:
    """'+45 61 23 45 67' as the register writes it: '61234567'."""
    if not phone:
        return None
    return "".join(phone.removeprefix("+45").split())


def _contact_list(b: Business) -> list[str]:
    """The mixed list the register calls `nyesteKontaktoplysninger` (phones without +45)."""
    values = (register_phone(b.contact.phone), b.contact.email, b.contact.website)
    return [v for v in values if v]


def contact_entry(
    value: str, *, secret: bool = False, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """One entry of a typed contact array (`telefonNummer`, `telefaxNummer`, ...)."""
    return {
        "kontaktoplysning": value,
        "hemmelig": secret,
        "periode": {"gyldigFra": start, "gyldigTil": end},
        "sidstOpdateret": _stamp(_DEFAULT_LOADED),
    }


def _contact_arrays(b: Business, start: str | None) -> dict[str, list[dict[str, Any]]]:
    """The typed arrays, in the order and with the empty ones a real document has."""
    phone = register_phone(b.contact.phone)
    return {
        "telefonNummer": [contact_entry(phone, start=start)] if phone else [],
        "telefaxNummer": [],
        "sekundaertTelefonNummer": [],
        "sekundaertTelefaxNummer": [],
        "elektroniskPost": (
            [contact_entry(b.contact.email, start=start)] if b.contact.email else []
        ),
        "hjemmeside": [contact_entry(b.contact.website, start=start)] if b.contact.website else [],
        "obligatoriskEmail": [],
    }


def company_document(
    b: Business, *, samt_id: int = 1, loaded: datetime | None = None
) -> dict[str, Any]:
    """A `Vrvirksomhed` object describing `b`, as the register's search returns it."""
    loaded = loaded or _DEFAULT_LOADED
    stamp = _stamp(loaded)
    period = {"gyldigFra": _day(b.founded), "gyldigTil": None}
    enheds_nummer = 4_000_000_000 + int(b.id)
    form = None
    if b.company_form or b.company_form_text or b.company_form_code is not None:
        code = b.company_form_code
        if code is None:
            code = FORM_CODES.get(b.company_form or "")
        form = {
            "virksomhedsformkode": code,
            "kortBeskrivelse": b.company_form,
            "langBeskrivelse": b.company_form_text,
            "ansvarligDataleverandoer": "E&S",
            "periode": period,
            "sidstOpdateret": stamp,
        }
    industry = None
    if b.industry_code or b.industry_text:
        industry = {
            "branchekode": b.industry_code,
            "branchetekst": b.industry_text,
            "periode": period,
            "sidstOpdateret": stamp,
        }
    employment = _employment(b.employees, loaded, stamp)
    return {
        "cvrNummer": int(b.id),
        "enhedsNummer": enheds_nummer,
        "samtId": samt_id,
        "sidstIndlaest": stamp,
        "sidstOpdateret": stamp,
        "reklamebeskyttet": b.reklamebeskyttet,
        **_contact_arrays(b, _day(b.founded)),
        "aarsbeskaeftigelse": [],
        "kvartalsbeskaeftigelse": [],
        "maanedsbeskaeftigelse": [],
        "erstMaanedsbeskaeftigelse": [employment] if employment else [],
        "livsforloeb": [
            {
                "periode": {"gyldigFra": _day(b.founded), "gyldigTil": _day(b.ceased)},
                "sidstOpdateret": stamp,
            }
        ],
        "penheder": [
            {"pNummer": 1_000_000_000 + int(b.id), "periode": period, "sidstOpdateret": stamp}
        ],
        "virksomhedMetadata": {
            "nyesteNavn": {"navn": b.name, "periode": period, "sidstOpdateret": stamp},
            "nyesteBinavne": [],
            "nyesteVirksomhedsform": form,
            "nyesteBeliggenhedsadresse": _address(b, period, stamp),
            "nyesteHovedbranche": industry,
            "nyesteBibranche1": None,
            "nyesteBibranche2": None,
            "nyesteBibranche3": None,
            "nyesteStatus": None,
            "nyesteKontaktoplysninger": _contact_list(b),
            "antalPenheder": 1,
            "nyesteAarsbeskaeftigelse": None,
            "nyesteKvartalsbeskaeftigelse": None,
            "nyesteMaanedsbeskaeftigelse": None,
            "nyesteErstMaanedsbeskaeftigelse": employment,
            "sammensatStatus": "OPHØRT" if b.status == "ceased" else "NORMAL",
            "stiftelsesDato": _day(b.founded),
            "virkningsDato": _day(b.ceased or b.founded),
        },
    }


def hit(company: dict[str, Any]) -> dict[str, Any]:
    """`company` wrapped as one hit of a scroll page."""
    return {
        "_index": "cvr-v-20220630",
        "_type": "_doc",
        "_id": str(company["enhedsNummer"]),
        "_score": None,
        "_source": {"Vrvirksomhed": company},
    }


# -- the register's awkward cases ---------------------------------------------------------------

# Every status text a variant carries: the register's sammensatStatus list (spelt as it does).
REGISTER_STATUSES = (
    "NORMAL",
    "Aktiv",
    "FREMTID",
    "UNDER KONKURS",
    "UNDER FRIVILLIG LIKVIDATION",
    "UNDER TVANGSOPLØSNING",
    "UNDER REKONSTRUKTION",
    "UNDER REASSUMERING",
    "UDEN RETSVIRKNING",
    "OPHØRT",
    "OPLØST EFTER ERKLÆRING",
    "OPLØST EFTER FRIVILLIG LIKVIDATION",
    "OPLØST EFTER FUSION",
    "OPLØST EFTER KONKURS",
    "OPLØST EFTER SPALTNING",
    "TVANGSOPLØST",
    "SLETTET",
    "Noget helt nyt",  # a text the register may add one day
)
_GONE = ("UDEN RETSVIRKNING", "OPHØRT", "OPLØST", "TVANGSOPLØST", "SLETTET")


def variant_business(cvr: str = "38000017") -> Business:
    """The plain company every variant starts from: an ApS in Nykøbing F with public contact
    details, so any contact a variant lets through would be published."""
    return Business(
        id=cvr,
        name="Variant Tømrer ApS",
        industry_code="433200",
        industry_text="Tømrer- og bygningssnedkervirksomhed",
        company_form="APS",
        company_form_text="Anpartsselskab",
        employees="2-4",
        founded=date(2016, 4, 1),
        address="Langgade 12",
        postcode="4800",
        city="Nykøbing F",
        municipality="376",
        contact=Contact(email="kontakt@variant.example", website="https://variant.example"),
    )


def _cvr_numbers(first: int) -> Any:
    """Valid CVR numbers (modulus 11) from 38xxxxx on, one per variant."""
    n = first
    while True:
        seven = f"38{n:05d}"
        digit = cvr_check_digit(seven)
        if digit is not None:
            yield f"{seven}{digit}"
        n += 1


def _employment_entry(
    year: int, interval: str | None, *, month: int | None = None, quarter: int | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"aar": year}
    if month is not None:
        entry["maaned"] = month
    if quarter is not None:
        entry["kvartal"] = quarter
    entry.update(
        antalAarsvaerk=None,
        antalAnsatte=None,
        sidstOpdateret=_stamp(_DEFAULT_LOADED),
        intervalKodeAntalAarsvaerk=interval,
        intervalKodeAntalAnsatte=interval,
    )
    return entry


def _contacts(company: dict[str, Any], **arrays: list[dict[str, Any]]) -> None:
    """Set typed arrays and, as the register does, list every current value (secret and fax
    ones included) in the untyped metadata list."""
    company.update(arrays)
    listed = [
        e["kontaktoplysning"]
        for name in (
            "telefonNummer",
            "telefaxNummer",
            "sekundaertTelefonNummer",
            "elektroniskPost",
            "hjemmeside",
        )
        for e in company.get(name, [])
        if e["periode"]["gyldigTil"] is None
    ]
    company["virksomhedMetadata"]["nyesteKontaktoplysninger"] = listed


def variant_documents(
    base: Business | None = None, *, loaded: datetime | None = None, first: int = 1
) -> dict[str, dict[str, Any]]:
    """Company documents, one per awkward case, each under its own CVR number (in the order of
    the names). Values to be withheld are in the documents themselves (`hemmelig: true`, the
    fax arrays, periods with an end), so a test can collect them from there."""
    base = base or variant_business()
    numbers = _cvr_numbers(first)
    out: dict[str, dict[str, Any]] = {}

    def make(name: str, **update: Any) -> dict[str, Any]:
        b = base.model_copy(update={"id": next(numbers), **update})
        out[name] = company_document(b, samt_id=3, loaded=loaded)
        return out[name]

    start = _day(base.founded)
    # contacts
    c = make("secret_phone")
    _contacts(
        c,
        telefonNummer=[contact_entry("61234567", secret=True, start=start)],
        elektroniskPost=[contact_entry("kontakt@variant.example", start=start)],
    )
    c = make("secret_email", contact=base.contact.model_copy(update={"phone": "+45 51 11 22 33"}))
    _contacts(
        c,
        telefonNummer=[contact_entry("51112233", start=start)],
        elektroniskPost=[contact_entry("hemmelig@variant.example", secret=True, start=start)],
    )
    c = make("fax_only")
    _contacts(
        c,
        telefonNummer=[],
        telefaxNummer=[contact_entry("62345678", start=start)],
        elektroniskPost=[contact_entry("kontakt@variant.example", start=start)],
    )
    c = make("fax_and_phone")
    _contacts(
        c,
        telefonNummer=[contact_entry("52223344", start=start)],
        telefaxNummer=[contact_entry("52223345", start=start)],
        sekundaertTelefaxNummer=[contact_entry("52223346", start=start)],
    )
    c = make("ended_contacts")
    _contacts(
        c,
        telefonNummer=[contact_entry("63456789", start=start, end="2020-12-31")],
        elektroniskPost=[contact_entry("gammel@variant.example", start=start, end="2021-06-30")],
        hjemmeside=[contact_entry("https://variant.example", start="2021-07-01")],
    )
    c = make("secondary_phone")
    _contacts(c, sekundaertTelefonNummer=[contact_entry("53334455", start=start)])
    # industry
    for code in ("980000", "999999"):
        c = make(f"industry_{code}")
        c["virksomhedMetadata"]["nyesteHovedbranche"].update(
            branchekode=code, branchetekst="Uoplyst"
        )
    # status
    for status in REGISTER_STATUSES:
        gone = status.upper().startswith(_GONE)
        c = make(f"status {status}")
        meta = c["virksomhedMetadata"]
        meta["sammensatStatus"] = status
        if gone:
            c["livsforloeb"][0]["periode"]["gyldigTil"] = "2024-06-30"
            meta["virkningsDato"] = "2024-06-30"
    # form given only by its numeric code
    for code in (10, 15, 30, 80):
        c = make(f"form_code_{code}")
        form = c["virksomhedMetadata"]["nyesteVirksomhedsform"]
        form.update(virksomhedsformkode=code, kortBeskrivelse=None, langBeskrivelse=None)
    # address
    c = make("zero_padded_floor", address="Langgade 12, 3. tv")
    c["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]["etage"] = "03"
    c = make("care_of")
    c["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]["conavn"] = "c/o Revisorhuset Falster"
    # dates
    c = make("placeholder_founded", founded=date(1901, 1, 1))
    # employees
    c = make("interval_inside_a_group", employees=None)
    c["aarsbeskaeftigelse"] = [_employment_entry(2015, "ANTAL_20_29")]
    c["virksomhedMetadata"]["nyesteAarsbeskaeftigelse"] = copy.deepcopy(c["aarsbeskaeftigelse"][0])
    c = make("open_top_interval", employees=None)
    c["erstMaanedsbeskaeftigelse"] = [_employment_entry(2025, "ANTAL_1000_", month=9)]
    c = make("newest_series_wins", employees=None)
    c["maanedsbeskaeftigelse"] = [_employment_entry(2016, "ANTAL_1_1", month=12)]
    c["kvartalsbeskaeftigelse"] = [_employment_entry(2019, "ANTAL_2_4", quarter=3)]
    c["aarsbeskaeftigelse"] = [
        _employment_entry(2022, "ANTAL_5_9"),
        _employment_entry(2023, "ANTAL_10_19"),
    ]
    meta = c["virksomhedMetadata"]
    meta["nyesteMaanedsbeskaeftigelse"] = copy.deepcopy(c["maanedsbeskaeftigelse"][0])
    meta["nyesteKvartalsbeskaeftigelse"] = copy.deepcopy(c["kvartalsbeskaeftigelse"][0])
    meta["nyesteAarsbeskaeftigelse"] = copy.deepcopy(c["aarsbeskaeftigelse"][0])  # lags
    return out


def withheld_values(companies: Iterable[dict[str, Any]]) -> set[str]:
    """Every contact value of these documents that must never be published: secret ones, fax
    numbers and ended ones, as the register writes them (8-digit numbers, addresses)."""
    values: set[str] = set()
    for company in companies:
        for name in (
            "telefonNummer",
            "sekundaertTelefonNummer",
            "telefaxNummer",
            "sekundaertTelefaxNummer",
            "elektroniskPost",
            "hjemmeside",
        ):
            for e in company.get(name) or []:
                fax = "fax" in name.lower()
                if fax or e.get("hemmelig") is not False or e["periode"].get("gyldigTil"):
                    values.add(str(e["kontaktoplysning"]))
    return values


# -- production units (P-enheder) ---------------------------------------------------------------


def p_number_of(cvr: str | int) -> int:
    """The stand-in P-number of a company's seat unit: 10 digits, as the register's are."""
    return 1_000_000_000 + int(cvr)


def seat_unit(company: dict[str, Any], *, p_number: int | None = None) -> dict[str, Any]:
    """The `VrproduktionsEnhed` of a company document's seat: every company has a production
    unit where it works, and a company with one unit has it at its address, with its
    industry and its employees. The shape follows magenta-aps/datafordeler-plugin-cvr
    src/test/resources/unit2.json (@ 02889c68): pNummer a JSON number, the company in
    `virksomhedsrelation` and `produktionsEnhedMetadata.nyesteCvrNummerRelation`, the same
    address, industry, employment and lifetime arrays as a company, "Aktiv"/"Ophørt"."""
    meta = company.get("virksomhedMetadata") or {}
    cvr = company["cvrNummer"]
    if p_number is None:
        listed = [e.get("pNummer") for e in company.get("penheder") or [] if isinstance(e, dict)]
        p_number = next((p for p in listed if isinstance(p, int)), None) or p_number_of(cvr)
    lifetime = copy.deepcopy(company.get("livsforloeb") or [])
    status = str(meta.get("sammensatStatus") or "").upper()
    ended = bool(lifetime) and all((e.get("periode") or {}).get("gyldigTil") for e in lifetime)
    closed = ended or status.startswith(_GONE)  # a unit ends with its company
    start = (lifetime[0].get("periode") or {}).get("gyldigFra") if lifetime else None
    end = max(((e.get("periode") or {}).get("gyldigTil") or "" for e in lifetime), default="")
    stamp = company.get("sidstOpdateret")
    address = copy.deepcopy(meta.get("nyesteBeliggenhedsadresse"))
    industry = copy.deepcopy(meta.get("nyesteHovedbranche"))
    name = copy.deepcopy(meta.get("nyesteNavn"))

    def series(name: str) -> list[dict[str, Any]]:
        return copy.deepcopy(company.get(name) or [])

    return {
        "pNummer": p_number,
        "enhedsNummer": 4_100_000_000 + int(cvr) % 100_000_000,
        "enhedstype": "PRODUKTIONSENHED",
        "samtId": company.get("samtId"),
        "sidstIndlaest": company.get("sidstIndlaest"),
        "sidstOpdateret": stamp,
        "reklamebeskyttet": company.get("reklamebeskyttet", False),
        "navne": [name] if name else [],
        "beliggenhedsadresse": [address] if address else [],
        "postadresse": [],
        "hovedbranche": [industry] if industry else [],
        "bibranche1": [],
        "bibranche2": [],
        "bibranche3": [],
        "aarsbeskaeftigelse": series("aarsbeskaeftigelse"),
        "kvartalsbeskaeftigelse": series("kvartalsbeskaeftigelse"),
        "maanedsbeskaeftigelse": series("maanedsbeskaeftigelse"),
        "erstMaanedsbeskaeftigelse": series("erstMaanedsbeskaeftigelse"),
        "livsforloeb": lifetime,
        "virksomhedsrelation": [
            {
                "cvrNummer": cvr,
                "periode": {"gyldigFra": start, "gyldigTil": end if ended else None},
                "sidstOpdateret": stamp,
            }
        ],
        # the register lists the unit's participants here; the client never asks for them
        "deltagerRelation": [],
        "attributter": [],
        "produktionsEnhedMetadata": {
            "nyesteNavn": copy.deepcopy(name),
            "nyesteBeliggenhedsadresse": copy.deepcopy(address),
            "nyesteHovedbranche": copy.deepcopy(industry),
            "nyesteBibranche1": None,
            "nyesteBibranche2": None,
            "nyesteBibranche3": None,
            "nyesteKontaktoplysninger": list(meta.get("nyesteKontaktoplysninger") or []),
            "nyesteCvrNummerRelation": cvr,
            "nyesteAarsbeskaeftigelse": copy.deepcopy(meta.get("nyesteAarsbeskaeftigelse")),
            "nyesteKvartalsbeskaeftigelse": copy.deepcopy(meta.get("nyesteKvartalsbeskaeftigelse")),
            "nyesteMaanedsbeskaeftigelse": copy.deepcopy(meta.get("nyesteMaanedsbeskaeftigelse")),
            "nyesteErstMaanedsbeskaeftigelse": copy.deepcopy(
                meta.get("nyesteErstMaanedsbeskaeftigelse")
            ),
            "sammensatStatus": "Ophørt" if closed else "Aktiv",
        },
        "fejlRegistreret": False,
        "fejlVedIndlaesning": False,
        "fejlBeskrivelse": None,
        "dataAdgang": 0,
        "naermesteFremtidigeDato": None,
        "virkningsAktoer": "R",
    }


def unit_document(
    place: Business,
    *,
    cvr: str,
    p_number: int,
    samt_id: int = 1,
    loaded: datetime | None = None,
) -> dict[str, Any]:
    """A production unit of company `cvr` described by `place` (its address, industry,
    employees, name and founding/ceasing dates), e.g. a local branch of a company seated
    elsewhere."""
    doc = seat_unit(company_document(place, samt_id=samt_id, loaded=loaded), p_number=p_number)
    number = int(cvr)
    doc["virksomhedsrelation"][0]["cvrNummer"] = number
    doc["produktionsEnhedMetadata"]["nyesteCvrNummerRelation"] = number
    doc["enhedsNummer"] = 4_200_000_000 + p_number % 100_000_000
    return doc


def unit_hit(unit: dict[str, Any]) -> dict[str, Any]:
    """`unit` wrapped as one hit of the `produktionsenhed` index."""
    return {
        "_index": "cvr-v-20220630",
        "_type": "_doc",
        "_id": str(unit["enhedsNummer"]),
        "_score": None,
        "_source": {"VrproduktionsEnhed": unit},
    }
