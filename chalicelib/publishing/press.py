"""The barometer's press release, in Danish and English, as Markdown and HTML with SVG charts.

Written from the barometer document alone, so the release can be regenerated from a published
`barometer.json` and always says the same as the numbers beside it. A municipality publishes it
as it is: a headline with the news, a dateline, a lede, short paragraphs, a marked slot for the
quote (the only thing it edits), a facts box, its business contact as press contact and "Om
tallene", each in the release's own language. Every figure says at which level it is counted,
and the tax figure is an example calculation unless the parameters carry their own dated source
in both languages: it never makes the headline.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from html import escape
from typing import Any

from chalicelib import DATA_DIR
from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.reference import official_name
from chalicelib.domain.text import (
    count,
    date_text,
    enumeration,
    is_one,
    noun,
    number,
    percent,
)
from chalicelib.publishing.charts import bar_chart, hbar_chart

LANGS = ("da", "en")
# What the release leaves for the municipality to fill in: found by a test and by the editor.
QUOTE_SLOT = {
    "da": "[Citat: borgmesteren eller formanden for erhvervsudvalget. Indsæt citat, navn, titel.]",
    "en": "[Quote: the mayor or the chair of the business committee. Insert quote, name, title.]",
}
CONTACT_SLOT = {
    "da": "[Pressekontakt: navn, telefon, e-mail]",
    "en": "[Press contact: name, phone, email]",
}

TEXT = {
    "da": {
        "kicker": "Mikrobarometer {year}",
        "dateline": "Pressemeddelelse fra {areas}, {day}",
        "gained": "{areas} fik {change} {more}",
        "lost": "{areas} mistede {change}",
        "kept": "{areas} har fortsat {micro}",
        "has": "{areas} har {micro}",
        "lede": (
            "Ved udgangen af {year} var der {micro} (0-9 ansatte) i {areas}{since}. Det er "
            "{share} af alle virksomheder, og {they} for anslået {jobs}."
        ),
        "since_more": ", {change} flere end året før",
        "since_more_one": ", 1 mere end året før",
        "since_fewer": ", {change} færre end året før",
        "since_same": ", lige så mange som året før",
        "jobs": "Mikrovirksomhederne har {jobs_share} af jobbene i virksomhederne. {counted}",
        "counted_company": (
            "Jobbene er talt på virksomhedsniveau: en virksomhed tæller med alle sine ansatte."
        ),
        "counted_mixed": (
            "Jobbene er talt på virksomhedsniveau, og for virksomheder med hjemsted i en anden "
            "kommune på det lokale arbejdssted."
        ),
        "workplace_jobs": (
            "På arbejdsstedsniveau, hvor hvert job tælles dér, hvor det udføres, har "
            "mikrovirksomhederne anslået {jobs} i {areas}."
        ),
        "flow": "I løbet af {year} blev der registreret {new}, og {closed} ophørte.",
        "flow_up": "Der kom altså {net} flere virksomheder til, end der lukkede.",
        "flow_up_one": "Der kom altså 1 virksomhed mere til, end der lukkede.",
        "flow_down": "Der lukkede altså {net} flere virksomheder, end der kom til.",
        "flow_down_one": "Der lukkede altså 1 virksomhed mere, end der kom til.",
        "flow_same": "Der kom altså lige så mange virksomheder til, som der lukkede.",
        "networks": "{networks} samler {members}.",
        "networks_only": "Der er {networks} i kommunerne.",
        "no_networks": "Der er endnu ikke registreret lokale netværk.",
        "covered": (
            "I de {n_covered} kommuner, som Mikrokort dækker, var der i alt {micro}, {share} af "
            "alle virksomheder."
        ),
        "facts": "Fakta",
        "f_micro": "Aktive mikrovirksomheder (0-9 ansatte) pr. {day}",
        "f_protected": "Heraf reklamebeskyttede (talt med, ikke vist i datafilerne)",
        "f_share": "Andel af alle virksomheder",
        "f_jobs": "Job i mikrovirksomhederne (skøn, {level})",
        "f_workplace_jobs": "Job i mikrovirksomhederne (skøn, arbejdsstedsniveau)",
        "f_jobs_share": "Mikrovirksomhedernes andel af jobbene ({level})",
        "f_new": "Nye virksomheder i {year}",
        "f_closed": "Ophørte virksomheder i {year}",
        "f_change": "Mikrovirksomheder i forhold til året før",
        "f_networks": "Lokale netværk",
        "f_tax": "Kommuneskat af jobbene (regneeksempel, se Om tallene)",
        "f_tax_own": "Kommuneskat af jobbene (skøn)",
        "company_level": "virksomhedsniveau",
        "mixed_level": "virksomheds- og arbejdsstedsniveau",
        "unchanged": "uændret",
        "contact": "Pressekontakt",
        "about": "Om tallene",
        "about_source": (
            "Tallene er opgjort af Mikrokort pr. {day} ud fra Det Centrale Virksomhedsregister "
            "(CVR), Erhvervsstyrelsen."
        ),
        "about_preliminary": (
            "Tallene er foreløbige: året er endnu ikke offentliggjort som åbne data."
        ),
        "about_level": (
            "Antal virksomheder og job er opgjort på virksomhedsniveau: en virksomhed med "
            "hjemsted i kommunen tælles med alle sine ansatte."
        ),
        "about_dst": (
            "Danmarks Statistik tæller job på arbejdsstederne og regner den offentlige sektor "
            "med, så i deres tal er mikrovirksomhedernes andel af jobbene lavere end her."
        ),
        "about_protected": (
            "Af de {micro} er {protected} reklamebeskyttede. De er talt med her, men de åbne "
            "datafiler (businesses.csv og de andre) viser kun dem, der selv har valgt at blive "
            "vist. Filerne rummer derfor de {listed} andre og de reklamebeskyttede, der har "
            "valgt at blive vist."
        ),
        "about_protected_none": (
            "Ingen af mikrovirksomhederne er reklamebeskyttede, så de åbne datafiler viser "
            "dem alle."
        ),
        "about_tax_example": (
            "Med eksempeltallene {income} i skattepligtig indkomst pr. job og en kommuneskat på "
            "{rates} giver det {tax} om året."
        ),
        "about_tax_own": (
            "Kommuneskatten er anslået som job gange {income} i skattepligtig indkomst pr. job "
            "gange en kommuneskat på {rates}: {tax} om året."
        ),
        "rate_in": "{rate} i {area}",
        "municipality": "Kommune",
        "micro": "Mikrovirksomheder",
        "share": "Andel af virksomheder",
        "jobs_col": "Job (skøn)",
        "new": "Nye",
        "closed": "Ophørte",
        "tax_col": "Kommuneskat (regneeksempel)",
        "tax_col_own": "Kommuneskat (skøn)",
        "chart_years": "Mikrovirksomheder ved årets udgang",
        "chart_years_desc": "Antal aktive mikrovirksomheder den 31. december, år for år.",
        "chart_sections": "Mikrovirksomheder efter branche, {year}",
        "chart_sections_desc": "Antal aktive mikrovirksomheder i hver branche (DB07-hovedgruppe).",
        "chart_flow": "Nye og ophørte virksomheder",
        "chart_flow_desc": "Antal nyregistrerede og ophørte virksomheder pr. år.",
        "unknown_section": "Ukendt branche",
    },
    "en": {
        "kicker": "Micro-business barometer {year}",
        "dateline": "Press release from {areas}, {day}",
        "gained": "{areas} gained {change}",
        "lost": "{areas} lost {change}",
        "kept": "{areas} still had {micro}",
        "has": "{areas} had {micro}",
        "lede": (
            "At the end of {year} there {were} {micro} (0-9 employees) in {areas}{since}. That "
            "is {share} of all businesses, and {they} an estimated {jobs}."
        ),
        "since_more": ", {change} more than a year before",
        "since_more_one": ", 1 more than a year before",
        "since_fewer": ", {change} fewer than a year before",
        "since_same": ", as many as a year before",
        "jobs": "Micro-businesses have {jobs_share} of the jobs in businesses. {counted}",
        "counted_company": (
            "Jobs are counted at company level: a business counts with all its employees."
        ),
        "counted_mixed": (
            "Jobs are counted at company level, and for businesses seated in another "
            "municipality at their local workplace."
        ),
        "workplace_jobs": (
            "At workplace level, where each job is counted where it is done, micro-businesses "
            "have an estimated {jobs} in {areas}."
        ),
        "flow": "During the year {new} {were_new} registered and {closed} closed.",
        "flow_up": "So {net} more businesses opened than closed.",
        "flow_up_one": "So 1 more business opened than closed.",
        "flow_down": "So {net} more businesses closed than opened.",
        "flow_down_one": "So 1 more business closed than opened.",
        "flow_same": "So as many businesses opened as closed.",
        "networks": "{networks} {bring} together {members}.",
        "networks_only": "There {were_networks} {networks} in the municipalities.",
        "no_networks": "No local networks have been registered yet.",
        "covered": (
            "In the {n_covered} municipalities Mikrokort covers there were {micro} in total, "
            "{share} of all businesses."
        ),
        "facts": "Facts",
        "f_micro": "Active micro-businesses (0-9 employees) on {day}",
        "f_protected": "Of these, protected from marketing (counted, not listed in the files)",
        "f_share": "Share of all businesses",
        "f_jobs": "Jobs in micro-businesses (estimate, {level})",
        "f_workplace_jobs": "Jobs in micro-businesses (estimate, workplace level)",
        "f_jobs_share": "Micro-businesses' share of the jobs ({level})",
        "f_new": "New businesses in {year}",
        "f_closed": "Businesses closed in {year}",
        "f_change": "Micro-businesses compared with a year before",
        "f_networks": "Local networks",
        "f_tax": "Municipal tax from the jobs (worked example, see About the figures)",
        "f_tax_own": "Municipal tax from the jobs (estimate)",
        "company_level": "company level",
        "mixed_level": "company and workplace level",
        "unchanged": "unchanged",
        "contact": "Press contact",
        "about": "About the figures",
        "about_source": (
            "The figures were compiled by Mikrokort as of {day} from the Central Business "
            "Register (CVR) of the Danish Business Authority."
        ),
        "about_preliminary": (
            "The figures are preliminary: the year has not yet been published as open data."
        ),
        "about_level": (
            "Businesses and jobs are counted at company level: a business seated in the "
            "municipality is counted with all its employees."
        ),
        "about_dst": (
            "Statistics Denmark counts jobs at workplaces and includes the public sector, so "
            "its share of jobs for micro-businesses is lower than the one given here."
        ),
        "about_protected": (
            "Of the {micro}, {protected} are protected from marketing. They are counted here, "
            "but the open data files (businesses.csv and the others) list only those that chose "
            "to be shown. The files therefore list the other {listed} and those protected ones "
            "that chose to be shown."
        ),
        "about_protected_none": (
            "None of the micro-businesses is protected from marketing, so the open data files "
            "list them all."
        ),
        "about_tax_example": (
            "With the example figures of {income} of taxable income per job and a municipal "
            "tax rate of {rates}, that gives {tax} a year."
        ),
        "about_tax_own": (
            "The municipal tax is estimated as jobs times {income} of taxable income per job "
            "times a municipal tax rate of {rates}: {tax} a year."
        ),
        "rate_in": "{rate} in {area}",
        "municipality": "Municipality",
        "micro": "Micro-businesses",
        "share": "Share of businesses",
        "jobs_col": "Jobs (estimate)",
        "new": "New",
        "closed": "Closed",
        "tax_col": "Municipal tax (worked example)",
        "tax_col_own": "Municipal tax (estimate)",
        "chart_years": "Micro-businesses at year end",
        "chart_years_desc": "Active micro-businesses on 31 December, year by year.",
        "chart_sections": "Micro-businesses by industry, {year}",
        "chart_sections_desc": "Active micro-businesses in each industry (DB07 section).",
        "chart_flow": "New and closed businesses",
        "chart_flow_desc": "Businesses registered and closed each year.",
        "unknown_section": "Unknown industry",
    },
}
# Words that agree with a number (singular, plural).
FORMS = {
    "da": {
        "were": ("", ""),
        "they": ("den står", "de står"),
        "bring": ("samler", "samler"),
        "per_municipality": ("Kommunen", "Kommunerne"),
        "more": ("mere", ""),
    },
    "en": {
        "were": ("was", "were"),
        "they": ("it provides", "they provide"),
        "bring": ("brings", "bring"),
        "per_municipality": ("The municipality", "The municipalities"),
        "more": ("", ""),
    },
}
# The charts beside each language's release (barometer_da.md shows the _da files): each chart
# is drawn in its language's words and number format.
CHART_NAMES = ("chart-micro-by-year", "chart-micro-by-section", "chart-new-closed")
# The figures that add up over municipalities (a release for some of them sums these).
ADDITIVE = (
    "micro_businesses",
    "all_businesses",
    "size_unknown",
    "jobs_micro",
    "jobs_all",
    "jobs_workplaces",
    "micro_reklamebeskyttet",
    "new",
    "closed",
    "net_change",
    "micro_businesses_previous_year",
    "micro_change",
    "tax_estimate_dkk",
)


def chart_files(lang: str) -> tuple[str, ...]:
    """The file names of the language's three charts, in the release's order."""
    return tuple(f"{name}_{lang}.svg" for name in CHART_NAMES)


def _form(lang: str, key: str, value: float) -> str:
    singular, plural = FORMS[lang][key]
    return singular if is_one(value) else plural


def _names(barometer: dict[str, Any], lang: str) -> list[str]:
    """The official names of the barometer's municipalities, from the reference data by code
    (a barometer published before the document carried them is named the same way)."""
    return [official_name(code, lang) for code in barometer["municipalities"]]


# -- numbers as a press officer writes them ----------------------------------------------------


def rounded(value: float) -> float:
    """An estimate rounded so it does not claim more precision than it has: whole numbers
    below 100, tens below 1,000, hundreds above."""
    if value < 100:
        return float(round(value))
    if value < 1000:
        return float(round(value, -1))
    return float(round(value, -2))


def amount(dkk: float, lang: str) -> str:
    """An estimated sum of money: 'ca. 455 mio. kr.', 'ca. 1,2 mia. kr.', 'about DKK 455
    million'; three significant figures at most, one decimal only below ten."""
    for size, da, en in ((1e9, "mia. kr.", "billion"), (1e6, "mio. kr.", "million")):
        if dkk >= size:
            value = dkk / size
            decimals = 1 if value < 10 else 0
            text = number(round(value, decimals), lang, decimals)
            return f"ca. {text} {da}" if lang == "da" else f"about DKK {text} {en}"
    text = number(round(dkk, -3) if dkk >= 1000 else round(dkk), lang)
    return f"ca. {text} kr." if lang == "da" else f"about DKK {text}"


def _about(value: float, lang: str) -> str:
    return ("ca. " if lang == "da" else "about ") + number(rounded(value), lang)


def _points(fraction: float | None) -> float | None:
    """A share (0.009) as percentage points (0.9)."""
    return None if fraction is None else 100 * fraction


# -- a release for some of the municipalities --------------------------------------------------


def select(barometer: dict[str, Any], codes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The barometer of some of its municipalities, for a release of their own.

    The figures of one municipality are its own; several are summed (the counts add up, the
    shares are computed anew, a network in two of them counts once). The covered area's total
    travels along as `covered`, so the release can compare with the one figure the data really
    has beyond the municipality: the total over every municipality Mikrokort covers."""
    per = barometer["municipalities"]
    chosen = sorted({c.strip()[-3:].zfill(3) for c in codes})
    unknown = [c for c in chosen if c not in per]
    if unknown:
        raise InvalidParameter(
            f"municipality {', '.join(unknown)} is not in this barometer; "
            f"it covers {', '.join(per)}",
            parameter="municipality",
        )
    if not chosen or chosen == sorted(per):
        return barometer
    figures = {c: per[c] for c in chosen}
    total = dict(figures[chosen[0]]) if len(chosen) == 1 else _summed(list(figures.values()))
    return {
        **barometer,
        "municipalities": figures,
        "total": total,
        "covered": {"municipalities": list(per), "total": barometer["total"]},
    }


def _summed(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": None, "name_en": None}
    for key in ADDITIVE:
        values = [p[key] for p in parts if isinstance(p.get(key), int | float)]
        if values:
            out[key] = round(sum(values), 1) if key.startswith("jobs") else round(sum(values))
    out["micro_share"] = _share(out["micro_businesses"], out["all_businesses"])
    out["micro_jobs_share"] = _share(out["jobs_micro"], out["jobs_all"])
    before = out["micro_businesses_previous_year"]
    out["micro_change_pct"] = round(100 * out["micro_change"] / before, 1) if before else None
    for key in ("by_section", "by_company_form"):
        merged: dict[str, dict[str, float]] = {}
        for p in parts:
            for name, counts in p[key].items():
                into = merged.setdefault(name, {})
                for k, v in counts.items():
                    into[k] = into.get(k, 0) + v
        out[key] = dict(sorted(merged.items()))
    out["series"] = [
        {k: (row["year"] if k == "year" else sum(p["series"][i][k] for p in parts)) for k in row}
        for i, row in enumerate(parts[0]["series"])
    ]
    networks = {n["id"]: n for p in parts for n in p["networks"]["list"]}
    out["networks"] = {
        "count": len(networks),
        "members": None,  # a business may be a member in two of them: not summed
        "list": sorted(networks.values(), key=lambda n: n["name"]),
    }
    return out


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


# -- the charts --------------------------------------------------------------------------------


def charts(barometer: dict[str, Any], lang: str) -> dict[str, str]:
    """The three charts of the release, by file name."""
    t = TEXT[lang]
    names_of = chart_files(lang)
    total = barometer["total"]
    years = [str(s["year"]) for s in total["series"]]
    sections = sorted(
        ((s, c.get("micro", 0)) for s, c in total["by_section"].items() if c.get("micro")),
        key=lambda r: -r[1],
    )
    names = {
        s: (
            SECTION_NAMES[s][0 if lang == "da" else 1]
            if s in SECTION_NAMES
            else t["unknown_section"]
        )
        for s, _ in sections
    }
    return {
        names_of[0]: bar_chart(
            t["chart_years"],
            t["chart_years_desc"],
            years,
            [(t["micro"], [s["micro_businesses"] for s in total["series"]])],
            ident="years",
            lang=lang,
        ),
        names_of[1]: hbar_chart(
            t["chart_sections"].format(year=barometer["year"]),
            t["chart_sections_desc"],
            [(f"{s} {names[s]}", v) for s, v in sections],
            ident="sections",
            lang=lang,
        ),
        names_of[2]: bar_chart(
            t["chart_flow"],
            t["chart_flow_desc"],
            years,
            [
                (t["new"], [s["new"] for s in total["series"]]),
                (t["closed"], [s["closed"] for s in total["series"]]),
            ],
            ident="flow",
            lang=lang,
        ),
    }


# -- the release's parts -----------------------------------------------------------------------


@dataclass
class Release:
    """One release in one language, before it is written as Markdown or HTML."""

    lang: str
    title: str
    dateline: str
    lede: str
    paragraphs: list[str]
    facts: list[tuple[str, str]]
    contacts: list[str]
    about: list[str]
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    tables_heading: str = ""


def _mixed(barometer: dict[str, Any]) -> bool:
    """Whether the barometer counts the local workplaces of businesses seated elsewhere at
    workplace level beside the businesses seated here at company level (its notes say so)."""
    return any("arbejdsstedsniveau" in n for n in barometer.get("notes", {}).get("da", []))


def _level(barometer: dict[str, Any], lang: str) -> str:
    """At which level the jobs are counted, for a label."""
    return TEXT[lang]["mixed_level" if _mixed(barometer) else "company_level"]


def _tax(barometer: dict[str, Any], lang: str) -> tuple[bool, str]:
    """Whether the tax figure is the municipality's own estimate, and the sentence that says
    how it was computed. It is its own only when the parameters name a source in the
    release's language and a rate for every municipality in it; otherwise it is a worked
    example from the shipped parameters, and says so."""
    t = TEXT[lang]
    tax = barometer["parameters"]["tax"]
    codes = list(barometer["municipalities"])
    own = (
        bool(tax.get(f"source_{lang}"))
        and not tax.get("example", False)
        and all(c in (tax.get("rates") or {}) for c in codes)
    )
    rates = [(code, (tax.get("rates") or {}).get(code, tax["default_rate"])) for code in codes]
    if len({r for _, r in rates}) == 1:
        rate_text = percent(100 * rates[0][1], lang, 2)
    else:
        rate_text = enumeration(
            [
                t["rate_in"].format(rate=percent(100 * r, lang, 2), area=official_name(c, lang))
                for c, r in rates
            ],
            lang,
        )
    income = amount(tax["average_taxable_income_dkk"], lang).removeprefix("ca. ")
    income = income.removeprefix("about ")
    sentence = t["about_tax_own" if own else "about_tax_example"].format(
        income=income,
        rates=rate_text,
        tax=amount(barometer["total"].get("tax_estimate_dkk") or 0, lang),
    )
    if own:
        return own, f"{sentence} {tax[f'source_{lang}']}"
    shipped = _shipped_texts()["tax"]
    return own, f"{shipped[f'method_{lang}']} {sentence} {shipped[f'source_{lang}']}"


def _headline(barometer: dict[str, Any], lang: str, areas: str) -> str:
    t = TEXT[lang]
    total = barometer["total"]
    micro, change = total["micro_businesses"], total["micro_change"]
    kicker = t["kicker"].format(year=barometer["year"])
    if not total["micro_businesses_previous_year"]:
        news = t["has"].format(areas=areas, micro=count(micro, "micro_business", lang))
    elif change > 0:
        changed = count(change, "micro_business", lang)
        if lang == "da" and not is_one(change):
            changed = f"{number(change, lang)} flere {noun(change, 'micro_business', lang)}"
        news = t["gained"].format(areas=areas, change=changed, more=_form(lang, "more", change))
    elif change < 0:
        news = t["lost"].format(areas=areas, change=count(-change, "micro_business", lang))
    else:
        news = t["kept"].format(areas=areas, micro=count(micro, "micro_business", lang))
    return f"{kicker}: {news.strip()}"


def _since(total: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    change = total["micro_change"]
    if not total["micro_businesses_previous_year"]:
        return ""
    if change > 0:
        if is_one(change):
            return t["since_more_one"]
        return t["since_more"].format(change=number(change, lang))
    if change < 0:
        return t["since_fewer"].format(change=number(-change, lang))
    return t["since_same"]


def _paragraphs(barometer: dict[str, Any], lang: str, areas: str) -> tuple[str, list[str]]:
    t = TEXT[lang]
    total = barometer["total"]
    year = barometer["year"]
    micro, new = total["micro_businesses"], total["new"]
    lede = t["lede"].format(
        year=year,
        were=_form(lang, "were", micro),
        micro=count(micro, "active_micro_business", lang),
        areas=areas,
        since=_since(total, lang),
        share=percent(_points(total["micro_share"]), lang),
        they=_form(lang, "they", micro),
        jobs=count(rounded(total["jobs_micro"]), "job", lang),
    )
    jobs = [
        t["jobs"].format(
            jobs_share=percent(_points(total["micro_jobs_share"]), lang),
            counted=t["counted_mixed" if _mixed(barometer) else "counted_company"],
        )
    ]
    if isinstance(total.get("jobs_workplaces"), int | float):
        jobs.append(
            t["workplace_jobs"].format(
                jobs=count(rounded(total["jobs_workplaces"]), "job", lang), areas=areas
            )
        )
    net = total["net_change"]
    if net > 0:
        after = t["flow_up_one"] if is_one(net) else t["flow_up"].format(net=number(net, lang))
    elif net < 0:
        down = t["flow_down"].format(net=number(-net, lang))
        after = t["flow_down_one"] if is_one(net) else down
    else:
        after = t["flow_same"]
    flow = t["flow"].format(
        year=year,
        new=count(new, "new_business", lang),
        were_new=_form(lang, "were", new),
        closed=number(total["closed"], lang),
    )
    paras = [" ".join(jobs), f"{flow} {after}", _networks_text(total["networks"], lang)]
    covered = barometer.get("covered")
    if covered:
        whole = covered["total"]
        paras.append(
            t["covered"].format(
                n_covered=len(covered["municipalities"]),
                micro=count(whole["micro_businesses"], "micro_business", lang),
                share=percent(_points(whole["micro_share"]), lang),
            )
        )
    return lede, paras


def _networks_text(networks: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    n = networks["count"]
    if not n:
        return t["no_networks"]
    if networks.get("members") is None:
        return t["networks_only"].format(
            networks=count(n, "local_network", lang), were_networks=_form(lang, "were", n)
        )
    return t["networks"].format(
        networks=count(n, "local_network", lang),
        bring=_form(lang, "bring", n),
        members=count(networks["members"], "business", lang),
    )


def _facts(barometer: dict[str, Any], lang: str, own_tax: bool) -> list[tuple[str, str]]:
    t = TEXT[lang]
    total = barometer["total"]
    year = barometer["year"]
    level = _level(barometer, lang)
    day = date_text(date(year, 12, 31), lang)
    facts = [
        (t["f_micro"].format(day=day), number(total["micro_businesses"], lang)),
        (t["f_protected"], number(total.get("micro_reklamebeskyttet", 0), lang)),
        (t["f_share"], percent(_points(total["micro_share"]), lang)),
        (t["f_jobs"].format(level=level), _about(total["jobs_micro"], lang)),
    ]
    if isinstance(total.get("jobs_workplaces"), int | float):
        facts.append((t["f_workplace_jobs"], _about(total["jobs_workplaces"], lang)))
    facts += [
        (t["f_jobs_share"].format(level=level), percent(_points(total["micro_jobs_share"]), lang)),
        (t["f_new"].format(year=year), number(total["new"], lang)),
        (t["f_closed"].format(year=year), number(total["closed"], lang)),
    ]
    if total["micro_businesses_previous_year"]:
        change = total["micro_change"]
        pct = percent(total["micro_change_pct"], lang, signed=True)
        said = f"{'+' if change > 0 else ''}{number(change, lang)} ({pct})"
        facts.append((t["f_change"], said if change else t["unchanged"]))
    facts += [
        (t["f_networks"], number(total["networks"]["count"], lang)),
        (
            t["f_tax_own" if own_tax else "f_tax"],
            amount(total.get("tax_estimate_dkk") or 0, lang),
        ),
    ]
    return facts


def _contacts(barometer: dict[str, Any], lang: str, given: dict[str, Any] | None) -> list[str]:
    """The press contact: each municipality's business contact as the store keeps it, or the
    marked slot where none is set."""
    codes = list(barometer["municipalities"])
    out = []
    for code in codes:
        contact = (given or {}).get(code)
        where = f" ({official_name(code, lang)})" if len(codes) > 1 else ""
        if not contact:
            out.append(CONTACT_SLOT[lang] + where)
            continue
        parts = [contact[k] for k in ("name", "phone", "email", "website") if contact.get(k)]
        out.append(", ".join(parts) + where)
    return out


def _about_lines(barometer: dict[str, Any], lang: str, tax_sentence: str) -> list[str]:
    t = TEXT[lang]
    total = barometer["total"]
    year = barometer["year"]
    lines = [t["about_source"].format(day=date_text(date(year, 12, 31), lang))]
    if barometer.get("published") is False:
        lines.append(t["about_preliminary"])
    notes = list(barometer.get("notes", {}).get(lang, []))
    lines += notes
    if not any("virksomhedsniveau" in n for n in barometer.get("notes", {}).get("da", [])):
        lines.append(t["about_level"])
    lines.append(_jobs_method(lang))
    lines.append(t["about_dst"])
    micro = total["micro_businesses"]
    protected = total.get("micro_reklamebeskyttet", 0)
    if protected:
        lines.append(
            t["about_protected"].format(
                micro=count(micro, "micro_business", lang),
                protected=number(protected, lang),
                listed=number(micro - protected, lang),
            )
        )
    else:
        lines.append(t["about_protected_none"])
    lines.append(tax_sentence)
    return lines


@lru_cache(maxsize=1)
def _shipped_texts() -> dict[str, Any]:
    """The texts of the shipped barometer.toml ([texts]): the estimates' method and the
    example parameters' label in each language."""
    with (DATA_DIR / "barometer.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["texts"])


def _jobs_method(lang: str) -> str:
    """How jobs are estimated, in the release's language (the method is the code's, so the
    shipped config's text in each language describes it whatever the parameters are)."""
    return str(_shipped_texts()["jobs"][f"method_{lang}"])


def _tables(
    barometer: dict[str, Any], lang: str, own_tax: bool
) -> list[tuple[list[str], list[list[str]]]]:
    """The figures per municipality as narrow tables: (header, rows), a row per measure."""
    t = TEXT[lang]
    measures = [
        (t["micro"], lambda m: number(m["micro_businesses"], lang)),
        (t["share"], lambda m: percent(_points(m["micro_share"]), lang)),
        (t["jobs_col"], lambda m: _about(m["jobs_micro"], lang)),
        (t["new"], lambda m: number(m["new"], lang)),
        (t["closed"], lambda m: number(m["closed"], lang)),
        (t["tax_col_own" if own_tax else "tax_col"], lambda m: amount(m["tax_estimate_dkk"], lang)),
    ]
    items = list(barometer["municipalities"].items())
    tables = []
    for start in range(0, len(items), TABLE_COLUMNS):
        chunk = items[start : start + TABLE_COLUMNS]
        head = [t["municipality"], *[official_name(code, lang) for code, _ in chunk]]
        rows = [[name, *[value(m) for _, m in chunk]] for name, value in measures]
        tables.append((head, rows))
    return tables


# The figures as narrow tables: the measures are the rows and at most this many municipalities
# the columns, so every table fits a phone's 375 px. Seven measures as columns scrolled
# sideways; two municipalities side by side do not fit either when their names are long
# (Vesthimmerlands Kommune beside "Mikrovirksomheder"), so each municipality has its own.
TABLE_COLUMNS = 1


def release(
    barometer: dict[str, Any],
    lang: str,
    *,
    contacts: dict[str, Any] | None = None,
    today: date | None = None,
) -> Release:
    """The release's parts in one language. `contacts` maps a kommunekode to the
    municipality's `business_contact` (None or missing: the marked slot); `today` dates it."""
    if lang not in LANGS:
        raise InvalidParameter("lang must be 'da' or 'en'", parameter="lang")
    t = TEXT[lang]
    areas = enumeration(_names(barometer, lang), lang)
    day = date_text(today or date.today(), lang)
    own_tax, tax_sentence = _tax(barometer, lang)
    lede, paras = _paragraphs(barometer, lang, areas)
    several = len(barometer["municipalities"]) > 1
    return Release(
        lang=lang,
        title=_headline(barometer, lang, areas),
        dateline=t["dateline"].format(areas=areas, day=day),
        lede=lede,
        paragraphs=paras,
        facts=_facts(barometer, lang, own_tax),
        contacts=_contacts(barometer, lang, contacts),
        about=_about_lines(barometer, lang, tax_sentence),
        tables=_tables(barometer, lang, own_tax) if several else [],
        tables_heading=_form(lang, "per_municipality", 2) if several else "",
    )


# -- Markdown and HTML -------------------------------------------------------------------------


def markdown(
    barometer: dict[str, Any],
    lang: str,
    *,
    contacts: dict[str, Any] | None = None,
    today: date | None = None,
) -> str:
    """The release as Markdown; charts are referenced as the SVG files beside it."""
    r = release(barometer, lang, contacts=contacts, today=today)
    t = TEXT[lang]
    lines = [f"# {r.title}", "", f"*{r.dateline}*", "", f"**{r.lede}**", ""]
    for p in r.paragraphs:
        lines += [p, ""]
    lines += [f"> {QUOTE_SLOT[lang]}", ""]
    lines += [f"## {t['facts']}", ""] + [f"- {label}: {value}" for label, value in r.facts]
    lines.append("")
    if r.tables:
        lines += [f"## {r.tables_heading}", ""]
        for head, rows in r.tables:
            lines += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            lines.append("")
    for name, svg in charts(barometer, lang).items():
        alt = svg.split("</title>")[0].rsplit(">", 1)[-1]
        lines += [f"![{alt}]({name})", ""]
    lines += [f"## {t['contact']}", ""] + [f"- {c}" for c in r.contacts] + [""]
    lines += [f"## {t['about']}", ""] + [f"- {m}" for m in r.about]
    return "\n".join(lines) + "\n"


def html(
    barometer: dict[str, Any],
    lang: str,
    *,
    contacts: dict[str, Any] | None = None,
    today: date | None = None,
) -> str:
    """The release as one self-contained HTML page (charts inline); headings in order and the
    page's language set, so a screen reader reads it in the right voice."""
    r = release(barometer, lang, contacts=contacts, today=today)
    t = TEXT[lang]
    body = [
        f"<header><h1>{escape(r.title)}</h1>",
        f"<p class='dateline'>{escape(r.dateline)}</p></header>",
        f"<p class='lede'><strong>{escape(r.lede)}</strong></p>",
        *[f"<p>{escape(p)}</p>" for p in r.paragraphs],
        f"<blockquote class='quote-slot'><p>{escape(QUOTE_SLOT[lang])}</p></blockquote>",
        f"<section aria-labelledby='facts'><h2 id='facts'>{escape(t['facts'])}</h2><ul>",
        *[
            f"<li>{escape(label)}: <strong>{escape(value)}</strong></li>"
            for label, value in r.facts
        ],
        "</ul></section>",
    ]
    if r.tables:
        body.append(f"<h2>{escape(r.tables_heading)}</h2>")
        for head, rows in r.tables:
            body.append("<table><thead><tr>")
            body += [f"<th scope='col'>{escape(h)}</th>" for h in head]
            body.append("</tr></thead><tbody>")
            for row in rows:
                body.append(
                    f"<tr><th scope='row'>{escape(row[0])}</th>"
                    + "".join(f"<td>{escape(c)}</td>" for c in row[1:])
                    + "</tr>"
                )
            body.append("</tbody></table>")
    body += [f"<figure>{svg}</figure>" for svg in charts(barometer, lang).values()]
    body.append(f"<h2>{escape(t['contact'])}</h2><ul>")
    body += [f"<li>{escape(c)}</li>" for c in r.contacts]
    body.append(f"</ul><h2>{escape(t['about'])}</h2><ul>")
    body += [f"<li>{escape(m)}</li>" for m in r.about]
    body.append("</ul>")
    style = (
        "body{font-family:Helvetica,Arial,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5;color:#222}"
        ".dateline{color:#555;margin-top:0}"
        ".quote-slot{border-left:4px solid #b00;margin:1.5rem 0;padding:.2rem 1rem;"
        "background:#fff4f4}"
        "table{border-collapse:collapse;margin:0 0 1.5rem;width:100%;font-size:.9375rem}"
        "th,td{border-bottom:1px solid #ccc;padding:.3rem .4rem;text-align:right;"
        "vertical-align:top}th[scope=row],thead th:first-child{text-align:left}"
        "th[scope=row]{font-weight:normal}"
        "figure{margin:1.5rem 0}svg{display:block;max-width:100%;height:auto}"
    )
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(r.title)}</title><style>{style}</style></head><body><main>"
        + "".join(body)
        + "</main></body></html>"
    )
