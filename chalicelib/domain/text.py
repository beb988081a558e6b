"""Text: folding for case- and Danish-spelling-insensitive search, and the numbers and
counted nouns of the texts people read (Danish and English singular and plural, number formats)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date


def fold(text: str) -> str:
    """Lower-case, NFKC-normalised text, so 'ØSTER' finds 'Øster' and ligatures compare equal."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "ae", "ö": "o", "ü": "u"})
_DOUBLES = re.compile(r"aa|oe")
_SPACE = re.compile(r"\s+")


def search_fold(text: str) -> str:
    """The form names are searched in: case, accents and the common Danish spellings folded
    together, so 'Aabenraa' finds 'Åbenrå', 'Toemrer' and 'tomrer' find 'Tømrer', 'Naestved'
    finds 'Næstved'. Both the text and the query are folded the same way."""
    text = fold(text).translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _DOUBLES.sub(lambda m: m.group(0)[0], text)
    return _SPACE.sub(" ", text)


# -- numbers and counted nouns in the texts people read ----------------------------------------
#
# Every text that counts something (the press release, the feed, the open-data descriptions)
# formats its numbers and picks its noun's form here, so "1 aktiv mikrovirksomhed" and
# "2 aktive mikrovirksomheder" come out right in one place instead of in every template.

LANGS = ("da", "en")

# noun -> language -> (singular, plural); Danish adjectives agree with the noun ("1 ny
# virksomhed", "3 nye virksomheder", "1 lokalt netværk"); "job" and "netværk" do not change.
NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    "business": {"da": ("virksomhed", "virksomheder"), "en": ("business", "businesses")},
    "new_business": {
        "da": ("ny virksomhed", "nye virksomheder"),
        "en": ("new business", "new businesses"),
    },
    "micro_business": {
        "da": ("mikrovirksomhed", "mikrovirksomheder"),
        "en": ("micro-business", "micro-businesses"),
    },
    "active_micro_business": {
        "da": ("aktiv mikrovirksomhed", "aktive mikrovirksomheder"),
        "en": ("active micro-business", "active micro-businesses"),
    },
    "job": {"da": ("job", "job"), "en": ("job", "jobs")},
    "network": {"da": ("netværk", "netværk"), "en": ("network", "networks")},
    "local_network": {
        "da": ("lokalt netværk", "lokale netværk"),
        "en": ("local network", "local networks"),
    },
    "employee": {"da": ("ansat", "ansatte"), "en": ("employee", "employees")},
    "member": {"da": ("medlem", "medlemmer"), "en": ("member", "members")},
}


def number(value: float, lang: str, decimals: int = 0) -> str:
    """A number as the language writes it: Danish 1.234,5 (point for thousands, comma for
    decimals), English 1,234.5."""
    text = f"{value:,.{decimals}f}"
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: float | None, lang: str, decimals: int = 1, *, signed: bool = False) -> str:
    """Percentage points as text: Danish '0,9 %' (a space before the sign, as Danish
    typesetting has it), English '0.9%'; '-' when there is no figure (nothing to divide by)."""
    if value is None:
        return "-"
    text = number(value, lang, decimals)
    if signed and value > 0:
        text = "+" + text
    return f"{text} %" if lang == "da" else f"{text}%"


def signed_number(value: float, lang: str, decimals: int = 0) -> str:
    """A change: '+3', '-2', '0'."""
    return ("+" if value > 0 else "") + number(value, lang, decimals)


def is_one(value: float, decimals: int = 0) -> bool:
    """Whether the number as printed is one (or minus one): the noun is then singular, in
    Danish and English alike ('1 job' but '1,5 job'; '1 job' but '1.5 jobs')."""
    return f"{abs(value):.{decimals}f}" == "1"


def noun(value: float, name: str, lang: str, decimals: int = 0) -> str:
    """The noun `name` (a key of NOUNS) in the form that goes with this number."""
    singular, plural = NOUNS[name][lang]
    return singular if is_one(value, decimals) else plural


def count(value: float, name: str, lang: str, decimals: int = 0) -> str:
    """The number and its noun: '1 aktiv mikrovirksomhed', '1.234 aktive mikrovirksomheder',
    '2 jobs'."""
    return f"{number(value, lang, decimals)} {noun(value, name, lang, decimals)}"


def size_group(group: str, lang: str) -> str:
    """A CVR size group with its noun: '1 ansat', '2-4 ansatte', '1 employee'. A group is a
    label, not a number: only the group '1' is singular."""
    singular, plural = NOUNS["employee"][lang]
    return f"{group} {singular if group.strip() == '1' else plural}"


def enumeration(items: list[str], lang: str) -> str:
    """'A', 'A og B', 'A, B og C' (English 'A, B and C')."""
    if len(items) <= 1:
        return "".join(items)
    word = " og " if lang == "da" else " and "
    return ", ".join(items[:-1]) + word + items[-1]


_MONTHS = {
    "da": [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def date_text(day: date, lang: str) -> str:
    """A date as a sentence writes it: '1. november 2026', '1 November 2026'."""
    month = _MONTHS["en" if lang == "en" else "da"][day.month - 1]
    return f"{day.day}. {month} {day.year}" if lang != "en" else f"{day.day} {month} {day.year}"
