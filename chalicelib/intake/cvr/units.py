"""Production units (P-enheder, `VrproduktionsEnhed`): where a business works.

A company has one or more production units, each with its own address, main industry and
employees. Official employment statistics count jobs by workplace, so Mikrokort keeps each
business's units in the covered municipalities (`Business.workplaces`), and a company seated
elsewhere with an active unit in the area is shown at that unit, as a local workplace, instead
of leaving the map. The readers of the company mapping are reused: a unit document has the same
address, industry, employment and lifetime shapes as a company document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from chalicelib.domain.models import EMPLOYEE_GROUPS, Business, Workplace
from chalicelib.intake.cvr.mapping import (
    _CEASED_STATUSES,
    MalformedDocument,
    _address,
    _current,
    _dict,
    _employees,
    _entries,
    _industry,
    _int,
    _newest,
    _period,
    _reason,
    _register_status,
    _text,
    loaded_at,
)

UNIT_ROOT = "VrproduktionsEnhed"
_GROUP_RANK = {group: rank for rank, group in enumerate(EMPLOYEE_GROUPS)}


@dataclass(frozen=True)
class Unit:
    """One production unit as read from the register: its company and its workplace."""

    cvr: str | None  # the company it belongs to now (None: the register does not say)
    workplace: Workplace
    order: tuple[str, int]  # freshness: later loading time, then higher samtId, wins


def unit_of(hit: Any) -> dict[str, Any] | None:
    """The unit object in an ES hit, a `{"VrproduktionsEnhed": ...}` object, or None."""
    if not isinstance(hit, dict):
        return None
    if "_source" in hit:
        return unit_of(hit["_source"])
    unit = hit.get(UNIT_ROOT)
    return unit if isinstance(unit, dict) else None


def unit_numbers(company: dict[str, Any]) -> set[str] | None:
    """The P-numbers a company document lists in `penheder` (current and ended), or None when
    the document does not carry the list (then nothing can be concluded from it)."""
    entries = company.get("penheder")
    if not isinstance(entries, list):
        return None
    numbers = {_p_number(e.get("pNummer")) for e in _entries(entries)}
    return {n for n in numbers if n is not None}


def _p_number(value: Any) -> str | None:
    number = _int(value)
    text = str(number) if number is not None else ""
    return text if len(text) == 10 and text[0] != "0" else None


def _cvr_of_unit(unit: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """`nyesteCvrNummerRelation`, else the current entry of `virksomhedsrelation`."""
    raw = meta.get("nyesteCvrNummerRelation")
    if raw is None:
        raw = (_current(unit.get("virksomhedsrelation")) or {}).get("cvrNummer")
    number = _int(raw)
    text = str(number) if number is not None else ""
    return text if len(text) == 8 and text[0] != "0" else None


def _active(unit: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Active unless its status says ceased, every lifetime period has ended, or its tie to
    the company has ended (a unit the company gave up, as in unit2.json of
    magenta-aps/datafordeler-plugin-cvr: status "Ophørt", every period closed)."""
    if _register_status(_text(meta.get("sammensatStatus"))) in _CEASED_STATUSES:
        return False
    periods = [_period(e) for e in _entries(unit.get("livsforloeb"))]
    if periods and all(end is not None for _, end in periods):
        return False
    relation = _current(unit.get("virksomhedsrelation"))
    return relation is None or _period(relation)[1] is None


def map_unit(unit: dict[str, Any]) -> Unit:
    """The Unit a `VrproduktionsEnhed` document describes, or MalformedDocument saying why."""
    if not isinstance(unit, dict):
        raise MalformedDocument("not a production unit object")
    p_number = _p_number(unit.get("pNummer"))
    if p_number is None:
        shown = unit.get("pNummer")
        raise MalformedDocument(f"pNummer {str(shown)[:40]!r} is not 10 digits")
    meta = _dict(unit.get("produktionsEnhedMetadata")) or {}
    address = _address(_newest(unit, meta, "nyesteBeliggenhedsadresse", "beliggenhedsadresse"))
    name = _text((_newest(unit, meta, "nyesteNavn", "navne") or {}).get("navn"), 300)
    try:
        workplace = Workplace(
            p_number=p_number,
            name=name,
            **address,
            **_industry(_newest(unit, meta, "nyesteHovedbranche", "hovedbranche")),
            employees=_employees(unit, meta),
            active=_active(unit, meta),
        )
    except ValidationError as error:
        raise MalformedDocument(_reason(error)) from None
    loaded = loaded_at(unit)
    samt = unit.get("samtId")
    order = (
        loaded.astimezone(UTC).isoformat() if loaded else "",
        samt if isinstance(samt, int) else 0,
    )
    return Unit(cvr=_cvr_of_unit(unit, meta), workplace=workplace, order=order)


# -- where a business is shown ---------------------------------------------------------------


def seated_in(b: Business, covered: frozenset[str]) -> bool:
    """Whether the company's seat is in the covered municipalities. A business shown at a
    local unit (`seated_elsewhere`) carries the unit's address, so it is asked first."""
    return not b.seated_elsewhere and b.municipality in covered


def primary(workplaces: Iterable[Workplace]) -> Workplace | None:
    """The active unit a company seated elsewhere is shown at: the largest by size group
    (unknown sizes last), then the lowest P-number, so the choice is stable between runs."""
    active = [w for w in workplaces if w.active and w.municipality is not None]
    if not active:
        return None
    return min(active, key=lambda w: (-_GROUP_RANK.get(w.employees or "", -1), w.p_number))


def place(b: Business, workplaces: Iterable[Workplace] | None, covered: frozenset[str]) -> Business:
    """`b` with its units in the area, shown where it works.

    A company seated in the area stays at its seat (its units are kept beside it). A company
    seated elsewhere is shown at its primary active unit in the area: address, municipality,
    industry and employees become the unit's (the unit's own figure, or none: the company's
    would count jobs done elsewhere), marked `seated_elsewhere`. Without an active unit in
    the area it is `outside_area`. `workplaces` None means the units are not known: nothing
    about them changes.
    """
    units = None
    if workplaces is not None:
        units = sorted(
            (w for w in workplaces if w.municipality in covered), key=lambda w: w.p_number
        )
    if seated_in(b, covered):
        if units is None:
            return b
        return b.model_copy(update={"workplaces": units, "outside_area": False})
    if units is None:
        return b.model_copy(update={"outside_area": True})
    at = primary(units)
    if at is None:
        return b.model_copy(update={"workplaces": units, "outside_area": True})
    seat = b.seat_municipality if b.seated_elsewhere else b.municipality
    update: dict[str, Any] = {
        "workplaces": units,
        "outside_area": False,
        "seated_elsewhere": True,
        "seat_municipality": seat,
        "address": at.address,
        "address_id": at.address_id,
        "address_issue": at.address_issue,
        "postcode": at.postcode,
        "city": at.city,
        "municipality": at.municipality,
        "employees": at.employees,
    }
    if at.industry_code is not None:
        update.update(industry_code=at.industry_code, industry_text=at.industry_text)
    return b.model_copy(update=update)


def merge_units(
    held: list[Workplace] | None, seen: Iterable[Unit], covered: frozenset[str]
) -> list[Workplace]:
    """The units a business has in the area after reading `seen`: a unit now in the area is
    added or replaced, one now elsewhere is dropped. (A unit taken over by another company
    leaves the old one through `listed_units` when that company's document is read again.)"""
    by_number = {w.p_number: w for w in held or []}
    for unit in seen:
        if unit.workplace.municipality in covered:
            by_number[unit.workplace.p_number] = unit.workplace
        else:
            by_number.pop(unit.workplace.p_number, None)
    return list(by_number.values())


def listed_units(held: list[Workplace] | None, numbers: set[str] | None) -> list[Workplace] | None:
    """The held units the company document still lists in `penheder` (a unit sold to another
    company leaves the list); all of them when the document has no list."""
    if held is None or numbers is None:
        return held
    return [w for w in held if w.p_number in numbers]
