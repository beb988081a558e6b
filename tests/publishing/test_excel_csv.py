"""The Danish-Excel CSV keeps its values: Danish headers, and every code, size group, postcode,
CVR and phone number written as an Excel text formula (="2-4") that Excel shows as the text
itself instead of a date or a number; the values are those of businesses.csv."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import orjson
import pytest

from chalicelib.publishing.opendata import EXCEL_DA_HEADERS, EXCEL_TEXT_COLUMNS
from chalicelib.publishing.snapshot import CSV_COLUMNS, excel_row, excel_text
from tests.publishing.conftest import AWKWARD

STRING_CONSTANT = re.compile(r'^="((?:[^"]|"")*)"$')


def _read(folder: Path, name: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    text = (folder / name).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows[0], rows[1:]


def _text_of(cell: str) -> str:
    match = STRING_CONSTANT.match(cell)
    return match.group(1).replace('""', '"') if match else cell


@pytest.fixture(scope="module")
def tables(snapshot_folder: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {
        "std": _read(snapshot_folder, "businesses.csv", ","),
        "da": _read(snapshot_folder, "businesses-excel-da.csv", ";"),
    }


def test_the_headers_are_danish(tables: dict[str, tuple[list[str], list[list[str]]]]) -> None:
    header, _ = tables["da"]
    assert set(EXCEL_DA_HEADERS) == set(CSV_COLUMNS)  # every column has its Danish name
    assert header == [EXCEL_DA_HEADERS[c] for c in CSV_COLUMNS]
    assert header[:3] == ["CVR-nummer", "Navn", "Branchekode"]
    assert tables["std"][0] == CSV_COLUMNS  # the other CSV keeps the data model's names


def test_values_excel_would_convert_are_text_formulas(
    tables: dict[str, tuple[list[str], list[list[str]]]],
) -> None:
    _, rows = tables["da"]
    by_id = {_text_of(r[0]): dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows}
    farm = by_id[AWKWARD[0].id]
    assert farm["industry_code"] == '="011100"'  # not 11100
    assert farm["employees"] == '="2-4"'  # not 2 April
    assert farm["postcode"] == '="4800"' and farm["municipality"] == '="0376"'
    assert farm["phone"] == '="+45 54 85 00 00"'  # neither a sum nor a number without spaces
    assert farm["id"] == f'="{AWKWARD[0].id}"'
    assert farm["founded"] == "2019-05-01"  # a date Excel should read as a date
    assert farm["lon"] == "11,8801" and farm["lat"] == "54,7702"  # numbers, decimal comma
    assert by_id[AWKWARD[2].id]["name"] == '="5-9"'  # a name that looks like a date
    # a register name that starts a formula is still neutralised with a quote
    assert by_id[AWKWARD[1].id]["name"] == "'" + AWKWARD[1].name
    assert by_id[AWKWARD[1].id]["employees"] == '="10-19"'


def test_every_cell_is_the_value_of_businesses_csv(
    tables: dict[str, tuple[list[str], list[list[str]]]],
) -> None:
    _, std = tables["std"]
    _, da = tables["da"]
    assert len(std) == len(da) > 100
    for plain, excel in zip(std, da, strict=True):
        for column, a, b in zip(CSV_COLUMNS, plain, excel, strict=True):
            if column in ("lon", "lat"):
                assert a == b.replace(",", "."), column
            elif column in EXCEL_TEXT_COLUMNS and a:
                assert STRING_CONSTANT.match(b), (column, b)
                assert _text_of(b) == a.removeprefix("'"), column
            elif STRING_CONSTANT.match(b):
                assert _text_of(b) == a.removeprefix("'"), column
            else:
                assert b == a, column


def test_the_data_package_describes_the_danish_headers(snapshot_folder: Path) -> None:
    package = orjson.loads((snapshot_folder / "datapackage.json").read_bytes())
    [resource] = [r for r in package["resources"] if r["path"] == "businesses-excel-da.csv"]
    fields = resource["schema"]["fields"]
    assert [f["name"] for f in fields] == [EXCEL_DA_HEADERS[c] for c in CSV_COLUMNS]
    assert resource["schema"]["primaryKey"] == ["CVR-nummer"]
    assert resource["dialect"]["csv"]["delimiter"] == ";"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('Smed "Hansen"', '="Smed ""Hansen"""'),  # a quote inside is doubled
        ("=1+1", '="=1+1"'),  # inside a string constant nothing runs
        ("", '=""'),
    ],
)
def test_excel_text(value: str, cell: str) -> None:
    assert excel_text(value) == cell
    assert _text_of(cell) == value


def test_text_longer_than_excels_constants_is_not_a_formula() -> None:
    """Excel refuses a string constant over 255 characters: such a value stays plain text."""
    row = ["" for _ in CSV_COLUMNS]
    row[CSV_COLUMNS.index("phone")] = "1" * 256
    row[CSV_COLUMNS.index("name")] = "-" + "2" * 300
    out = dict(zip(CSV_COLUMNS, excel_row(row), strict=True))
    assert out["phone"] == "1" * 256
    assert out["name"] == "'-" + "2" * 300  # and neutralised like any other text
