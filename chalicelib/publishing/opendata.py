"""Metadata of a published snapshot: a Frictionless data package and the licence and
attribution text (its DCAT-AP-DK catalogue is written by chalicelib.publishing.dcat)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from chalicelib.domain.reference import official_name
from chalicelib.domain.text import enumeration

LICENCE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
CVR_ATTRIBUTION = "Data from the Central Business Register (CVR), the Danish Business Authority"
DAGI_ATTRIBUTION = "Municipality boundaries: DAGI, Klimadatastyrelsen og Danske Kommuner"

_STRING = "string"
BUSINESS_FIELDS: list[tuple[str, str, str]] = [
    ("id", _STRING, "CVR number (8 digits)"),
    ("name", _STRING, "Registered name"),
    ("industry_code", _STRING, "Main industry, DB07 (or DB25) code, 6 digits"),
    ("industry_text", _STRING, "Main industry, text"),
    ("industry_section", _STRING, "DB07 section letter A-U (empty when unknown)"),
    ("company_form", _STRING, "CVR company form, short (ENK, APS, A/S, ...)"),
    ("company_form_text", _STRING, "CVR company form, text"),
    ("employees", _STRING, "Size group of employees (0, 1, 2-4, 5-9, 10-19, ...)"),
    ("status", _STRING, "active or ceased on 31 December of the year"),
    ("founded", "date", "Founding date"),
    ("ceased", "date", "Ceasing date (empty while active)"),
    ("address", _STRING, "Street address (empty for personally owned firms without opt-in)"),
    ("postcode", _STRING, "Postcode"),
    ("city", _STRING, "Postal district"),
    ("municipality", _STRING, "Kommunekode (4 digits, as DAGI writes it)"),
    ("lon", "number", "Longitude, WGS84 (coarsened for personally owned firms)"),
    ("lat", "number", "Latitude, WGS84"),
    ("location_precision", _STRING, "address, grid (coarsened to about 250 m) or postcode"),
    ("networks", _STRING, "Ids of the business networks it belongs to, separated by |"),
    ("phone", _STRING, "Public phone (only where the privacy rules allow)"),
    ("email", _STRING, "Public e-mail (only where the privacy rules allow)"),
    ("website", _STRING, "Website (only where the privacy rules allow)"),
    (
        "seated_elsewhere",
        "boolean",
        "True for a local workplace of a company seated outside the covered municipalities "
        "(its address, municipality, industry and employees are the unit's)",
    ),
    (
        "workplaces",
        _STRING,
        "Active workplaces (production units) in the covered municipalities as "
        "kommunekode:size group, separated by | (empty where the units were not read)",
    ),
]

# The Danish-Excel CSV's header row: the same columns under the names a Danish reader knows
# (docs/OPEN_DATA.md lists them); businesses.csv keeps the field names of the data model.
EXCEL_DA_HEADERS: dict[str, str] = {
    "id": "CVR-nummer",
    "name": "Navn",
    "industry_code": "Branchekode",
    "industry_text": "Branche",
    "industry_section": "Branchebogstav (DB07)",
    "company_form": "Virksomhedsform",
    "company_form_text": "Virksomhedsform (tekst)",
    "employees": "Ansatte (interval)",
    "status": "Status",
    "founded": "Startdato",
    "ceased": "Ophørsdato",
    "address": "Adresse",
    "postcode": "Postnummer",
    "city": "Postdistrikt",
    "municipality": "Kommunekode",
    "lon": "Længdegrad",
    "lat": "Breddegrad",
    "location_precision": "Placeringens præcision",
    "networks": "Netværk",
    "phone": "Telefon",
    "email": "E-mail",
    "website": "Hjemmeside",
    "seated_elsewhere": "Hjemsted i anden kommune",
    "workplaces": "Arbejdssteder (kommunekode:ansatte)",
}
# Columns of the Danish-Excel CSV written as Excel text formulas (="2-4"): codes with leading
# zeros, size groups Excel reads as dates, and numbers that are names, not quantities.
EXCEL_TEXT_COLUMNS = frozenset(
    {"id", "industry_code", "employees", "postcode", "municipality", "phone"}
)

_DESCRIPTIONS = {
    "businesses.geojson": "Active businesses on 31 December, GeoJSON (WGS84)",
    "businesses.csv": "The same businesses as CSV (UTF-8 with BOM, comma-separated)",
    "businesses-excel-da.csv": "The same, for Danish Excel: semicolon-separated, decimal comma",
    "networks.geojson": "Business networks: meeting places, areas, members",
    "businesses.gpkg": "Businesses and networks as a GeoPackage (layers businesses and networks)",
    "municipalities.geojson": "The municipalities covered, with their boundaries",
    "barometer.json": "The barometer's figures, with the parameters of its estimates",
    "barometer_da.md": "Press release (Danish, Markdown)",
    "barometer_en.md": "Press release (English, Markdown)",
    "barometer_da.html": "Press release (Danish, HTML)",
    "barometer_en.html": "Press release (English, HTML)",
    "LICENSE.md": "Licence and attribution",
    "chart-micro-by-year_da.svg": "Chart: micro-businesses by year (Danish, SVG)",
    "chart-micro-by-year_en.svg": "Chart: micro-businesses by year (English, SVG)",
    "chart-micro-by-section_da.svg": "Chart: micro-businesses by industry (Danish, SVG)",
    "chart-micro-by-section_en.svg": "Chart: micro-businesses by industry (English, SVG)",
    "chart-new-closed_da.svg": "Chart: new and closed businesses (Danish, SVG)",
    "chart-new-closed_en.svg": "Chart: new and closed businesses (English, SVG)",
}


@dataclass
class PublishedFile:
    """One file of a published snapshot, as its metadata documents describe it."""

    name: str
    size: int
    sha256: str
    media_type: str


def attribution(year: int) -> str:
    return (
        f"# Mikrokort open data {year}\n\n"
        f"Licence: [{LICENCE['title']}]({LICENCE['path']}).\n\n"
        f"- {CVR_ATTRIBUTION}.\n- {DAGI_ATTRIBUTION} (CC BY 4.0).\n"
        "- Business networks: registered by the networks themselves.\n\n"
        "Privacy: personally owned firms show no street address and a location coarsened to "
        "about 250 m unless they opted in; businesses protected against marketing "
        "(reklamebeskyttet) are not in the business files unless they opted in, and their "
        "contact details are never shown; employee numbers are size groups. Do not use these "
        "data for direct marketing to businesses that are reklamebeskyttet.\n"
    )


def _csv_resource(f: PublishedFile, delimiter: str, decimal: str) -> dict[str, Any]:
    """The table's resource; the Danish-Excel file's fields under their Danish headers, with
    the text formulas described (a reader strips `="` and `"` to get the value)."""
    excel = f.name == "businesses-excel-da.csv"
    fields: list[dict[str, Any]] = []
    for name, kind, text in BUSINESS_FIELDS:
        field: dict[str, Any] = {
            "name": EXCEL_DA_HEADERS[name] if excel else name,
            "type": kind,
            "description": text,
        }
        if excel and name in EXCEL_TEXT_COLUMNS:
            field["description"] = f'{text}; written as an Excel text formula, ="..."'
        if kind == "number" and decimal != ".":
            field["decimalChar"] = decimal
        if name == "id":
            pattern = '="[1-9][0-9]{7}"' if excel else "[1-9][0-9]{7}"
            field["constraints"] = {"required": True, "unique": True, "pattern": pattern}
        if name == "status":
            field["constraints"] = {"enum": ["active", "ceased"]}
        fields.append(field)
    key = EXCEL_DA_HEADERS["id"] if excel else "id"
    return {
        "name": f.name.removesuffix(".csv").replace("_", "-").lower(),
        "path": f.name,
        "type": "table",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "bytes": f.size,
        "hash": f"sha256:{f.sha256}",
        "description": _DESCRIPTIONS.get(f.name, f.name),
        "dialect": {"csv": {"delimiter": delimiter}},
        "schema": {"fields": fields, "primaryKey": [key]},
    }


def _file_resource(f: PublishedFile) -> dict[str, Any]:
    fmt = f.name.rsplit(".", 1)[-1].lower()
    return {
        "name": f.name.replace(".", "-").replace("_", "-").lower(),
        "path": f.name,
        "type": "file",
        "scheme": "file",
        "format": fmt,
        "mediatype": f.media_type.split(";")[0],
        "bytes": f.size,
        "hash": f"sha256:{f.sha256}",
        "description": _DESCRIPTIONS.get(f.name, f.name),
    }


def _areas(municipalities: tuple[str, ...], lang: str) -> str:
    """The covered municipalities by their official names: 'Københavns Kommune', 'Guldborgsund
    Kommune og Vordingborg Kommune' (in the order of their codes, as the barometer lists them)."""
    return enumeration([official_name(c, lang) for c in sorted(municipalities)], lang)


def datapackage(
    year: int, revision: int, files: list[PublishedFile], municipalities: tuple[str, ...] = ()
) -> bytes:
    """Frictionless Data Package describing every file (and every field of the tables)."""
    resources = []
    for f in files:
        if f.name == "businesses.csv":
            resources.append(_csv_resource(f, ",", "."))
        elif f.name == "businesses-excel-da.csv":
            resources.append(_csv_resource(f, ";", ","))
        else:
            resources.append(_file_resource(f))
    doc = {
        "name": f"mikrokort-{year}" + (f"-rev-{revision}" if revision > 1 else ""),
        "title": f"Mikrokort: micro-businesses and business networks, {year}",
        "description": (
            f"The state of the Mikrokort map on 31 December {year}"
            + (f" in {_areas(municipalities, 'en')}" if municipalities else "")
            + ": businesses, networks and municipalities, with the year's barometer. Privacy "
            "rules applied."
        ),
        "version": f"{year}.{revision}",
        "licenses": [LICENCE],
        "sources": [
            {"title": CVR_ATTRIBUTION, "path": "https://datacvr.virk.dk"},
            {"title": DAGI_ATTRIBUTION, "path": "https://dataforsyningen.dk"},
        ],
        "resources": resources,
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)
