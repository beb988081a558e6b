"""Danish-spelling-insensitive search folding."""

from __future__ import annotations

import pytest

from chalicelib.domain.text import search_fold


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Aabenraa", "Åbenrå Auto"),
        ("åbenrå", "AABENRAA AUTO"),
        ("tomrer", "Falster Tømrer ApS"),
        ("toemrer", "Falster Tømrer ApS"),
        ("TØMRER", "falster tømrer aps"),
        ("Naestved", "Næstved Blomster"),
        ("naestved", "NÆSTVED BLOMSTER"),
        ("Haarby", "Hårby Kro"),
        ("cafe", "Café Ø"),
        ("nykobing", "Nykøbing  F  Bogføring"),
    ],
)
def test_danish_spellings_find_each_other(query: str, name: str) -> None:
    assert search_fold(query) in search_fold(name)


@pytest.mark.parametrize(
    ("query", "name"), [("bager", "Tømrer ApS"), ("aalborg", "Ålesund"), ("smed", "Snedker")]
)
def test_different_words_stay_different(query: str, name: str) -> None:
    assert search_fold(query) not in search_fold(name)
