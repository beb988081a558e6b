"""The barometer's press release, in Danish and English, as Markdown and HTML with SVG charts.

Written from the barometer document alone, so the release can be regenerated from a published
`barometer.json` and always says the same as the numbers beside it.
"""

from __future__ import annotations

from html import escape
from typing import Any

from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.domain.reference import official_name
from chalicelib.domain.text import count, enumeration, is_one, number, percent, signed_number
from chalicelib.publishing.charts import bar_chart, hbar_chart

TEXT = {
    "da": {
        "title": "Mikrobarometer {year}: {areas}",
        "lead": (
            "Ved udgangen af {year} var der {micro} (0-9 ansatte) i {areas}. Det er {share} af "
            "alle virksomheder, og {they} for anslået {jobs}, {jobs_share} af jobbene i "
            "virksomhederne. I løbet af året blev der registreret {new}, og {closed} ophørte: "
            "en nettoændring på {net}."
        ),
        "change": (
            "Antallet af mikrovirksomheder ændrede sig med {change} ({pct}) i forhold til {prev}."
        ),
        "tax": (
            "Jobbene i mikrovirksomhederne giver anslået {tax} kr. i kommuneskat om året "
            "(et skøn; se forudsætningerne nedenfor)."
        ),
        "networks": "{networks} {bring} {members}.",
        "no_networks": "Der er endnu ikke registreret lokale netværk.",
        "municipality": "Kommune",
        "micro": "Mikrovirksomheder",
        "share": "Andel af virksomheder",
        "jobs": "Job (skøn)",
        "new": "Nye",
        "closed": "Ophørte",
        "tax_col": "Kommuneskat (skøn, kr.)",
        "chart_years": "Mikrovirksomheder ved årets udgang",
        "chart_years_desc": "Antal aktive mikrovirksomheder den 31. december, år for år.",
        "chart_sections": "Mikrovirksomheder efter branche, {year}",
        "chart_sections_desc": "Antal aktive mikrovirksomheder i hver branche (DB07-hovedgruppe).",
        "chart_flow": "Nye og ophørte virksomheder",
        "chart_flow_desc": "Antal nyregistrerede og ophørte virksomheder pr. år.",
        "method": "Metode og forudsætninger",
        "source": (
            "Kilde: Det Centrale Virksomhedsregister (CVR), Erhvervsstyrelsen; beregnet af "
            "Mikrokort."
        ),
        "unknown_section": "Ukendt branche",
    },
    "en": {
        "title": "Micro-business barometer {year}: {areas}",
        "lead": (
            "At the end of {year} there {were} {micro} (0-9 employees) in {areas}. That is "
            "{share} of all businesses, and {they} an estimated {jobs}, {jobs_share} of the "
            "jobs in businesses. During the year {new} {were_new} registered and {closed} "
            "closed: a net change of {net}."
        ),
        "change": "The number of micro-businesses changed by {change} ({pct}) from {prev}.",
        "tax": (
            "The jobs in micro-businesses bring an estimated DKK {tax} a year in municipal "
            "income tax (an estimate; see the assumptions below)."
        ),
        "networks": "{networks} {bring} together {members}.",
        "no_networks": "No local networks have been registered yet.",
        "municipality": "Municipality",
        "micro": "Micro-businesses",
        "share": "Share of businesses",
        "jobs": "Jobs (estimate)",
        "new": "New",
        "closed": "Closed",
        "tax_col": "Municipal tax (estimate, DKK)",
        "chart_years": "Micro-businesses at year end",
        "chart_years_desc": "Active micro-businesses on 31 December, year by year.",
        "chart_sections": "Micro-businesses by industry, {year}",
        "chart_sections_desc": "Active micro-businesses in each industry (DB07 section).",
        "chart_flow": "New and closed businesses",
        "chart_flow_desc": "Businesses registered and closed each year.",
        "method": "Method and assumptions",
        "source": (
            "Source: the Central Business Register (CVR), the Danish Business Authority; "
            "computed by Mikrokort."
        ),
        "unknown_section": "Unknown industry",
    },
}
# Words that agree with a number (singular, plural): the pronoun and verb after the count of
# micro-businesses, the verb after the count of networks, the heading over the table.
FORMS = {
    "da": {
        "they": ("den står", "de står"),
        "were": ("", ""),
        "bring": ("samler", "samler"),
        "per_municipality": ("Kommunen", "Kommunerne"),
    },
    "en": {
        "they": ("it provides", "they provide"),
        "were": ("was", "were"),
        "bring": ("brings", "bring"),
        "per_municipality": ("The municipality", "The municipalities"),
    },
}
# The charts beside each language's release (barometer_da.md shows the _da files): each chart
# is drawn in its language's words and number format.
CHART_NAMES = ("chart-micro-by-year", "chart-micro-by-section", "chart-new-closed")


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


def _paragraphs(barometer: dict[str, Any], lang: str) -> tuple[str, list[str]]:
    t = TEXT[lang]
    total = barometer["total"]
    areas = enumeration(_names(barometer, lang), lang)
    year = barometer["year"]
    micro, new = total["micro_businesses"], total["new"]
    networks = total["networks"]
    paras = [
        t["lead"].format(
            year=year,
            were=_form(lang, "were", micro),
            micro=count(micro, "active_micro_business", lang),
            areas=areas,
            share=percent(_points(total["micro_share"]), lang),
            they=_form(lang, "they", micro),
            jobs=count(total["jobs_micro"], "job", lang),
            jobs_share=percent(_points(total["micro_jobs_share"]), lang),
            new=count(new, "new_business", lang),
            were_new=_form(lang, "were", new),
            closed=number(total["closed"], lang),
            net=signed_number(total["net_change"], lang),
        ),
        t["change"].format(
            change=signed_number(total["micro_change"], lang),
            pct=percent(total["micro_change_pct"], lang, signed=True),
            prev=year - 1,
        ),
        t["tax"].format(tax=number(total["tax_estimate_dkk"], lang)),
        t["networks"].format(
            networks=count(networks["count"], "local_network", lang),
            bring=_form(lang, "bring", networks["count"]),
            members=count(networks["members"], "business", lang),
        )
        if networks["count"]
        else t["no_networks"],
    ]
    return t["title"].format(year=year, areas=areas), paras


def _points(fraction: float | None) -> float | None:
    """A share (0.009) as percentage points (0.9)."""
    return None if fraction is None else 100 * fraction


# The figures as narrow tables: the measures are the rows and at most this many municipalities
# the columns, so every table fits a phone's 375 px. Seven measures as columns scrolled
# sideways; two municipalities side by side do not fit either when their names are long
# (Vesthimmerlands Kommune beside "Mikrovirksomheder"), so each municipality has its own.
TABLE_COLUMNS = 1


def _tables(barometer: dict[str, Any], lang: str) -> list[tuple[list[str], list[list[str]]]]:
    """The figures per municipality as narrow tables: (header, rows), a row per measure."""
    t = TEXT[lang]
    measures = [
        (t["micro"], lambda m: number(m["micro_businesses"], lang)),
        (t["share"], lambda m: percent(_points(m["micro_share"]), lang)),
        (t["jobs"], lambda m: number(m["jobs_micro"], lang)),
        (t["new"], lambda m: number(m["new"], lang)),
        (t["closed"], lambda m: number(m["closed"], lang)),
        (t["tax_col"], lambda m: number(m["tax_estimate_dkk"], lang)),
    ]
    items = list(barometer["municipalities"].items())
    tables = []
    for start in range(0, len(items), TABLE_COLUMNS):
        chunk = items[start : start + TABLE_COLUMNS]
        head = [t["municipality"], *[official_name(code, lang) for code, _ in chunk]]
        rows = [[name, *[value(m) for _, m in chunk]] for name, value in measures]
        tables.append((head, rows))
    return tables


def _heading(barometer: dict[str, Any], lang: str) -> str:
    return _form(lang, "per_municipality", len(barometer["municipalities"]))


def _method_lines(barometer: dict[str, Any], lang: str) -> list[str]:
    """The parameters as the config names them, with the municipalities' rates by name."""
    p = barometer["parameters"]
    tax = p["tax"]
    rates = (
        "; ".join(
            f"{official_name(code, lang)}: {percent(100 * v, lang, 2)}"
            for code, v in sorted(tax["rates"].items())
        )
        or "-"
    )
    return [
        p["jobs"]["method"],
        tax["method"],
        f"average_taxable_income_dkk = {number(tax['average_taxable_income_dkk'], lang)}; "
        f"default_rate = {percent(100 * tax['default_rate'], lang, 2)}; rates = {rates}",
        tax["source"],
        *barometer["notes"][lang],
        TEXT[lang]["source"],
    ]


def markdown(barometer: dict[str, Any], lang: str) -> str:
    """The release as Markdown; charts are referenced as the SVG files beside it."""
    t = TEXT[lang]
    title, paras = _paragraphs(barometer, lang)
    lines = [f"# {title}", "", *[p + "\n" for p in paras]]
    lines += [f"## {_heading(barometer, lang)}", ""]
    for head, rows in _tables(barometer, lang):
        lines += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    for name, svg in charts(barometer, lang).items():
        alt = svg.split("</title>")[0].rsplit(">", 1)[-1]
        lines += [f"![{alt}]({name})", ""]
    lines += [f"## {t['method']}", ""] + [f"- {m}" for m in _method_lines(barometer, lang)]
    return "\n".join(lines) + "\n"


def html(barometer: dict[str, Any], lang: str) -> str:
    """The release as one self-contained HTML page (charts inline)."""
    t = TEXT[lang]
    title, paras = _paragraphs(barometer, lang)
    body = [f"<h1>{escape(title)}</h1>", *[f"<p>{escape(p)}</p>" for p in paras]]
    body.append(f"<h2>{escape(_heading(barometer, lang))}</h2>")
    for head, rows in _tables(barometer, lang):
        body.append("<table><thead><tr>")
        body += [f"<th scope='col'>{escape(h)}</th>" for h in head]
        body.append("</tr></thead><tbody>")
        for r in rows:
            body.append(
                f"<tr><th scope='row'>{escape(r[0])}</th>"
                + "".join(f"<td>{escape(c)}</td>" for c in r[1:])
                + "</tr>"
            )
        body.append("</tbody></table>")
    body += [f"<figure>{svg}</figure>" for svg in charts(barometer, lang).values()]
    body.append(f"<h2>{escape(t['method'])}</h2><ul>")
    body += [f"<li>{escape(m)}</li>" for m in _method_lines(barometer, lang)]
    body.append("</ul>")
    style = (
        "body{font-family:Helvetica,Arial,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5;color:#222}"
        "table{border-collapse:collapse;margin:0 0 1.5rem;width:100%;font-size:.9375rem}"
        "th,td{border-bottom:1px solid #ccc;padding:.3rem .4rem;text-align:right;"
        "vertical-align:top}th[scope=row],thead th:first-child{text-align:left}"
        "th[scope=row]{font-weight:normal}"
        "figure{margin:1.5rem 0}svg{display:block;max-width:100%;height:auto}"
    )
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{style}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )
