"""Client of the register's system-to-system Elasticsearch service (CVR "distribution").

Companies (index `virksomhed`) are read with scroll searches sorted by CVR number, production
units (index `produktionsenhed`) sorted by P-number, so any interruption (an expired scroll, a
connection reset mid-page, a 5xx in the middle of a scroll) is recovered by opening a new search
from the last number handed out, and a checkpoint is just that number. A scroll continuation is
never simply re-sent after a failure: the server may already have moved past the page that was
lost.
"""

from __future__ import annotations

import base64
import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from chalicelib.domain.errors import MikrokortError

COMPANY_INDEX = "/cvr-permanent/virksomhed/_search"
UNIT_INDEX = "/cvr-permanent/produktionsenhed/_search"
SCROLL = "/_search/scroll"
MUNICIPALITY_FIELD = "Vrvirksomhed.virksomhedMetadata.nyesteBeliggenhedsadresse.kommune.kommuneKode"
LOADED_FIELD = "Vrvirksomhed.sidstIndlaest"
CVR_FIELD = "Vrvirksomhed.cvrNummer"
UNIT_MUNICIPALITY_FIELD = (
    "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteBeliggenhedsadresse.kommune.kommuneKode"
)
UNIT_LOADED_FIELD = "VrproduktionsEnhed.sidstIndlaest"
P_FIELD = "VrproduktionsEnhed.pNummer"
# Only what the mapping reads: never participants (owners are personal data). The contacts
# come from the typed arrays, the only place that says which value is secret (`hemmelig`), which
# is a fax and which has ended; the fax arrays are asked for so their numbers can be withheld.
# The employment histories are asked for because the metadata's newest entries can lag behind.
SOURCE_FIELDS = [
    "Vrvirksomhed.cvrNummer",
    "Vrvirksomhed.enhedsNummer",
    "Vrvirksomhed.samtId",
    "Vrvirksomhed.reklamebeskyttet",
    "Vrvirksomhed.sidstIndlaest",
    "Vrvirksomhed.sidstOpdateret",
    "Vrvirksomhed.livsforloeb",
    "Vrvirksomhed.telefonNummer",
    "Vrvirksomhed.sekundaertTelefonNummer",
    "Vrvirksomhed.telefaxNummer",
    "Vrvirksomhed.sekundaertTelefaxNummer",
    "Vrvirksomhed.elektroniskPost",
    "Vrvirksomhed.hjemmeside",
    "Vrvirksomhed.aarsbeskaeftigelse",
    "Vrvirksomhed.kvartalsbeskaeftigelse",
    "Vrvirksomhed.maanedsbeskaeftigelse",
    "Vrvirksomhed.erstMaanedsbeskaeftigelse",
    "Vrvirksomhed.penheder",
    "Vrvirksomhed.virksomhedMetadata",
]
# A unit's identity, company, address, industry, employment and lifetime. Never
# `deltagerRelation` (unit documents carry participants too: people's names and home addresses)
# nor its contact details (the company's are the ones published, by the company's rules).
_UNIT_META = "VrproduktionsEnhed.produktionsEnhedMetadata."
UNIT_SOURCE_FIELDS = [
    "VrproduktionsEnhed.pNummer",
    "VrproduktionsEnhed.enhedsNummer",
    "VrproduktionsEnhed.samtId",
    "VrproduktionsEnhed.sidstIndlaest",
    "VrproduktionsEnhed.sidstOpdateret",
    "VrproduktionsEnhed.livsforloeb",
    "VrproduktionsEnhed.virksomhedsrelation",
    "VrproduktionsEnhed.aarsbeskaeftigelse",
    "VrproduktionsEnhed.kvartalsbeskaeftigelse",
    "VrproduktionsEnhed.maanedsbeskaeftigelse",
    "VrproduktionsEnhed.erstMaanedsbeskaeftigelse",
    *(
        _UNIT_META + name
        for name in (
            "nyesteNavn",
            "nyesteBeliggenhedsadresse",
            "nyesteHovedbranche",
            "nyesteCvrNummerRelation",
            "nyesteAarsbeskaeftigelse",
            "nyesteKvartalsbeskaeftigelse",
            "nyesteMaanedsbeskaeftigelse",
            "nyesteErstMaanedsbeskaeftigelse",
            "sammensatStatus",
        )
    ),
]


class RegisterError(MikrokortError):
    """The register could not be read (after retries): the run stops and resumes later."""

    status = 502
    code = "RegisterUnavailable"


class RegisterAuthError(RegisterError):
    """The register refused our credentials: retrying cannot help."""


class _ScrollLost(Exception):
    """The open scroll cannot be continued; reopen from the last CVR number."""


@dataclass(frozen=True)
class _Index:
    """One searchable index: its path, root key, sort field and the fields asked for."""

    path: str
    root: str
    number_field: str  # the document's number, sorted on
    number_key: str  # the same number inside the root object
    source: list[str]


COMPANIES = _Index(COMPANY_INDEX, "Vrvirksomhed", CVR_FIELD, "cvrNummer", SOURCE_FIELDS)
UNITS = _Index(UNIT_INDEX, "VrproduktionsEnhed", P_FIELD, "pNummer", UNIT_SOURCE_FIELDS)


@dataclass
class Page:
    hits: list[dict[str, Any]]
    total: int | None  # matching documents when the search was opened


class CvrClient:
    """Reads company documents page by page; retries what is safe to retry."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        timeout: float = 60.0,
        attempts: int = 6,
        page_size: int = 1000,
        scroll: str = "5m",
        max_rate_limit_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import urllib3

        self.base_url = base_url.rstrip("/").removesuffix("/cvr-permanent")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(10.0, timeout), read=timeout),
            retries=False,
            maxsize=2,
        )
        self.attempts = attempts
        self.page_size = page_size
        self.scroll = scroll
        self.max_rate_limit_wait = max_rate_limit_wait
        self.sleep = sleep
        self.reopened = 0  # searches reopened after a lost scroll (for run reports and tests)

    # -- the two selections --------------------------------------------------------------------

    @staticmethod
    def in_municipalities(codes: list[str]) -> list[dict[str, Any]]:
        """A full load: every company whose current address is in these municipalities."""
        return [{"terms": {MUNICIPALITY_FIELD: [int(c) for c in codes]}}]

    @staticmethod
    def loaded_since(since_iso: str) -> list[dict[str, Any]]:
        """An incremental run: everything (re)loaded since then, anywhere in the country, so a
        company that moved away is seen too."""
        return [{"range": {LOADED_FIELD: {"gte": since_iso}}}]

    @staticmethod
    def numbered(cvrs: list[str]) -> list[dict[str, Any]]:
        """These companies, by CVR number (the numeric field: a `terms` on it is exact)."""
        return [{"terms": {CVR_FIELD: [int(c) for c in cvrs]}}]

    @staticmethod
    def units_in_municipalities(codes: list[str]) -> list[dict[str, Any]]:
        """A full load of production units: every unit whose current address is in these
        municipalities (the numeric `kommuneKode` of the unit's own address)."""
        return [{"terms": {UNIT_MUNICIPALITY_FIELD: [int(c) for c in codes]}}]

    @staticmethod
    def units_loaded_since(since_iso: str) -> list[dict[str, Any]]:
        """Incremental: every unit (re)loaded since then, anywhere, so a unit that moved out
        or closed is seen too."""
        return [{"range": {UNIT_LOADED_FIELD: {"gte": since_iso}}}]

    # -- reading -------------------------------------------------------------------------------

    def companies(self, selection: list[dict[str, Any]], *, from_cvr: int = 0) -> Iterator[Page]:
        """Pages of company hits in CVR order, from `from_cvr` (inclusive) to the end."""
        return self._pages(COMPANIES, selection, from_cvr)

    def units(self, selection: list[dict[str, Any]], *, from_p: int = 0) -> Iterator[Page]:
        """Pages of production-unit hits in P-number order, from `from_p` (inclusive)."""
        return self._pages(UNITS, selection, from_p)

    def _pages(self, index: _Index, selection: list[dict[str, Any]], start: int) -> Iterator[Page]:
        position = start
        failures = 0
        while True:
            try:
                for page in self._scroll(index, selection, position):
                    failures = 0
                    numbers = [_number_of(h, index) for h in page.hits]
                    position = max([position, *[n for n in numbers if n is not None]])
                    yield page
                return
            except _ScrollLost as lost:
                failures += 1
                if failures >= self.attempts:
                    raise RegisterError(f"the register kept failing mid-search: {lost}") from None
                self.reopened += 1
                self._backoff(failures)

    def _scroll(
        self, index: _Index, selection: list[dict[str, Any]], position: int
    ) -> Iterator[Page]:
        filters = [*selection]
        if position:
            filters.append({"range": {index.number_field: {"gte": position}}})
        body = {
            "size": self.page_size,
            "_source": index.source,
            "sort": [{index.number_field: "asc"}],
            "query": {"bool": {"filter": filters}},
        }
        doc = self._request("POST", f"{index.path}?scroll={self.scroll}", body, safe=True)
        total = _total(doc)
        scroll_id = doc.get("_scroll_id")
        try:
            while True:
                hits = doc.get("hits", {}).get("hits") or []
                if not hits:
                    return
                yield Page(hits=hits, total=total)
                if not scroll_id:
                    return
                doc = self._request(
                    "POST", SCROLL, {"scroll": self.scroll, "scroll_id": scroll_id}, safe=False
                )
                scroll_id = doc.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                self._clear(scroll_id)

    def _clear(self, scroll_id: str) -> None:
        """Free the server's scroll context; best effort (it expires on its own anyway)."""
        with contextlib.suppress(Exception):
            self._http.request(
                "DELETE",
                self.base_url + SCROLL,
                body=orjson.dumps({"scroll_id": scroll_id}),
                headers=self._headers,
            )

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any], *, safe: bool) -> Any:
        """One JSON request. `safe` requests (opening a search) are retried as they are;
        a failed scroll continuation raises _ScrollLost instead, except on 429 (not served)."""
        import urllib3

        attempt = 0
        rate_limited = 0
        while True:
            attempt += 1
            try:
                resp = self._http.request(
                    method, self.base_url + path, body=orjson.dumps(body), headers=self._headers
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                status = resp.status
                if status == 200:
                    try:
                        doc = orjson.loads(resp.data)
                    except orjson.JSONDecodeError:
                        problem = "the register answered 200 with a body that is not JSON"
                    else:
                        problem = _incomplete(doc)
                        if problem is None:
                            return doc
                elif status in (401, 403):
                    raise RegisterAuthError(
                        f"the register refused the credentials (HTTP {status}): check "
                        "MIKROKORT_CVR_USER and the password (MIKROKORT_CVR_PASSWORD or "
                        "the secret named by MIKROKORT_CVR_SECRET)"
                    )
                elif status == 429:
                    rate_limited += 1
                    wait = _reset_wait(resp.headers.get("x-ratelimit-reset"))
                    if wait > self.max_rate_limit_wait or rate_limited > 20:
                        raise RegisterError(
                            f"the register is rate limiting us for {wait:.0f} s; run again later"
                        )
                    self.sleep(wait)
                    attempt -= 1  # waiting out a rate limit is not a failure
                    continue
                elif status == 404 and not safe:
                    raise _ScrollLost("the scroll expired (HTTP 404)")
                elif status >= 500:
                    problem = f"HTTP {status}: {_reason(resp.data)}"
                else:
                    raise RegisterError(
                        f"the register rejected the request (HTTP {status}): {_reason(resp.data)}"
                    )
            if not safe:
                raise _ScrollLost(problem)
            if attempt >= self.attempts:
                raise RegisterError(f"the register failed {attempt} times; last: {problem}")
            self._backoff(attempt)

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with full jitter: up to 0.5 s, 1 s, 2 s, ... 30 s."""
        self.sleep(random.uniform(0, min(30.0, 0.5 * 2 ** (attempt - 1))))


def _number_of(hit: dict[str, Any], index: _Index) -> int | None:
    """The CVR number (or P-number) of a hit, for resuming after it."""
    source = hit.get("_source") or {}
    record = source.get(index.root) if isinstance(source, dict) else None
    value = record.get(index.number_key) if isinstance(record, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _incomplete(doc: Any) -> str | None:
    """Why a 200 answer cannot be trusted: Elasticsearch answers 200 with fewer hits when
    shards fail or the search times out, and taking that page would lose documents."""
    if not isinstance(doc, dict):
        return "the register answered with JSON that is not an object"
    shards = doc.get("_shards") or {}
    if isinstance(shards, dict) and (shards.get("failed") or 0) > 0:
        return f"{shards.get('failed')} of {shards.get('total')} shards failed"
    if doc.get("timed_out"):
        return "the search timed out on the server"
    return None


def _total(doc: dict[str, Any]) -> int | None:
    total = doc.get("hits", {}).get("total")
    if isinstance(total, dict):  # ES 7 shape
        total = total.get("value")
    return total if isinstance(total, int) else None


def _reset_wait(header: str | None) -> float:
    """Seconds to wait from an `x-ratelimit-reset` header: seconds to go, or an epoch time."""
    try:
        value = float(header) if header is not None else 1.0
    except ValueError:
        return 5.0
    if value > 1_000_000_000:  # an epoch timestamp
        value -= time.time()
    return max(0.0, value)


def _reason(data: bytes) -> str:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data[:120].decode(errors="replace").strip() or "no body"
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        return str(error.get("reason") or error.get("type") or error)[:300]
    return str(error or doc)[:300]
