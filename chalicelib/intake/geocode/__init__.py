"""Address -> point: the Geocoder port, the shared types of its adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class GeocoderUnavailable(Exception):
    """The address service cannot answer now (down, slow, refusing us): fall back, retry later."""


@dataclass(frozen=True)
class AddressRef:
    """One address to locate, as the register gives it."""

    key: str  # cache key: "dar:<adresseId>" or "txt:<folded address text>"
    text: str  # e.g. "Langgade 12B, 4800 Nykøbing F"
    address_id: str | None = None  # the DAR address UUID (CVR's adresseId), when known
    postcode: str | None = None  # 4 digits


class Geocoder(Protocol):
    """An address service adapter."""

    def lookup(self, ref: AddressRef) -> tuple[float, float] | None:
        """The WGS84 (lon, lat) of the address, or None when the service does not know it.

        Raises GeocoderUnavailable when the service cannot answer (the caller falls back).
        """
        ...
