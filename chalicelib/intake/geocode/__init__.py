"""Address -> point: the Geocoder port, the shared types of its adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


class GeocoderUnavailable(Exception):
    """The address service cannot answer now (down, slow, refusing us): fall back, retry later."""


@dataclass(frozen=True)
class AddressRef:
    """One address to locate, as the register gives it."""

    key: str  # cache key: "dar:<adresseId>" or "txt:<folded address text>"
    text: str  # e.g. "Langgade 12B, 2. th, 4800 Nykøbing F"
    address_id: str | None = None  # the DAR address UUID (CVR's adresseId), when known
    postcode: str | None = None  # 4 digits
    street: str | None = None  # "Langgade": the address line without number, floor and door
    number: str | None = None  # "12B": DAR's husnummertekst of the first house of a range


@dataclass(frozen=True)
class Answer:
    """What the address service said about one address.

    `point` is WGS84 (lon, lat) of the very house asked for, or None; then `reason` says why in
    one line (no such house, only other house numbers, several houses of that name), which the
    locator keeps with its "not found" so a fallback to the postcode is explained.
    """

    point: tuple[float, float] | None
    reason: str | None = None
    via: Literal["id", "text"] | None = None  # found by the DAR id or by street and number


class Geocoder(Protocol):
    """An address service adapter."""

    def lookup(self, ref: AddressRef) -> Answer:
        """The point of the address, or no point and the reason.

        Raises GeocoderUnavailable when the service cannot answer (the caller falls back).
        """
        ...
