"""The yearly barometer: the figures behind the press release, per municipality and in total.

Computed in one pass over the public businesses (the same features the snapshot publishes), so
it runs alongside the snapshot without a second read and never sees more than the public does.
Estimates (jobs, tax) follow parameters from a config file, which travel with the result.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from chalicelib import DATA_DIR
from chalicelib.domain.models import MICRO_GROUPS, PERSONALLY_OWNED_FORMS
from chalicelib.domain.public import (
    LIST_SEPARATOR,
    business_network_ids,
    internal_code,
    network_codes,
)
from chalicelib.domain.reference import official_name

DEFAULT_CONFIG = DATA_DIR / "barometer.toml"
HISTORY_YEARS = 10
NOTES = {
    "da": [
        "Størrelse og virksomhedsform er virksomhedernes nuværende (registret leverer ikke "
        "tidligere størrelser); antallet i tidligere år er regnet ud fra stiftelses- og "
        "ophørsdatoer.",
        "Mikrovirksomheder har 0-9 ansatte. Virksomheder, der har bedt om ikke at blive vist, "
        "tælles ikke med.",
        "Ansatte og anslåede job er opgjort på virksomhedsniveau for virksomheder med hjemsted "
        "i kommunen: alle deres ansatte, også dem, der arbejder andre steder. En virksomhed med "
        "hjemsted i en anden kommune tælles med sit lokale arbejdssted (produktionsenhed) i "
        "kommunen og kun de ansatte dér (arbejdsstedsniveau).",
    ],
    "en": [
        "Size and company form are the businesses' current ones (the register does not supply "
        "past sizes); counts for earlier years are derived from founding and closing dates.",
        "Micro-businesses have 0-9 employees. Businesses that asked not to be shown are not "
        "counted.",
        "Employees and estimated jobs are at company level for businesses seated in the "
        "municipality: all their employees, also those who work elsewhere. A business seated "
        "in another municipality is counted at its local workplace (production unit) in the "
        "municipality, with only the employees there (workplace level).",
    ],
}


@dataclass(frozen=True)
class Parameters:
    jobs_by_group: dict[str, float]
    working_owners: float
    jobs_method: str
    income_dkk: float
    default_rate: float
    rates: dict[str, float]
    tax_method: str
    source: str

    def rate(self, kommunekode: str) -> float:
        return self.rates.get(kommunekode, self.default_rate)

    def jobs(self, group: str | None, form: str | None) -> float:
        owners = self.working_owners if (form or "") in PERSONALLY_OWNED_FORMS else 0.0
        return self.jobs_by_group.get(group or "", 0.0) + owners

    def shown(self) -> dict[str, Any]:
        """The parameters as printed beside the result."""
        return {
            "jobs": {
                "method": self.jobs_method,
                "jobs_by_size_group": self.jobs_by_group,
                "working_owners_per_personal_business": self.working_owners,
            },
            "tax": {
                "method": self.tax_method,
                "average_taxable_income_dkk": self.income_dkk,
                "default_rate": self.default_rate,
                "rates": self.rates,
                "source": self.source,
            },
        }


def load_parameters(path: str | None = None) -> Parameters:
    """The estimate parameters from `path` (Settings.barometer_config), or the shipped ones."""
    path = path or str(DEFAULT_CONFIG)
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    jobs = dict(doc["jobs"])
    tax = dict(doc["tax"])
    return Parameters(
        jobs_by_group={
            k: float(v)
            for k, v in jobs.items()
            if k not in ("method", "working_owners_per_personal_business")
        },
        working_owners=float(jobs.get("working_owners_per_personal_business", 0)),
        jobs_method=str(jobs.get("method", "")),
        income_dkk=float(tax["average_taxable_income_dkk"]),
        default_rate=float(tax["default_rate"]),
        rates={str(k).zfill(3): float(v) for k, v in (tax.get("rates") or {}).items()},
        tax_method=str(tax.get("method", "")),
        source=str(tax.get("source", "")),
    )


def active_on(p: dict[str, Any], day: str) -> bool:
    """Registered and not yet ceased on that ISO day, from public properties."""
    founded, ceased = p.get("founded"), p.get("ceased")
    return (founded is None or founded <= day) and (ceased is None or ceased > day)


def _zero() -> dict[str, float]:
    return defaultdict(float)


@dataclass
class _Area:
    """Counters of one municipality (or the total)."""

    year_end: dict[str, float] = field(default_factory=_zero)
    by_section: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(_zero))
    by_form: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(_zero))
    series: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(_zero))


class BarometerBuilder:
    """Feed it public business properties with `add`; `result` gives the barometer.

    The municipalities are named by their kommunekoder; their names come from the reference
    data by code (the official names), so a figure is never labelled with a bare code."""

    def __init__(self, year: int, municipalities: tuple[str, ...], params: Parameters) -> None:
        self.year = year
        self.municipalities = tuple(sorted(set(municipalities)))
        self.params = params
        self.first_year = year - HISTORY_YEARS + 1
        self._ends = {y: date(y, 12, 31).isoformat() for y in range(self.first_year - 1, year + 1)}
        self._areas: dict[str, _Area] = defaultdict(_Area)
        # the networks of each public business that belongs to any: members are counted from
        # the businesses' side (the network features carry only member_count)
        self._memberships: list[frozenset[str]] = []

    def add(self, p: dict[str, Any]) -> None:
        self._add_workplaces(p)
        if nets := business_network_ids(p):
            self._memberships.append(frozenset(nets))
        code = internal_code(p["municipality"]) if p.get("municipality") else None
        if code not in self.municipalities:
            return
        founded, ceased = p.get("founded"), p.get("ceased")
        group, form = p.get("employees"), p.get("company_form")
        micro = group in MICRO_GROUPS
        jobs = self.params.jobs(group, form)
        section = p.get("industry_section") or "?"
        founded_year = int(founded[:4]) if founded else None
        ceased_year = int(ceased[:4]) if ceased else None
        for area in (self._areas[code], self._areas["total"]):
            for y in range(self.first_year - 1, self.year + 1):
                end = self._ends[y]
                s = area.series[y]
                if active_on(p, end):
                    s["all"] += 1
                    s["jobs_all"] += jobs
                    if micro:
                        s["micro"] += 1
                        s["jobs_micro"] += jobs
                if founded_year == y:
                    s["new"] += 1
                if ceased_year == y:
                    s["closed"] += 1
            end = self._ends[self.year]
            if active_on(p, end):
                ye = area.year_end
                ye["all"] += 1
                ye["jobs_all"] += jobs
                if group is None:
                    ye["size_unknown"] += 1
                if micro:
                    ye["micro"] += 1
                    ye["jobs_micro"] += jobs
                    ye["micro_reklamebeskyttet"] += 1 if p.get("reklamebeskyttet") else 0
                    area.by_section[section]["micro"] += 1
                    area.by_section[section]["jobs_micro"] += jobs
                    area.by_form[form or "?"]["micro"] += 1
                    area.by_form[form or "?"]["jobs_micro"] += jobs
            if founded_year == self.year:
                area.by_section[section]["new"] += 1
            if ceased_year == self.year:
                area.by_section[section]["closed"] += 1

    def _add_workplaces(self, p: dict[str, Any]) -> None:
        """Jobs of the micro-businesses counted where the work is done (workplace level): each
        active unit's size group in its own municipality, a working owner once where the
        business is shown. A business whose units were not read counts at its own place."""
        group, form = p.get("employees"), p.get("company_form")
        if group not in MICRO_GROUPS or not active_on(p, self._ends[self.year]):
            return
        units = [u.partition(":") for u in (p.get("workplaces") or "").split(LIST_SEPARATOR) if u]
        home = internal_code(p["municipality"]) if p.get("municipality") else None
        if units:
            owners = self.params.jobs(None, form)  # a working owner, once
            credits = [(home, owners)] + [
                (internal_code(code), self.params.jobs(None if size == "?" else size, None))
                for code, _, size in units
            ]
        else:
            credits = [(home, self.params.jobs(group, form))]
        for code, jobs in credits:
            if code in self.municipalities:
                for area in (self._areas[code], self._areas["total"]):
                    area.year_end["jobs_workplaces"] += jobs
                    area.year_end["workplaces_known"] += 1 if units else 0

    def result(self, networks: list[dict[str, Any]]) -> dict[str, Any]:
        """The barometer document (JSON-ready)."""
        per = {
            code: self._figures(code, self._areas[code], networks) for code in self.municipalities
        }
        total = self._figures("total", self._areas["total"], networks)
        total["tax_estimate_dkk"] = round(sum(m["tax_estimate_dkk"] for m in per.values()))
        return {
            "year": self.year,
            "as_of": f"{self.year}-12-31",
            "micro_definition": "0-9 employees (CVR size groups 0, 1, 2-4, 5-9)",
            "parameters": self.params.shown(),
            "notes": NOTES,
            "total": total,
            "municipalities": per,
        }

    def _figures(self, code: str, area: _Area, networks: list[dict[str, Any]]) -> dict[str, Any]:
        ye, series = area.year_end, area.series
        now, before = series[self.year], series[self.year - 1]
        micro_jobs = ye["jobs_micro"]
        total = code == "total"
        out: dict[str, Any] = {
            # the official names, as the release prints them (the total has none)
            "name": None if total else official_name(code, "da"),
            "name_en": None if total else official_name(code, "en"),
            "micro_businesses": int(ye["micro"]),
            "all_businesses": int(ye["all"]),
            "size_unknown": int(ye["size_unknown"]),
            "micro_share": _share(ye["micro"], ye["all"]),
            "jobs_micro": round(micro_jobs, 1),
            "jobs_all": round(ye["jobs_all"], 1),
            "micro_jobs_share": _share(micro_jobs, ye["jobs_all"]),
            "micro_reklamebeskyttet": int(ye["micro_reklamebeskyttet"]),
            # at workplace level, only where the register's units were read for some business
            **(
                {"jobs_workplaces": round(ye["jobs_workplaces"], 1)}
                if ye["workplaces_known"]
                else {}
            ),
            "new": int(now["new"]),
            "closed": int(now["closed"]),
            "net_change": int(now["new"] - now["closed"]),
            "micro_businesses_previous_year": int(before["micro"]),
            "micro_change": int(now["micro"] - before["micro"]),
            "micro_change_pct": _pct_change(now["micro"], before["micro"]),
            "by_section": {
                s: {k: round(v, 1) if k == "jobs_micro" else int(v) for k, v in sorted(c.items())}
                for s, c in sorted(area.by_section.items())
            },
            "by_company_form": {
                f: {k: round(v, 1) if k == "jobs_micro" else int(v) for k, v in sorted(c.items())}
                for f, c in sorted(area.by_form.items())
            },
            "series": [
                {
                    "year": y,
                    "micro_businesses": int(series[y]["micro"]),
                    "all_businesses": int(series[y]["all"]),
                    "new": int(series[y]["new"]),
                    "closed": int(series[y]["closed"]),
                }
                for y in range(self.first_year, self.year + 1)
            ],
            "networks": _networks_of(code, networks, self._memberships),
        }
        if not total:
            rate = self.params.rate(code)
            out["tax_rate"] = rate
            out["tax_estimate_dkk"] = round(micro_jobs * self.params.income_dkk * rate)
        return out


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct_change(now: float, before: float) -> float | None:
    return round(100 * (now - before) / before, 1) if before else None


def _networks_of(
    code: str, networks: list[dict[str, Any]], memberships: list[frozenset[str]]
) -> dict[str, Any]:
    chosen = [n for n in networks if code == "total" or code in network_codes(n["properties"])]
    ids = {n["id"] for n in chosen}
    return {
        "count": len(chosen),
        "members": sum(1 for nets in memberships if nets & ids),
        "list": [
            {
                "id": n["id"],
                "name": n["properties"]["name"],
                "members": n["properties"]["member_count"],
            }
            for n in sorted(chosen, key=lambda n: n["properties"]["name"])
        ],
    }
