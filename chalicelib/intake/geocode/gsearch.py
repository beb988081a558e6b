"""The Geocoder adapter for Gsearch v2.0 (Dataforsyningen), the successor of DAWA.

How the real service matches and fails is read from its source, SDFIdk/gsearch (branch v2.0);
docs/GEOCODING.md has the details and the paths. In short:

- `GET {base}/adresse` and `{base}/husnummer` take `q` (required, not blank), `filter` (ECQL over
  the answer's own attributes), `limit` (1..100, default 10) and `srid` (default 25832), and
  answer a JSON array (rest/Controller.java).
- Every word of `q` must match as a prefix in the same text column, which holds street, house
  number, floor, door, supplementary town, postcode and postcode name
  (db/seed/init/9_functions/dar/{adresse,husnummer}/9_function.sql and the tables'
  4_postprocessing.sql). So the whole register line ("Langgade 12B-14, 02. th, 8000 Århus C")
  finds nothing, and "Langgade 1" finds "Langgade 14" first.
- Its own database trouble is 400 "Connection issues" or 409 (errorhandling/ApiServiceAdvice.java),
  a query over 10 s is cut off with 504 (doc/README.md); all three are worth another attempt.

So an address is asked for twice at most: by CVR's adresseId (an `id` filter, which no spelling
can miss), else by street and first house number with the postcode and that house number as a
filter; a hit is taken only when its house number is the one wanted, in the wanted postcode.

urllib3 (already in the Lambda runtime through botocore) keeps the package lean; its own retries
are off because the policy here is specific: retry what may pass (network errors, timeouts, the
service's database trouble, 5xx, a short 429) a few times with backoff, and fail at once on what
will not (a bad token, a query it rejects, a malformed answer).
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import urllib3
from urllib3.exceptions import HTTPError as TransportError

from chalicelib.domain.utm import utm32_to_wgs84
from chalicelib.intake.geocode import AddressRef, Answer, GeocoderUnavailable
from chalicelib.intake.geocode.address import same_house_number

log = logging.getLogger("mikrokort")

LIMIT = 10  # a house's namesakes in one postcode (other towns' streets) fit in one answer
SRID = "25832"  # the service's default, asked for explicitly; points are converted here
MAX_RETRY_AFTER = 5.0  # seconds: a longer 429 wait is not worth blocking a geocoding run for
SAME_HOUSE_M = 30.0  # hits for one house number further apart than this are different houses
# characters the service's to_tsquery would read as operators or quotes: never sent in q
_NOT_A_WORD = re.compile(r"[^\w.]+")
_TRANSIENT_400 = "Connection issues"  # ApiServiceAdvice.handleConnectionException


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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`timeout` bounds each attempt (connect plus answer); `retries` counts extra attempts;
        `backoff` is the first wait between attempts, doubled on each further one; `sleep`
        waits them out (a test passes a recorder instead of waiting)."""
        self._base = base_url.rstrip("/")
        self._token = token or None
        self._retries = max(0, retries)
        self._backoff = max(0.0, backoff)
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": "mikrokort-geocoder"}
        if self._token:
            headers["token"] = self._token  # a header, so the token is in no URL or access log
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout), retries=False, headers=headers
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()

    def lookup(self, ref: AddressRef) -> Answer:
        """The point of the house of `ref`, or no point and why.

        Raises GeocoderUnavailable when Gsearch cannot answer (down, slow, refusing the token).
        """
        by_id = self._by_id(ref)
        if by_id is not None:
            return by_id
        if not ref.street or not ref.number:
            return Answer(None, "no house number in the address to check a hit against")
        if not ref.postcode:
            return Answer(None, "no postcode to search in")
        words = _NOT_A_WORD.sub(" ", f"{ref.street} {ref.number}").split()
        cql = f"postnummer = {_cql(ref.postcode)} AND husnummertekst = {_cql(ref.number)}"
        results = self._search("husnummer", " ".join(words), cql)
        return choose(results, ref)

    def suggest(
        self, q: str, kommunekode: str | None, limit: int
    ) -> list[tuple[str, float, float, str]]:
        """House numbers whose words start with the words of `q` (Gsearch's own matching), in
        one municipality when given: (text, lon, lat, postcode), for a person looking for a
        place. Raises GeocoderUnavailable as `lookup` does."""
        words = _NOT_A_WORD.sub(" ", q).split()
        if not words:
            return []
        cql = f"kommunekode = {_cql(kommunekode.zfill(4))}" if kommunekode else ""
        out = []
        for hit in self._search("husnummer", " ".join(words), cql, limit=min(limit, 100)):
            if not isinstance(hit, dict):
                continue
            point = point_of(hit)
            text = hit.get("visningstekst")
            if point is not None and isinstance(text, str) and text:
                out.append((text, point[0], point[1], _postcode(hit.get("postnummer"))))
        return out

    def _by_id(self, ref: AddressRef) -> Answer | None:
        """The answer for CVR's adresseId, or None to go on by street and number.

        q must not be blank and must match too, so it is the words every address has: its house
        number and postcode (an AND of two prefixes the text index answers fast).
        """
        wanted = _uuid(ref.address_id)
        if wanted is None:
            return None
        q = " ".join(filter(None, (ref.number, ref.postcode))) or wanted
        results = self._search("adresse", q, f"id = {_cql(wanted)}", limit=1)
        for hit in results:
            if not isinstance(hit, dict) or _uuid(hit.get("id")) != wanted:
                continue
            if ref.number and not same_house_number(hit.get("husnummer"), ref.number):
                log.info(
                    "DAR address %s is house %r, the register line says %r: searching by text",
                    wanted,
                    hit.get("husnummer"),
                    ref.number,
                )
                return None
            if ref.postcode and _postcode(hit.get("postnummer")) != _postcode(ref.postcode):
                return None
            point = point_of(hit)
            if point is not None:
                return Answer(point, via="id")
        return None

    def _search(self, resource: str, q: str, cql: str, *, limit: int = LIMIT) -> list[Any]:
        """The JSON array Gsearch answers, retrying what may pass on a new attempt."""
        url = f"{self._base}/{resource}"
        fields = {"q": q, "limit": str(limit), "srid": SRID}
        if cql:  # no filter at all rather than an empty one
            fields["filter"] = cql
        attempts = self._retries + 1
        for attempt in range(attempts):
            wait = self._backoff * 2**attempt
            try:
                resp = self._pool.request("GET", url, fields=fields)
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
                message = _message(resp.data)
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
                elif (status == 400 and message == _TRANSIENT_400) or status == 409:
                    problem = f"Gsearch has database trouble (HTTP {status}: {message})"
                elif status >= 500:
                    problem = f"Gsearch failed (HTTP {status})"
                elif status == 404:
                    raise GeocoderUnavailable(
                        f"Gsearch has no {resource} resource at {url} (HTTP 404): "
                        "check MIKROKORT_GEOCODER_URL (…/rest/gsearch/v2.0)"
                    )
                else:
                    raise GeocoderUnavailable(
                        f"Gsearch rejected the query (HTTP {status}: {message or 'no message'})"
                    )
            if attempt == attempts - 1:
                raise GeocoderUnavailable(f"{problem}; gave up after {attempts} attempts")
            log.warning("%s; retrying in %.1f s", problem, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _redact(self, exc: Exception) -> str:
        """The error text without the token, should any library ever put it in one."""
        text = f"{type(exc).__name__}: {exc}"
        return text.replace(self._token, "***") if self._token else text


def _cql(value: str) -> str:
    """An ECQL string literal ('' doubles a quote)."""
    return "'" + value.replace("'", "''") + "'"


def _uuid(value: object) -> str | None:
    """The canonical lower-case form of a UUID, or None: anything else would only make the
    service's uuid comparison fail with a 400."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def _message(body: bytes) -> str:
    """The `message` of Gsearch's error document ({"status", "message", "errors"}), if any."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(message).split())[:200] if message else ""


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


def choose(results: list[Any], ref: AddressRef) -> Answer:
    """The answer among the husnummer hits for `ref`: its house, or no point and why.

    A hit counts only when its house number is exactly the wanted one (prefix matching puts
    "Langgade 1" on "Langgade 14") and it lies in the wanted postcode (a namesake street in
    another town would put the business kilometres away). Several such houses far apart (one
    street name twice in a postcode, in two villages) are not guessed between.
    """
    hits = [r for r in results if isinstance(r, dict)]
    wanted = _postcode(ref.postcode) if ref.postcode else None
    number = ref.number or ""
    same: list[tuple[float, float]] = []
    others: set[str] = set()
    for hit in hits:
        house = hit.get("husnummertekst", hit.get("husnummer"))
        if wanted is not None and _postcode(hit.get("postnummer")) != wanted:
            continue
        if not same_house_number(house, number):
            others.add(str(house))
            continue
        point = point_of(hit)
        if point is not None:
            same.append(point)
    where = f"{ref.street} {number}, {wanted or ''}".strip(", ")
    if not same:
        if others:
            shown = ", ".join(sorted(others)[:5])
            return Answer(None, f"no house {where} in DAR (only house numbers {shown})")
        return Answer(None, f"no house {where} in DAR")
    first = same[0]
    if any(_metres(first, p) > SAME_HOUSE_M for p in same[1:]):
        return Answer(None, f"{len(same)} different houses {where} in DAR: not guessing")
    return Answer(first, via="text")


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two WGS84 points close together, in metres (equirectangular)."""
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


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
