"""Official municipality names, from the shipped reference data, over every code it has."""

from __future__ import annotations

import csv

import pytest

from chalicelib import DATA_DIR
from chalicelib.domain.reference import load_municipalities, municipality_codes, official_name

# The names the brief of every text gives (Danish, English).
EXAMPLES = {
    "101": ("Københavns Kommune", "Copenhagen Municipality"),
    "147": ("Frederiksberg Kommune", "Frederiksberg Municipality"),
    "169": ("Høje-Taastrup Kommune", "Høje-Taastrup Municipality"),
    "173": ("Lyngby-Taarbæk Kommune", "Lyngby-Taarbæk Municipality"),
    "376": ("Guldborgsund Kommune", "Guldborgsund Municipality"),
    "390": ("Vordingborg Kommune", "Vordingborg Municipality"),
    "400": ("Bornholms Regionskommune", "Bornholm Regional Municipality"),
    "411": ("Christiansø", "Christiansø"),
    "480": ("Nordfyns Kommune", "Nordfyn Municipality"),
    "751": ("Aarhus Kommune", "Aarhus Municipality"),
    "820": ("Vesthimmerlands Kommune", "Vesthimmerland Municipality"),
    "851": ("Aalborg Kommune", "Aalborg Municipality"),
}


def _rows() -> list[dict[str, str]]:
    with (DATA_DIR / "dk_kommunekoder.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(("code", "names"), sorted(EXAMPLES.items()))
def test_the_official_names(code: str, names: tuple[str, str]) -> None:
    assert (official_name(code, "da"), official_name(code, "en")) == names
    assert official_name("0" + code) == names[0]  # the 4-digit form names the same


def test_every_code_of_the_reference_data_has_its_official_name() -> None:
    codes = municipality_codes()
    assert len(codes) == 99 and "411" in codes  # 98 municipalities and Christiansø
    assert {r["kommunekode"][-3:] for r in _rows()} == set(codes)
    danish = {c: official_name(c, "da") for c in codes}
    english = {c: official_name(c, "en") for c in codes}
    assert len(set(danish.values())) == len(set(english.values())) == 99
    short = {m.kommunekode: m.name for m in load_municipalities(codes)}
    for code in codes:
        if code == "411":
            continue
        da, en = danish[code], english[code]
        # a municipality is named as one, the regional municipality included
        assert da.endswith(" Kommune") or da == "Bornholms Regionskommune", da
        assert en.endswith(" Municipality"), en
        # ... after its own short name (the DAGI name), hyphenated where officially so
        stem = short[code].replace(" ", "-")
        assert da.startswith(stem), da
        if code != "101":  # Copenhagen has an English name of its own
            assert en.startswith(stem.removesuffix("s")), en
        # the genitive s only where the official name has it
        genitive = da.split(" ")[0] != stem
        assert genitive == (code in ("101", "400")), da


def test_christianso_is_not_named_a_municipality() -> None:
    assert "ommune" not in official_name("411", "da")
    assert "unicipality" not in official_name("411", "en")
    note = next(r["note"] for r in _rows() if r["kommunekode"] == "0411")
    assert "not a municipality" in note


def test_an_unknown_code_is_named_as_unknown_not_as_a_bare_number() -> None:
    assert official_name("999", "da") == "ukendt kommune (999)"
    assert official_name("999", "en") == "unknown municipality (999)"
