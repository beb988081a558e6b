"""Map one CVR company document (`Vrvirksomhed`) to a `Business`.

The register's documents are loosely typed: any field can be null, missing, a number where text
was expected or the other way round. Every reader here therefore checks types and gives None for
what it cannot read, so one odd document costs one business (`MalformedDocument`), never a run.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.models import (
    _COMPANY_FORM,
    EMPLOYEE_GROUPS,
    Business,
    Contact,
    RegisterStatus,
)

_CVR = re.compile(r"^[1-9][0-9]{7}$")
# 'ANTAL_5_9', 'ANTAL_1000_999999' and the open 'ANTAL_1000_': the spellings of the register's
# size intervals (magenta-aps/datafordeler-plugin-cvr CompanyNumbersRecord.java parses
# ANTAL_<low>_<high>; its test documents also carry ANTAL_20_29, which lies inside 20-49).
_INTERVAL = re.compile(r"^ANTAL_([0-9]{1,7})_([0-9]{0,7})$")
_OPEN_TOP = 999_999  # the register's "and more"
_PHONE_NOISE = re.compile(r"[\s\-.()/]+")
_PHONE_PREFIX = re.compile(r"^(?:\+45|0045)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?)://(\S+)$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9æøå-]+(?:\.[a-z0-9æøå-]+)*\.[a-z]{2,}(?:/\S*)?$", re.I)
_NOT_COMPANY_ROOTS = ("VrproduktionsEnhed", "Vrdeltagerperson")
# (metadata field, history array, how the period is given, rank when two periods end together)
_EMPLOYMENT_SERIES = (
    ("nyesteErstMaanedsbeskaeftigelse", "erstMaanedsbeskaeftigelse", "maaned", 3),
    ("nyesteMaanedsbeskaeftigelse", "maanedsbeskaeftigelse", "maaned", 2),
    ("nyesteKvartalsbeskaeftigelse", "kvartalsbeskaeftigelse", "kvartal", 1),
    ("nyesteAarsbeskaeftigelse", "aarsbeskaeftigelse", None, 0),
)
# The typed contact arrays of a company document (each entry: kontaktoplysning, hemmelig,
# periode), as in magenta-aps/datafordeler-plugin-cvr src/test/resources/company_in.json and
# alexdor/regtic workers/vat-dk/cvr_parser.js.
_CONTACT_ARRAYS = (
    ("telefonNummer", "phone"),
    ("sekundaertTelefonNummer", "phone"),
    ("elektroniskPost", "email"),
    ("hjemmeside", "website"),
)
_FAX_ARRAYS = ("telefaxNummer", "sekundaertTelefaxNummer")
# Branchekoder meaning "not stated" (branchetekst "Uoplyst"): 980000 and 999999 in the
# register's documents (alexdor/regtic workers/vat-dk/cvr_parser.js, magenta-aps/
# datafordeler-plugin-cvr src/test/resources/company_in.json). Not DB07 divisions 98 and 99.
_UNSTATED_INDUSTRY = frozenset({"980000", "999999"})
# The register's founding date for old units whose real date it does not know: every period
# of an old foundation starts on it in alexdor/regtic cvr_parser.js (@ d28988b2).
_PLACEHOLDER_DATES = frozenset({date(1901, 1, 1)})
_CARE_OF = re.compile(r"(?:^|[\s,])c/o\b", re.IGNORECASE)
# sammensatStatus, compared as capital letters only ('UNDER KONKURS', 'Under konkurs' and
# 'UNDERKONKURS' alike). The values: the register's status list as other clients of the same
# service decode it (e.g. 'UDEN RETSVIRKNING', 'UNDER REASSUMERING', 'OPLØST EFTER SPALTNING').
_STATUSES: dict[str, RegisterStatus] = {
    "NORMAL": "normal",
    "AKTIV": "normal",
    "FREMTID": "future",
    "UNDERKONKURS": "under_bankruptcy",
    "UNDERFRIVILLIGLIKVIDATION": "under_voluntary_liquidation",
    "UNDERTVANGSOPLØSNING": "under_compulsory_dissolution",
    "UNDERREKONSTRUKTION": "under_reconstruction",
    "UNDERREASSUMERING": "under_reassumption",
    "UDENRETSVIRKNING": "without_legal_effect",
    "OPHØRT": "ceased",
    "TVANGSOPLØST": "compulsorily_dissolved",
    "SLETTET": "deleted",
}
# Statuses of a business that no longer exists, or whose registration has no legal effect.
_CEASED_STATUSES = frozenset(
    {"ceased", "dissolved", "compulsorily_dissolved", "deleted", "without_legal_effect"}
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
    if road is None or _CARE_OF.search(road):
        return None
    number = "".join(filter(None, (_text(a.get("husnummerFra")), _text(a.get("bogstavFra")))))
    last = _text(a.get("husnummerTil"))
    if last:
        number += "-" + last + (_text(a.get("bogstavTil")) or "")
    line = f"{road} {number}".strip()
    floor, door = _floor(a.get("etage")), _text(a.get("sidedoer"))
    if floor and not floor.endswith("."):
        floor += "."
    unit = " ".join(filter(None, (floor, door)))
    return f"{line}, {unit}" if unit else line


def _floor(value: Any) -> str | None:
    """'2', 'st', 'kl': the register writes numeric floors zero-padded too ('03', '01' in
    magenta-aps/datafordeler-plugin-cvr src/test/resources/company_in.json); DAR writes '3.'."""
    floor = _text(value)
    if floor and floor.isascii() and floor.isdigit():
        return str(int(floor))
    return floor


def _free_text(a: dict[str, Any]) -> str | None:
    """The free-text address, less any c/o line (it names someone else, often a person)."""
    value = a.get("fritekst")
    if not isinstance(value, str):
        return None
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    return _text(", ".join(line for line in lines if not _CARE_OF.search(line)))


def _care_of(a: dict[str, Any]) -> bool:
    """Whether the business is registered at someone else's address: `conavn` set (a firm of
    advisers, often a person), or a 'c/o' written into the street or free text."""
    if _text(a.get("conavn")):
        return True
    return any(
        isinstance(a.get(key), str) and _CARE_OF.search(a[key]) for key in ("vejnavn", "fritekst")
    )


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
    if _care_of(a) and "address_issue" not in fields:
        # the point would be the host's (a law firm, an accountant, a relative), not the firm's
        fields["address_issue"] = "c/o address: registered at another party's address"
    return fields


def _industry(branche: dict[str, Any] | None) -> dict[str, Any]:
    """DB07/DB25 code and text; an unknown DB25 code is kept (it only gets no section). The
    register's "Uoplyst" codes say the industry is not known: no code, no text, no section."""
    if branche is None:
        return {}
    number = _int(branche.get("branchekode"))
    code = f"{number:06d}" if number is not None else None
    if code in _UNSTATED_INDUSTRY:
        return {"industry_code": None, "industry_text": None}
    return {
        "industry_code": code if code and len(code) == 6 else None,
        "industry_text": _text(branche.get("branchetekst"), 300),
    }


def _company_form(form: dict[str, Any] | None) -> dict[str, Any]:
    if form is None:
        return {}
    short = _text(form.get("kortBeskrivelse"))
    short = short.upper() if short else None
    code = _int(form.get("virksomhedsformkode"))
    return {
        "company_form": short if short and _COMPANY_FORM.match(short) else None,
        "company_form_code": code if code is not None and code <= 9999 else None,
        "company_form_text": _text(form.get("langBeskrivelse"), 200),
    }


def _group_of_count(count: int) -> str | None:
    for group, (low, high) in EMPLOYEE_GROUPS.items():
        if low <= count and (high is None or count <= high):
            return group
    return None


def _group_of_interval(code: Any) -> str | None:
    """'ANTAL_5_9' -> '5-9': the size group the interval lies wholly inside ('ANTAL_20_29' ->
    '20-49'); an open top ('ANTAL_1000_999999', 'ANTAL_1000_') is the open group; an interval
    across two groups is None."""
    match = _INTERVAL.match(code.strip().upper()) if isinstance(code, str) else None
    if match is None:
        return None
    low = int(match[1])
    high = int(match[2]) if match[2] and int(match[2]) < _OPEN_TOP else None
    if high is not None and high < low:
        return None
    for group, (g_low, g_high) in EMPLOYEE_GROUPS.items():
        inside_top = g_high is None or (high is not None and high <= g_high)
        if g_low <= low and inside_top and (g_high is None or low <= g_high):
            return group
    return None


def _period_end(entry: dict[str, Any], part: str | None) -> date:
    """The last day an employment figure covers: its month, quarter or year. Undated entries
    sort first (date.min), so any dated figure is newer."""
    year = _int(entry.get("aar"))
    if year is None or not 1900 <= year <= 9999:
        return date.min
    if part is None:
        return date(year, 12, 31)
    number = _int(entry.get(part))
    month = number if part == "maaned" else (number * 3 if number else None)
    if month is None or not 1 <= month <= 12:
        return date(year, 12, 31)  # the year is known, its part is not: the year's end
    return date(year, month, calendar.monthrange(year, month)[1])


def _size_group(entry: dict[str, Any]) -> str | None:
    group = _group_of_interval(entry.get("intervalKodeAntalAnsatte"))
    if group is None and (number := _int(entry.get("antalAnsatte"))) is not None:
        group = _group_of_count(number)
    return group


def _employees(company: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """The size group of the newest figure across the erst, monthly, quarterly and yearly
    series, by the end of the period it covers; on the same end the finer series wins (erst,
    monthly, quarterly, yearly). The metadata's `nyeste*` entries can lag behind the history
    arrays, so both are read."""
    best: tuple[date, int, str] | None = None
    for field, history, part, rank in _EMPLOYMENT_SERIES:
        entries = _entries(company.get(history))
        if (newest := _dict(meta.get(field))) is not None:
            entries.append(newest)
        for entry in entries:
            group = _size_group(entry)
            if group is None:
                continue
            key = (_period_end(entry, part), rank, group)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


def _lifetime(company: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Status, founded and ceased dates, checked against each other."""
    periods = [_period(e) for e in _entries(company.get("livsforloeb"))]
    status = _text(meta.get("sammensatStatus"))
    if status is None:
        status = _text((_current(company.get("virksomhedsstatus")) or {}).get("status"))
    register_status = _register_status(status)
    closed = bool(periods) and all(end is not None for _, end in periods)
    ceased_status = register_status in _CEASED_STATUSES

    founded = _known_date(meta.get("stiftelsesDato"))
    if founded is None:
        starts = [d for d in (_known_date(start) for start, _ in periods) if d]
        founded = min(starts) if starts else None

    ceased = None
    if ceased_status or closed:
        ends = [d for d in (_date(end) for _, end in periods) if d]
        ceased = (
            (max(ends) if ends else None)
            or _known_date(meta.get("virkningsDato"))
            or _known_date(_period(_current(company.get("virksomhedsstatus")) or {})[0])
            or _date(company.get("sidstOpdateret"))
        )
        if ceased is None:
            raise MalformedDocument("ceased without a date")
    if founded and ceased and ceased < founded:
        raise MalformedDocument(f"ceased {ceased} before founded {founded}")
    return {
        "status": "ceased" if ceased else "active",
        "register_status": register_status,
        "founded": founded,
        "ceased": ceased,
    }


def _register_status(text: str | None) -> RegisterStatus | None:
    """The normalised `sammensatStatus`; every 'OPLØST ...' is dissolved; a text not known
    here is 'unknown' (the lifetime periods then decide between active and ceased)."""
    if text is None:
        return None
    letters = "".join(c for c in text.upper() if c.isalpha())
    if letters in _STATUSES:
        return _STATUSES[letters]
    if letters.startswith("OPLØST"):
        return "dissolved"
    return "unknown"


def _known_date(value: Any) -> date | None:
    """A date, except the register's placeholder for a date it does not know (1901-01-01)."""
    day = _date(value)
    return None if day in _PLACEHOLDER_DATES else day


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


def _public_entry(entry: dict[str, Any]) -> bool:
    """Current and not secret: `hemmelig` must say false (a missing flag is not taken as
    consent), and a period with an end date is over."""
    return entry.get("hemmelig") is False and _period(entry)[1] is None


def _withheld(company: dict[str, Any]) -> set[str]:
    """Values never to publish, normalised as a phone, e-mail or site: every secret entry
    of any contact array, and every fax number (current or not), so a number the register
    also lists as secret or as a fax stays out in any spelling."""
    withheld: set[str] = set()
    for array in [*(name for name, _ in _CONTACT_ARRAYS), *_FAX_ARRAYS]:
        fax = array in _FAX_ARRAYS
        for entry in _entries(company.get(array)):
            value = _text(entry.get("kontaktoplysning"))
            if value is None or not (fax or entry.get("hemmelig") is not False):
                continue
            for read in _READERS.values():
                if (normal := read(value)) is not None:
                    withheld.add(normal)
            withheld.add(value)
    return withheld


def _contact(company: dict[str, Any]) -> Contact:
    """Phone, e-mail and web site from the typed arrays only: the newest current, non-secret
    entry of each kind, never a fax. `virksomhedMetadata.nyesteKontaktoplysninger` is not
    read: it is a bare list that mixes phones with fax numbers and secret values, with
    nothing to tell them apart."""
    withheld = _withheld(company)
    best: dict[str, tuple[str, str]] = {}
    for array, kind in _CONTACT_ARRAYS:
        for entry in _entries(company.get(array)):
            value = _text(entry.get("kontaktoplysning"))
            normal = _READERS[kind](value) if value is not None else None
            if normal is None or normal in withheld or not _public_entry(entry):
                continue
            start = _period(entry)[0] or ""
            if kind not in best or start > best[kind][0]:
                best[kind] = (start, normal)
    return Contact(**{kind: normal for kind, (_, normal) in best.items()})


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
        return Business(**fields, employees=_employees(company, meta), contact=_contact(company))
    except ValidationError as error:
        raise MalformedDocument(_reason(error)) from None
