"""The Geocoder adapter for Gsearch v2.0 (Dataforsyningen), the successor of DAWA.

`GET {base}/adresse?q=<text>&limit=<n>&token=<token>` answers a JSON array of addresses with
their DAR id, postcode and GeoJSON points in EPSG:25832. urllib3 (already in the Lambda runtime
through botocore) keeps the package lean; its own retries are off because the policy here is
specific: retry what may pass (network errors, timeouts, 5xx, a short 429) a few times with
backoff, and fail at once on what will not (a bad token, a malformed answer).
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import urllib3
from urllib3.exceptions import HTTPError as TransportError

from chalicelib.domain.utm import utm32_to_wgs84
from chalicelib.intake.geocode import AddressRef, GeocoderUnavailable

log = logging.getLogger("mikrokort")

LIMIT = 5  # enough to find the right postcode among namesakes, small enough to stay fast
MAX_RETRY_AFTER = 5.0  # seconds: a longer 429 wait is not worth blocking a geocoding run for


class GsearchGeocoder:
    """Locates addresses with Gsearch v2.0; one connection pool per instance."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        """`timeout` bounds each attempt (connect plus answer); `retries` counts extra attempts;
        `backoff` is the first wait between attempts, doubled on each further one."""
        self._url = base_url.rstrip("/") + "/adresse"
        self._token = token or None
        self._retries = max(0, retries)
        self._backoff = max(0.0, backoff)
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            headers={"Accept": "application/json", "User-Agent": "mikrokort-geocoder"},
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()

    def lookup(self, ref: AddressRef) -> tuple[float, float] | None:
        """The WGS84 (lon, lat) of the address, or None when Gsearch does not know it.

        Raises GeocoderUnavailable when Gsearch cannot answer (down, slow, refusing the token).
        """
        if not ref.text.strip():
            return None
        results = self._search(ref.text)
        hit = choose(results, ref)
        return None if hit is None else point_of(hit)

    def _search(self, text: str) -> list[Any]:
        """The JSON array Gsearch answers for `text`, retrying what may pass on a new attempt."""
        fields = {"q": text, "limit": str(LIMIT)}
        if self._token:
            fields["token"] = self._token
        attempts = self._retries + 1
        for attempt in range(attempts):
            wait = self._backoff * 2**attempt
            try:
                resp = self._pool.request("GET", self._url, fields=fields)
            except TransportError as exc:  # refused, reset, timed out, TLS...
                problem = f"Gsearch cannot be reached: {self._redact(exc)}"
            else:
                status = resp.status
                if status == 200:
                    return _parse(resp.data)
                if status in (401, 403):
                    what = "missing" if self._token is None else "wrong or expired"
                    raise GeocoderUnavailable(
                        f"Gsearch refused the request (HTTP {status}): the token is {what}; "
                        "set a valid Dataforsyningen token"
                    )
                if status == 429:
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                        raise GeocoderUnavailable(
                            f"Gsearch is rate limiting us (HTTP 429, retry after "
                            f"{retry_after:.0f} s)"
                        )
                    if retry_after is not None:
                        wait = retry_after
                    problem = "Gsearch is rate limiting us (HTTP 429)"
                elif status >= 500:
                    problem = f"Gsearch failed (HTTP {status})"
                else:
                    raise GeocoderUnavailable(f"Gsearch answered HTTP {status}")
            if attempt == attempts - 1:
                raise GeocoderUnavailable(f"{problem}; gave up after {attempts} attempts")
            log.warning("%s; retrying in %.1f s", problem, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _redact(self, exc: Exception) -> str:
        """The error text without the token, which may be part of a URL in it."""
        text = f"{type(exc).__name__}: {exc}"
        return text.replace(self._token, "***") if self._token else text


def _parse(body: bytes) -> list[Any]:
    """The JSON array of a 200 answer; anything else means the service is not itself."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise GeocoderUnavailable(f"Gsearch answered something that is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise GeocoderUnavailable(f"Gsearch answered JSON that is not an array: {type(data)}")
    return data


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return math.inf  # unreadable: treat as "long", do not hammer the service
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _postcode(value: Any) -> str:
    return str(value).strip().zfill(4) if value is not None else ""


def choose(results: list[Any], ref: AddressRef) -> dict[str, Any] | None:
    """The result that is the address of `ref`, or None.

    The DAR id is decisive when Gsearch returns it; otherwise the first hit in the postcode of
    `ref`. A hit in another postal district is never taken: a namesake street in another town
    would put the business kilometres away, worse than no point at all.
    """
    hits = [r for r in results if isinstance(r, dict)]
    if ref.address_id:
        wanted = ref.address_id.strip().lower()
        for hit in hits:
            if str(hit.get("id", "")).strip().lower() == wanted:
                return hit
    if ref.postcode:
        wanted = _postcode(ref.postcode)
        return next((h for h in hits if _postcode(h.get("postnummer")) == wanted), None)
    return hits[0] if hits else None


def _first_xy(geometry: Any) -> tuple[float, float] | None:
    """The first coordinate pair of a GeoJSON Point or MultiPoint, if well formed."""
    if not isinstance(geometry, dict):
        return None
    coords = geometry.get("coordinates")
    if geometry.get("type") == "MultiPoint":
        coords = coords[0] if isinstance(coords, list) and coords else None
    elif geometry.get("type") != "Point":
        return None
    if not isinstance(coords, list) or len(coords) < 2:
        return None
    x, y = coords[0], coords[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return float(x), float(y)


def point_of(hit: dict[str, Any]) -> tuple[float, float] | None:
    """WGS84 (lon, lat) of a Gsearch address, from its access point or else its road point.

    Gsearch answers EPSG:25832 by default; degrees are taken as they are, so a request for
    another SRS would still work.
    """
    xy = _first_xy(hit.get("geometri")) or _first_xy(hit.get("vejpunkt_geometri"))
    if xy is None:
        return None
    x, y = xy
    lon, lat = utm32_to_wgs84(x, y) if abs(x) > 180 or abs(y) > 180 else (x, y)
    return round(lon, 7), round(lat, 7)
