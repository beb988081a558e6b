"""One LIKE, two translations: the regular expression DynamoDB's residual filter uses and the
GLOB pattern SQLite runs agree on every pattern and text here, special characters included,
checked in SQLite itself; and both say what CQL2 says for the hand-written cases."""

from __future__ import annotations

import sqlite3

import pytest

from chalicelib.domain.filters import like_regex
from chalicelib.store.sqlite_filters import _glob

PATTERNS = ["43%", "%ApS", "T_mrer", "%\\%%", "%\\_%", "a*b%", "[x]%", "%?", "ab\\", "%", "_"]
TEXTS = [
    "43320",
    "Tømrer",
    "Tomrer",
    "50% rabat",
    "snake_case",
    "a*b c",
    "[x] ok",
    "hvad?",
    "ab\\",
    "",
    "x",
    "Byg ApS",
    "AB\\",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_and_glob_agree_in_sqlite(pattern: str) -> None:
    db = sqlite3.connect(":memory:")
    for text in TEXTS:
        (glob,) = db.execute("SELECT ? GLOB ?", (text, _glob(pattern))).fetchone()
        assert bool(glob) == bool(like_regex(pattern).fullmatch(text)), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "want"),
    [
        ("%\\%%", "50% rabat", True),  # an escaped % is a percent sign
        ("%\\%%", "50 rabat", False),
        ("%\\_%", "snake_case", True),
        ("%\\_%", "snakecase", False),
        ("T_mrer", "Tømrer", True),  # one character, not one byte
        ("a*b%", "a*b c", True),  # GLOB's own specials are plain characters in LIKE
        ("a*b%", "aXXb c", False),
        ("[x]%", "x ok", False),
        ("ab\\", "ab\\", True),  # a trailing backslash stands for itself
        ("%ApS", "Byg APS", False),  # case counts
    ],
)
def test_like_means_what_cql2_says(pattern: str, text: str, want: bool) -> None:
    db = sqlite3.connect(":memory:")
    assert bool(like_regex(pattern).fullmatch(text)) is want
    assert bool(db.execute("SELECT ? GLOB ?", (text, _glob(pattern))).fetchone()[0]) is want
