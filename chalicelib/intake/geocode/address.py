"""The street and house number of a register address line, the part the geocoder asks about.

The Business model keeps one address line, composed by the CVR mapping as the Danish address
register writes it: "Langgade 12B", "Langgade 12B-14, 2. th", "Langgade 3, 02. tv". Gsearch ANDs
every word of a query as a prefix (see docs/GEOCODING.md), so a floor written "02", a range's
second number or an old town spelling makes the whole query find nothing. The locator therefore
asks for the street and the first house number (with its letter) only, and compares house
numbers exactly; this module takes those two back out of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "12", "12B", "12 B", "12B-14", "12-14C", "12 - 14": the first number (and letter) is the house
_NUMBER = re.compile(
    r"^(?P<number>\d{1,4})\s?(?P<letter>[A-Za-zÆØÅæøå]?)(?:\s*-\s*\d{1,4}\s?[A-Za-zÆØÅæøå]?)?$"
)
_HOUSE = re.compile(r"(?P<number>\d{1,4}) ?(?P<letter>[A-Za-zÆØÅæøå]?)")  # one DAR husnummertekst
_SPACE = re.compile(r"\s+")
_NOT_STREETS = {"postboks", "pb.", "pb", "boks"}  # "Postboks 123" has a number, not a house


@dataclass(frozen=True)
class StreetAddress:
    """The street name and house number of an address line ("Langgade", "12B")."""

    street: str
    number: str  # DAR's husnummertekst: digits and an upper-case letter, no leading zeros


def street_address(line: str | None) -> StreetAddress | None:
    """The street and first house number of a register address line, or None when the line has
    no house number to check a hit against (a P.O. box, free text, a road without numbers)."""
    if not line:
        return None
    head = _SPACE.sub(" ", line.split(",", 1)[0]).strip()
    # the number is the last one or two words: "Langgade 12B-14", "Langgade 12 B"
    words = head.split(" ")
    for take in (1, 2, 3):
        if len(words) <= take:
            break
        match = _NUMBER.match(" ".join(words[-take:]))
        if match:
            street = " ".join(words[:-take]).strip()
            number = str(int(match["number"])) + match["letter"].upper()
            if not street or int(match["number"]) == 0 or street.casefold() in _NOT_STREETS:
                return None
            return StreetAddress(street, number)
    return None


def same_house_number(found: object, wanted: str) -> bool:
    """Whether a hit's house number is the wanted one: "12B" equals "12 b", never "12" or "14"."""
    if not isinstance(found, str):
        return False
    match = _HOUSE.fullmatch(_SPACE.sub(" ", found.strip()))
    if match is None:
        return False
    return str(int(match["number"])) + match["letter"].upper() == wanted
