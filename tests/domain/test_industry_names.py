"""English names of industries: the NACE class of a DB07 or DB25 code, from Eurostat's lists of
both revisions, and none where the two revisions name a class differently (the register does
not say which list a code is from)."""

from __future__ import annotations

import csv

import pytest

from chalicelib.domain.industry import (
    NACE_EN,
    all_english_classes,
    english_classes_of,
    english_industry_text,
    industry_text,
)


def _classes(path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {r["code"]: r["label"] for r in csv.DictReader(f) if len(r["code"]) == 5}


def test_the_shipped_lists_are_eurostats_whole_classifications() -> None:
    rev2, rev21 = (_classes(path) for path in NACE_EN)
    assert len(rev2) == 615 and len(rev21) == 651  # NACE rev. 2 and rev. 2.1 classes
    assert rev2["43.32"] == rev21["43.32"] == "Joinery installation"
    assert rev2["62.01"] == "Computer programming activities" and "62.01" not in rev21
    assert rev21["62.10"] == "Computer programming activities" and "62.10" not in rev2


@pytest.mark.parametrize(
    ("code", "english"),
    [
        ("433200", "Joinery installation"),  # the DB07 code is the class itself
        ("433210", "Joinery installation"),  # a Danish subdivision: its class
        ("561010", "Restaurants and mobile food service activities"),  # rev. 2 only: DB07
        ("620100", "Computer programming activities"),  # rev. 2 only
        ("621000", "Computer programming activities"),  # rev. 2.1 only: DB25
        ("960210", "Hairdressing and other beauty treatment"),
        ("105100", None),  # 10.51: "Operation of dairies..." or "Manufacture of dairy products"
        ("999999", None),  # not a class
        ("12", None),
        (None, None),
    ],
)
def test_a_code_gets_its_class_name_only_where_it_is_sure(code, english) -> None:
    assert english_industry_text(code) == english


def test_every_name_given_is_the_same_in_the_revision_the_code_could_be_from() -> None:
    rev2, rev21 = ({c.replace(".", ""): n for c, n in _classes(path).items()} for path in NACE_EN)
    names = all_english_classes()
    assert 500 < len(names) < len(set(rev2) | set(rev21))
    for code, name in names.items():
        candidates = [n for n in (rev2.get(code), rev21.get(code)) if n is not None]
        assert candidates and all(n.casefold() == name.casefold() for n in candidates), code


def test_industry_text_is_danish_unless_an_english_name_is_sure() -> None:
    danish = "Tømrer- og bygningssnedkervirksomhed"
    assert industry_text("433200", danish, "da") == danish
    assert industry_text("433200", danish, "en") == "Joinery installation"
    assert industry_text("105100", "Mejerier", "en") == "Mejerier"
    assert industry_text(None, None, "en") is None
    assert english_classes_of(["433200", "433210", "105100", "561010"]) == {
        "4332": "Joinery installation",
        "5610": "Restaurants and mobile food service activities",
    }
