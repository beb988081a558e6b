"""Numbers and counted nouns in Danish and English: singular for one, plural otherwise, and
each language's number format."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.text import (
    NOUNS,
    count,
    date_text,
    enumeration,
    number,
    percent,
    signed_number,
    size_group,
)


@pytest.mark.parametrize(
    ("n", "name", "lang", "expected"),
    [
        (1, "active_micro_business", "da", "1 aktiv mikrovirksomhed"),
        (2, "active_micro_business", "da", "2 aktive mikrovirksomheder"),
        (0, "active_micro_business", "da", "0 aktive mikrovirksomheder"),
        (1234, "active_micro_business", "da", "1.234 aktive mikrovirksomheder"),
        (1, "active_micro_business", "en", "1 active micro-business"),
        (1234, "active_micro_business", "en", "1,234 active micro-businesses"),
        (1, "job", "da", "1 job"),
        (2, "job", "da", "2 job"),
        (1, "job", "en", "1 job"),
        (2, "job", "en", "2 jobs"),
        (1.4, "job", "en", "1 job"),  # as printed, without decimals
        (1, "network", "en", "1 network"),
        (2, "network", "en", "2 networks"),
        (1, "network", "da", "1 netværk"),
        (2, "network", "da", "2 netværk"),
        (1, "local_network", "da", "1 lokalt netværk"),
        (3, "local_network", "da", "3 lokale netværk"),
        (1, "new_business", "da", "1 ny virksomhed"),
        (3, "new_business", "da", "3 nye virksomheder"),
        (1, "new_business", "en", "1 new business"),
        (3, "new_business", "en", "3 new businesses"),
        (1, "business", "da", "1 virksomhed"),
        (-1, "business", "da", "-1 virksomhed"),
        (1, "member", "da", "1 medlem"),
        (4, "member", "da", "4 medlemmer"),
        (1, "member", "en", "1 member"),
    ],
)
def test_counts(n: float, name: str, lang: str, expected: str) -> None:
    assert count(n, name, lang) == expected


def test_a_decimal_one_is_plural() -> None:
    assert count(1.5, "job", "da", decimals=1) == "1,5 job"
    assert count(1.5, "job", "en", decimals=1) == "1.5 jobs"
    assert count(1.0, "job", "en", decimals=1) == "1.0 jobs"


def test_every_noun_has_both_forms_in_both_languages() -> None:
    for name, forms in NOUNS.items():
        assert set(forms) == {"da", "en"}, name
        assert all(len(pair) == 2 and all(pair) for pair in forms.values()), name


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (1234, "da", 0, "1.234"),
        (1234567, "da", 0, "1.234.567"),
        (1234.5, "da", 1, "1.234,5"),
        (1234, "en", 0, "1,234"),
        (1234.5, "en", 1, "1,234.5"),
        (999, "da", 0, "999"),
        (-1234, "da", 0, "-1.234"),
    ],
)
def test_numbers(value: float, lang: str, decimals: int, expected: str) -> None:
    assert number(value, lang, decimals) == expected


def test_percentages() -> None:
    assert percent(0.9, "da") == "0,9 %"
    assert percent(0.9, "en") == "0.9%"
    assert percent(25.8, "da", 2) == "25,80 %"
    assert percent(1234.5, "da") == "1.234,5 %"
    assert percent(5, "da", signed=True) == "+5,0 %"
    assert percent(-5, "en", signed=True) == "-5.0%"
    assert percent(None, "da") == "-"


def test_signed_numbers() -> None:
    assert signed_number(1234, "da") == "+1.234"
    assert signed_number(-2, "en") == "-2"
    assert signed_number(0, "da") == "0"


@pytest.mark.parametrize(
    ("group", "lang", "expected"),
    [
        ("1", "da", "1 ansat"),
        ("0", "da", "0 ansatte"),
        ("2-4", "da", "2-4 ansatte"),
        ("1", "en", "1 employee"),
        ("10-19", "en", "10-19 employees"),
    ],
)
def test_size_groups(group: str, lang: str, expected: str) -> None:
    assert size_group(group, lang) == expected


def test_enumerations() -> None:
    assert enumeration([], "da") == ""
    assert enumeration(["Københavns Kommune"], "da") == "Københavns Kommune"
    assert enumeration(["A", "B"], "da") == "A og B"
    assert enumeration(["A", "B", "C"], "da") == "A, B og C"
    assert enumeration(["A", "B", "C"], "en") == "A, B and C"


def test_dates_as_sentences_write_them() -> None:
    assert date_text(date(2026, 11, 1), "da") == "1. november 2026"
    assert date_text(date(2026, 5, 31), "en") == "31 May 2026"
