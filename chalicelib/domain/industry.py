"""DB07 (Danish NACE rev. 2) sections, derived from the first two digits of a branchekode.

DB25 (NACE rev. 2.1) codes appear in CVR from 2025. A code whose division does not exist in
DB07 keeps its code and text but gets no section: we classify what can be classified and never
reject a well-formed 6-digit code.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from chalicelib import PACKAGE_DIR

# (first division, last division, section letter)
_DIVISION_RANGES: tuple[tuple[int, int, str], ...] = (
    (1, 3, "A"),
    (5, 9, "B"),
    (10, 33, "C"),
    (35, 35, "D"),
    (36, 39, "E"),
    (41, 43, "F"),
    (45, 47, "G"),
    (49, 53, "H"),
    (55, 56, "I"),
    (58, 63, "J"),
    (64, 66, "K"),
    (68, 68, "L"),
    (69, 75, "M"),
    (77, 82, "N"),
    (84, 84, "O"),
    (85, 85, "P"),
    (86, 88, "Q"),
    (90, 93, "R"),
    (94, 96, "S"),
    (97, 98, "T"),
    (99, 99, "U"),
)

SECTION_NAMES: dict[str, tuple[str, str]] = {
    "A": ("Landbrug, skovbrug og fiskeri", "Agriculture, forestry and fishing"),
    "B": ("Råstofindvinding", "Mining and quarrying"),
    "C": ("Industri", "Manufacturing"),
    "D": ("Energiforsyning", "Electricity, gas, steam and air conditioning supply"),
    "E": (
        "Vandforsyning, kloakvæsen, affaldshåndtering",
        "Water supply, sewerage, waste management",
    ),
    "F": ("Bygge og anlæg", "Construction"),
    "G": ("Handel", "Wholesale and retail trade"),
    "H": ("Transport og godshåndtering", "Transportation and storage"),
    "I": ("Hoteller og restauranter", "Accommodation and food service"),
    "J": ("Information og kommunikation", "Information and communication"),
    "K": ("Finansiering og forsikring", "Financial and insurance activities"),
    "L": ("Fast ejendom", "Real estate activities"),
    "M": (
        "Liberale, videnskabelige og tekniske tjenesteydelser",
        "Professional, scientific and technical activities",
    ),
    "N": (
        "Administrative tjenesteydelser og hjælpetjenester",
        "Administrative and support service activities",
    ),
    "O": (
        "Offentlig administration, forsvar og socialsikring",
        "Public administration and defence",
    ),
    "P": ("Undervisning", "Education"),
    "Q": ("Sundhed og socialvæsen", "Human health and social work"),
    "R": ("Kultur, forlystelser og sport", "Arts, entertainment and recreation"),
    "S": ("Andre serviceydelser", "Other service activities"),
    "T": ("Private husholdninger med ansat medhjælp", "Activities of households as employers"),
    "U": ("Ekstraterritoriale organisationer", "Extraterritorial organisations"),
}

_SECTION_BY_DIVISION: dict[int, str] = {
    division: letter
    for first, last, letter in _DIVISION_RANGES
    for division in range(first, last + 1)
}


def section_of(code: str) -> str | None:
    """Section letter of a 6-digit branchekode, or None when its division is not in DB07."""
    if len(code) < 2 or not code[:2].isdigit():
        return None
    return _SECTION_BY_DIVISION.get(int(code[:2]))


def divisions_of(section: str) -> list[str]:
    """The two-digit divisions of a section letter, e.g. 'F' -> ['41', '42', '43']."""
    return sorted(f"{d:02d}" for d, s in _SECTION_BY_DIVISION.items() if s == section)


# Eurostat's English names of the classes (data/ATTRIBUTION.md): NACE rev. 2, which DB07 codes
# follow, and rev. 2.1, which DB25 codes follow
NACE_EN = (PACKAGE_DIR / "data" / "nace_rev2_en.csv", PACKAGE_DIR / "data" / "nace_rev21_en.csv")


def _classes(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {
            row["code"].replace(".", ""): row["label"]
            for row in csv.DictReader(f)
            if len(row["code"]) == 5  # NN.NN: a class
        }


def _same(a: str, b: str) -> bool:
    return a.casefold().replace("\u2019", "'") == b.casefold().replace("\u2019", "'")


@lru_cache(maxsize=1)
def _nace_classes_en() -> dict[str, str]:
    """The English name of each class whose four digits say what it is: a class of one revision
    only (a code of it is DB07's, or DB25's), or of both under the same name. A class of both
    revisions under different names (10.51 "Operation of dairies and cheese making" became
    "Manufacture of dairy products") is left out: the register does not say which list a code
    comes from, and a name of the other list could be wrong."""
    rev2, rev21 = (_classes(path) for path in NACE_EN)
    names = {c: n for c, n in rev21.items() if c not in rev2}
    for code, name in rev2.items():
        if code not in rev21 or _same(name, rev21[code]):
            names[code] = name
    return dict(sorted(names.items()))


def english_industry_text(code: str | None) -> str | None:
    """The English name of a 6-digit code's NACE class: DB07 is NACE rev. 2 with a Danish fifth
    and sixth digit (DB25 the same of rev. 2.1), so 433200 and 433210 are both class 43.32,
    "Joinery installation". There is no English list of the Danish subdivisions; their class
    is the nearest English name. None where the class's name depends on the revision."""
    if not code or len(code) < 4 or not code[:4].isdigit():
        return None
    return _nace_classes_en().get(code[:4])


def industry_text(code: str | None, danish: str | None, lang: str) -> str | None:
    """The industry as a reader of `lang` reads it: the register's Danish text, or in English
    the code's NACE class (the Danish text where it has no sure English name)."""
    if lang == "en" and (english := english_industry_text(code)):
        return english
    return danish


def english_classes_of(codes: Iterable[str]) -> dict[str, str]:
    """The English names of the codes' classes, by four digits (the widget's map data)."""
    classes = _nace_classes_en()
    return {c[:4]: classes[c[:4]] for c in sorted(set(codes)) if c[:4] in classes}


def all_english_classes() -> dict[str, str]:
    """Every class with a sure English name, by four digits (a tiled map's data)."""
    return dict(_nace_classes_en())
