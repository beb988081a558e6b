"""Map one CVR company document (`Vrvirksomhed`) to a `Business`.

The register's documents are loosely typed: any field can be null, missing, a number where text
was expected or the other way round. Every reader here therefore checks types and gives None for
what it cannot read, so one odd document costs one business (`MalformedDocument`), never a run.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.models import _COMPANY_FORM, EMPLOYEE_GROUPS, Business, Contact
from chalicelib.domain.text import fold

_CVR = re.compile(r"^[1-9][0-9]{7}$")
_INTERVAL = re.compile(r"^ANTAL_([0-9]{1,7})_([0-9]{1,7})$")
_PHONE_NOISE = re.compile(r"[\s\-.()/]+")
_PHONE_PREFIX = re.compile(r"^(?:\+45|0045)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?)://(\S+)$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9æøå-]+(?:\.[a-z0-9æøå-]+)*\.[a-z]{2,}(?:/\S*)?$", re.I)
_CEASED_PREFIXES = ("ophørt", "opløst", "tvangsopløst", "slettet")
_NOT_COMPANY_ROOTS = ("VrproduktionsEnhed", "Vrdeltagerperson")
_EMPLOYMENT_SERIES = (
    ("nyesteErstMaanedsbeskaeftigelse", "erstMaanedsbeskaeftigelse"),
    ("nyesteMaanedsbeskaeftigelse", "maanedsbeskaeftigelse"),
    ("nyesteKvartalsbeskaeftigelse", "kvartalsbeskaeftigelse"),
    ("nyesteAarsbeskaeftigelse", "aarsbeskaeftigelse"),
)
_CONTACT_ARRAYS = (
    ("telefonNummer", "phone"),
    ("elektroniskPost", "email"),
    ("hjemmeside", "website"),
)


class MalformedDocument(ValueError):
    """A company document that cannot give a valid Business; the message says why, briefly."""


# --- the envelope ---------------------------------------------------------------------------


def company_of(hit: Any) -> dict[str, Any] | None:
    """The company object in an ES hit, a `{"Vrvirksomhed": ...}` object or a bare company.

    None for anything else (production units, participants, bookkeeping keys such as
    `NewestRetrievedFileTimestamp`), so a scroll loop can skip them without knowing them all.
    """
    if not isinstance(hit, dict):
        return None
    if "_source" in hit:
        return company_of(hit["_source"])
    if "Vrvirksomhed" in hit:
        company = hit["Vrvirksomhed"]
        return company if isinstance(company, dict) else None
    if "cvrNummer" in hit and not any(root in hit for root in _NOT_COMPANY_ROOTS):
        return hit
    return None


def loaded_at(company: Any) -> datetime | None:
    """When the register last loaded the document (`sidstIndlaest`): the incremental watermark.

    A timestamp without an offset is taken as UTC (the register always sends one).
    """
    if not isinstance(company, dict):
        return None
    return _timestamp(company.get("sidstIndlaest"))


# --- small, type-safe readers -------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # never part of a name or an address


def _text(value: Any, limit: int | None = None) -> str | None:
    """Stripped text (numbers become text), None when empty; cut to `limit` characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    return (text[:limit] if limit else text) or None


def _int(value: Any) -> int | None:
    """A non-negative integer from a JSON number or a string of ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)
    return None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    """The calendar date of an ISO date or timestamp, as written (no time-zone shift)."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _period(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    period = _dict(entry.get("periode")) or {}
    start, end = period.get("gyldigFra"), period.get("gyldigTil")
    return (start if isinstance(start, str) else None, end if isinstance(end, str) else None)


def _entries(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _current(value: Any) -> dict[str, Any] | None:
    """The current entry of a history array: an open period (the latest), else the latest."""

    def key(item: tuple[int, dict[str, Any]]) -> tuple[bool, str, str, int]:
        start, end = _period(item[1])
        return (end is None, end or "", start or "", item[0])

    entries = list(enumerate(_entries(value)))
    return max(entries, key=key)[1] if entries else None


def _latest_count(value: Any) -> dict[str, Any] | None:
    """The latest entry of an employment series (they carry aar/kvartal/maaned, no periode)."""

    def key(item: tuple[int, dict[str, Any]]) -> tuple[int, int, int]:
        e = item[1]
        part = _int(e.get("maaned")) or _int(e.get("kvartal")) or 0
        return (_int(e.get("aar")) or 0, part, item[0])

    entries = list(enumerate(_entries(value)))
    return max(entries, key=key)[1] if entries else None


def _newest(company: dict[str, Any], meta: dict[str, Any], field: str, history: str) -> Any:
    """`virksomhedMetadata.<field>`, else the current entry of the company's history array."""
    value = _dict(meta.get(field))
    return value if value is not None else _current(company.get(history))


# --- one helper per concern -------------------------------------------------------------------


def _cvr(company: dict[str, Any]) -> str:
    raw = company.get("cvrNummer")
    if raw is None or raw == "":
        raise MalformedDocument("no cvrNummer")
    number = _int(raw)
    text = str(number) if number is not None else ""
    if not _CVR.match(text):
        shown = repr(raw) if isinstance(raw, str) else str(raw)
        raise MalformedDocument(f"cvrNummer {shown[:40]} is not 8 digits")
    return text


def _name(company: dict[str, Any], meta: dict[str, Any]) -> str:
    name = _text((_newest(company, meta, "nyesteNavn", "navne") or {}).get("navn"), 300)
    if name is None:
        raise MalformedDocument("no name")
    return name


def _street(a: dict[str, Any]) -> str | None:
    """'Langgade 12B-14, 2. th' from the address parts, as the Danish address register writes it."""
    road = _text(a.get("vejnavn"))
    if road is None:
        return None
    number = "".join(filter(None, (_text(a.get("husnummerFra")), _text(a.get("bogstavFra")))))
    last = _text(a.get("husnummerTil"))
    if last:
        number += "-" + last + (_text(a.get("bogstavTil")) or "")
    line = f"{road} {number}".strip()
    floor, door = _text(a.get("etage")), _text(a.get("sidedoer"))
    if floor and not floor.endswith("."):
        floor += "."
    unit = " ".join(filter(None, (floor, door)))
    return f"{line}, {unit}" if unit else line


def _free_text(a: dict[str, Any]) -> str | None:
    value = a.get("fritekst")
    if not isinstance(value, str):
        return None
    return _text(", ".join(line.strip() for line in value.splitlines() if line.strip()))


def _address(a: dict[str, Any] | None) -> dict[str, Any]:
    """The address fields of a Business; an unusable address says why in `address_issue`."""
    if a is None:
        return {"address_issue": "no address in the register"}
    country = (_text(a.get("landekode")) or "DK").upper()
    postbox = _text(a.get("postboks"))
    box = f"Postboks {postbox}" if postbox else None
    if country != "DK":
        town = " ".join(filter(None, (_text(a.get("postnummer")), _text(a.get("postdistrikt")))))
        parts = (_street(a) or _free_text(a) or box, town, country)
        return {
            "address": ", ".join(filter(None, parts))[:300],
            "address_issue": f"foreign address ({country[:20]})",
        }
    postcode = _int(a.get("postnummer"))
    code = _int((_dict(a.get("kommune")) or {}).get("kommuneKode"))
    address_id = _text(a.get("adresseId"))
    fields: dict[str, Any] = {
        "postcode": f"{postcode:04d}" if postcode is not None and postcode <= 9999 else None,
        "city": _text(a.get("postdistrikt"), 100),
        "municipality": f"{code:03d}" if code is not None and code <= 999 else None,
        "address_id": address_id if address_id and len(address_id) <= 64 else None,
    }
    street = _street(a)
    if street:
        fields["address"] = street[:300]
    elif box:
        fields["address"], fields["address_issue"] = box[:300], "P.O. box: no street address"
    elif free := _free_text(a):
        fields["address"], fields["address_issue"] = free[:300], "address only as free text"
    else:
        fields["address_issue"] = "no address in the register"
    return fields


def _industry(branche: dict[str, Any] | None) -> dict[str, Any]:
    """DB07/DB25 code and text; an unknown DB25 code is kept (it only gets no section)."""
    if branche is None:
        return {}
    number = _int(branche.get("branchekode"))
    code = f"{number:06d}" if number is not None else None
    return {
        "industry_code": code if code and len(code) == 6 else None,
        "industry_text": _text(branche.get("branchetekst"), 300),
    }


def _company_form(form: dict[str, Any] | None) -> dict[str, Any]:
    if form is None:
        return {}
    short = _text(form.get("kortBeskrivelse"))
    short = short.upper() if short else None
    return {
        "company_form": short if short and _COMPANY_FORM.match(short) else None,
        "company_form_text": _text(form.get("langBeskrivelse"), 200),
    }


def _group_of_count(count: int) -> str | None:
    for group, (low, high) in EMPLOYEE_GROUPS.items():
        if low <= count and (high is None or count <= high):
            return group
    return None


def _group_of_interval(code: Any) -> str | None:
    """'ANTAL_5_9' -> '5-9', matched by bounds; an open top ('_999999') is the open group."""
    match = _INTERVAL.match(code) if isinstance(code, str) else None
    if match is None:
        return None
    low, high = int(match[1]), int(match[2])
    for group, (g_low, g_high) in EMPLOYEE_GROUPS.items():
        if low == g_low and (high == g_high or (g_high is None and high >= g_low)):
            return group
    return None


def _employees(company: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """The size group of the first series that has a figure, newest series (erst) first."""
    for field, history in _EMPLOYMENT_SERIES:
        entry = _dict(meta.get(field)) or _latest_count(company.get(history))
        if entry is None:
            continue
        interval, count = entry.get("intervalKodeAntalAnsatte"), entry.get("antalAnsatte")
        if interval is None and count is None:
            continue
        group = _group_of_interval(interval)
        if group is None and (number := _int(count)) is not None:
            group = _group_of_count(number)
        return group
    return None


def _lifetime(company: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Status, founded and ceased dates, checked against each other."""
    periods = [_period(e) for e in _entries(company.get("livsforloeb"))]
    status = _text(meta.get("sammensatStatus"))
    if status is None:
        status = _text((_current(company.get("virksomhedsstatus")) or {}).get("status"))
    closed = bool(periods) and all(end is not None for _, end in periods)
    ceased_status = fold(status).startswith(_CEASED_PREFIXES) if status else False

    founded = _date(meta.get("stiftelsesDato"))
    if founded is None:
        starts = [d for d in (_date(start) for start, _ in periods) if d]
        founded = min(starts) if starts else None

    ceased = None
    if ceased_status or closed:
        ends = [d for d in (_date(end) for _, end in periods) if d]
        ceased = (
            (max(ends) if ends else None)
            or _date(meta.get("virkningsDato"))
            or _date(company.get("sidstOpdateret"))
        )
        if ceased is None:
            raise MalformedDocument("ceased without a date")
    if founded and ceased and ceased < founded:
        raise MalformedDocument(f"ceased {ceased} before founded {founded}")
    return {"status": "ceased" if ceased else "active", "founded": founded, "ceased": ceased}


def _phone(value: str) -> str | None:
    digits = _PHONE_PREFIX.sub("", _PHONE_NOISE.sub("", value))
    if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
        return None
    return f"+45 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def _email(value: str) -> str | None:
    return value if len(value) <= 200 and _EMAIL.match(value) else None


def _website(value: str) -> str | None:
    if match := _URL.match(value):
        url = f"{match[1].lower()}://{match[2]}"
    elif "@" not in value and _DOMAIN.match(value):
        url = f"https://{value}"
    else:
        return None
    return url if len(url) <= 300 else None


_READERS = {"phone": _phone, "email": _email, "website": _website}


def _classify(value: str) -> tuple[str, str] | None:
    """Which kind of contact a bare string from `nyesteKontaktoplysninger` is, normalised."""
    for kind, read in _READERS.items():
        if (normal := read(value)) is not None:
            return kind, normal
    return None


def _contact_values(company: dict[str, Any]) -> tuple[list[tuple[str, str]], set[str]]:
    """Current, public values of the typed contact arrays, and the secret ones to leave out."""
    found: list[tuple[str, str]] = []
    secret: set[str] = set()
    for array, kind in _CONTACT_ARRAYS:
        for entry in _entries(company.get(array)):
            value = _text(entry.get("kontaktoplysning"))
            normal = _READERS[kind](value) if value is not None else None
            if normal is None:
                continue
            if entry.get("hemmelig") is True:
                secret.add(normal)
            elif _period(entry)[1] is None:
                found.append((kind, normal))
    return found, secret


def _contact(company: dict[str, Any], meta: dict[str, Any]) -> Contact:
    """Phone, e-mail and web site: the typed arrays first, then the mixed metadata list."""
    found, secret = _contact_values(company)
    listed = meta.get("nyesteKontaktoplysninger")
    for raw in listed if isinstance(listed, list) else ():
        value = _text(raw)
        kind = _classify(value) if value is not None else None
        if kind is not None and kind[1] not in secret:
            found.append(kind)
    first: dict[str, str] = {}
    for kind, value in found:
        first.setdefault(kind, value)
    return Contact(**first)


def _reason(error: ValidationError) -> str:
    """'postcode: String should match pattern ...' for the first failing field."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "document"
    return f"{field}: {first.get('msg', 'invalid')}"


def map_company(company: dict[str, Any]) -> Business:
    """The Business a company document describes, or MalformedDocument saying why not."""
    if not isinstance(company, dict):
        raise MalformedDocument("not a company object")
    meta = _dict(company.get("virksomhedMetadata")) or {}
    fields: dict[str, Any] = {
        "id": _cvr(company),
        "name": _name(company, meta),
        "reklamebeskyttet": bool(company.get("reklamebeskyttet")),
        "source": "cvr",
        **_address(_newest(company, meta, "nyesteBeliggenhedsadresse", "beliggenhedsadresse")),
        **_industry(_newest(company, meta, "nyesteHovedbranche", "hovedbranche")),
        **_company_form(_newest(company, meta, "nyesteVirksomhedsform", "virksomhedsform")),
        **_lifetime(company, meta),
    }
    try:
        return Business(
            **fields, employees=_employees(company, meta), contact=_contact(company, meta)
        )
    except ValidationError as error:
        raise MalformedDocument(_reason(error)) from None
