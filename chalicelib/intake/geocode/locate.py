"""Locating register addresses: the store's cache first, then the address service, else the
postcode's point.

An address is looked up once: found points and "not found" answers are cached in the store, so a
re-run, a re-import or a second business at the same address costs no call. When the service is
down, slow or not configured, the business still gets a point (its postcode's, marked
`postcode`) and is remembered for a retry on a later run: nothing waits for the service.

A point at `address` precision is always the house itself: the service adapter takes a hit only
when its house number is the wanted one; otherwise the postcode's point, with the reason kept
in the cache and in `Located.note` (docs/GEOCODING.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from chalicelib.domain.geo import in_denmark
from chalicelib.domain.reference import postcode_point
from chalicelib.domain.text import fold
from chalicelib.intake.geocode import AddressRef, Geocoder, GeocoderUnavailable
from chalicelib.intake.geocode.address import street_address

if TYPE_CHECKING:
    from chalicelib.store import Store

log = logging.getLogger("mikrokort")

CACHE = "geocode"
# Found points cached before house numbers were compared exactly may be a neighbour's house
# ("Langgade 1" on 14): a found point without this version is asked again.
CACHE_VERSION = 2
NOT_FOUND_TTL = timedelta(days=30)  # the address register grows; ask again after a while
_CACHE_CHUNK = 50
_OFFLINE_AFTER = 3  # consecutive failures before the service is left alone for this run


def address_ref(
    address: str | None, postcode: str | None, city: str | None, address_id: str | None
) -> AddressRef | None:
    """The lookup key and text of a Danish street address, or None when there is nothing to
    look up (no street address or no postcode)."""
    if not address or not postcode:
        return None
    text = f"{address}, {postcode} {city or ''}".strip()
    key = f"dar:{address_id.lower()}" if address_id else f"txt:{fold(text)}"
    parts = street_address(address)
    return AddressRef(
        key=key,
        text=text,
        address_id=address_id,
        postcode=postcode,
        street=parts.street if parts else None,
        number=parts.number if parts else None,
    )


@dataclass(frozen=True)
class Located:
    point: tuple[float, float] | None
    precision: Literal["address", "postcode"] | None
    retry: bool = False  # the service could not answer: look again on a later run
    note: str | None = None  # why the point is the postcode's, when the service said why


@dataclass
class GeocodeStats:
    service_calls: int = 0
    cache_hits: int = 0
    found: int = 0
    not_found: int = 0
    by_id: int = 0  # found by CVR's adresseId
    by_text: int = 0  # found by street and house number
    failed: int = 0  # the service could not answer; fell back to the postcode point
    last_error: str | None = None


class AddressLocator:
    """Locates addresses through the cache in the store and an optional address service."""

    def __init__(self, store: Store, service: Geocoder | None) -> None:
        self.store = store
        self.service = service
        self.stats = GeocodeStats()
        self._failures_in_a_row = 0
        self.deadline: float | None = None  # time.monotonic(): no service calls after it

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    @property
    def service_usable(self) -> bool:
        return self.service is not None and self._failures_in_a_row < _OFFLINE_AFTER

    def locate(self, refs: list[AddressRef]) -> dict[str, Located]:
        """A location for every ref, by key."""
        keys = list(dict.fromkeys(r.key for r in refs))
        cached = self.store.get_records(CACHE, keys)
        now = datetime.now(UTC)
        out: dict[str, Located] = {}
        fresh: dict[str, dict[str, object]] = {}
        for ref in {r.key: r for r in refs}.values():
            hit = cached.get(ref.key)
            if hit is not None and _usable(hit, now):
                self.stats.cache_hits += 1
                if "lon" in hit:
                    out[ref.key] = Located((float(hit["lon"]), float(hit["lat"])), "address")
                else:
                    why = hit.get("why")
                    out[ref.key] = _postcode_fallback(
                        ref, retry=False, note=why if isinstance(why, str) else None
                    )
                continue
            if self.service is None:  # offline by configuration: nothing to retry
                out[ref.key] = _postcode_fallback(ref, retry=False)
                continue
            if not self.service_usable or self.out_of_time():
                self.stats.failed += 1
                out[ref.key] = _postcode_fallback(ref, retry=True)
                continue
            point, why, error = self._ask(ref)
            if error is not None:
                out[ref.key] = _postcode_fallback(ref, retry=True, note=error)
                continue
            stamp = now.isoformat(timespec="seconds")
            if point is not None:
                self.stats.found += 1
                fresh[ref.key] = {"lon": point[0], "lat": point[1], "at": stamp, "v": CACHE_VERSION}
                out[ref.key] = Located(point, "address")
            else:
                self.stats.not_found += 1
                fresh[ref.key] = {"found": False, "at": stamp, "why": why}
                out[ref.key] = _postcode_fallback(ref, retry=False, note=why)
            if len(fresh) >= _CACHE_CHUNK:  # answers are kept even if the run dies mid-page
                self.store.put_records(CACHE, fresh)
                fresh = {}
        if fresh:
            self.store.put_records(CACHE, fresh)
        return out

    def _ask(self, ref: AddressRef) -> tuple[tuple[float, float] | None, str | None, str | None]:
        """(point, why there is none, the service's failure) for one address."""
        assert self.service is not None
        self.stats.service_calls += 1
        try:
            answer = self.service.lookup(ref)
        except GeocoderUnavailable as exc:
            self._failures_in_a_row += 1
            self.stats.failed += 1
            self.stats.last_error = str(exc)
            return None, None, str(exc)
        self._failures_in_a_row = 0
        point = answer.point
        if point is not None and not in_denmark(*point):
            return None, "the service's point is outside Denmark", None
        if point is None:
            log.info("%s: postcode point, %s", ref.text, answer.reason or "not found")
        elif answer.via == "id":
            self.stats.by_id += 1
        else:
            self.stats.by_text += 1
        return point, answer.reason if point is None else None, None


def _usable(hit: dict[str, object], now: datetime) -> bool:
    if "lon" in hit:
        return hit.get("v") == CACHE_VERSION
    try:
        at = datetime.fromisoformat(str(hit.get("at")))
    except ValueError:
        return False
    return now - at < NOT_FOUND_TTL


def _postcode_fallback(ref: AddressRef, *, retry: bool, note: str | None = None) -> Located:
    point = postcode_point(ref.postcode) if ref.postcode else None
    return Located(point, "postcode" if point else None, retry=retry, note=note)
