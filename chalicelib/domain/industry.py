"""DB07 (Danish NACE rev. 2) sections, derived from the first two digits of a branchekode.

DB25 (NACE rev. 2.1) codes appear in CVR from 2025. A code whose division does not exist in
DB07 keeps its code and text but gets no section: we classify what can be classified and never
reject a well-formed 6-digit code.
"""

from __future__ import annotations

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
