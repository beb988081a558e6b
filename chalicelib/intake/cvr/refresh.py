"""The register refresh: keeps the store in step with CVR, page by page, resumably.

A run reads company documents in CVR order (a full load of the covered municipalities the
first time, then everything the register (re)loaded since the last successful run), maps them,
locates new addresses, and upserts. Then it reads the production units the same way (in
P-number order) and keeps each business's units in the area, fetching the companies seated
elsewhere that have a unit here (they are shown at it). After every page it saves a checkpoint
(the phase, the last CVR number or P-number done and the counts so far) in the store, so a run
killed midway resumes where it stopped. Upserts are idempotent and keep curated fields, so
re-reading a page changes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.intake.cvr.mapping import MalformedDocument, company_of, loaded_at, map_company
from chalicelib.intake.cvr.units import (
    Unit,
    listed_units,
    map_unit,
    merge_units,
    place,
    unit_numbers,
    unit_of,
)

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Workplace
    from chalicelib.intake.cvr.client import CvrClient
    from chalicelib.intake.geocode.locate import AddressLocator
    from chalicelib.store import Store

STATE = "cvr_state"  # one record: the last successful run and the open checkpoint
RUNS = "cvr_run"  # one record per run, keyed by start time: the run reports
QUARANTINE = "cvr_quarantine"  # documents that could not be mapped, by CVR number or hit id
PENDING = "geocode_pending"  # businesses on a fallback point, to locate again later
SAFETY_MARGIN = timedelta(hours=2)  # overlap between runs: loading times are not instantaneous
_MAX_QUARANTINED_BYTES = 64_000


@dataclass
class RunReport:
    run_id: str
    mode: str  # full | incremental | import
    started: str
    since: str | None = None
    status: str = "running"  # running | succeeded | failed | paused
    finished: str | None = None
    resumed: int = 0
    pages: int = 0
    documents: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ceased: int = 0
    moved_out: int = 0
    outside_area: int = 0  # documents about companies elsewhere that we never held
    duplicates: int = 0
    quarantined: int = 0
    geocoder_calls: int = 0
    geocode_cache_hits: int = 0
    geocode_failed: int = 0
    located_later: int = 0  # pending fallback points replaced by address points
    units: int = 0  # production-unit documents read
    units_outside_area: int = 0  # units elsewhere (or closed), of companies we do not hold
    units_without_company: int = 0  # active units here whose company could not be read
    workplace_updates: int = 0  # businesses whose units (or the unit they are shown at) changed
    error: str | None = None
    progress: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RunReport:
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


Progress = Callable[[int, int | None], None]
Fetch = Callable[[set[str]], "dict[str, Business]"]  # companies by CVR number, mapped
COMPANIES, UNITS = "companies", "units"  # the two phases of a run


class Refresh:
    """One refresh of the store from the register (or from a file of register documents)."""

    def __init__(
        self,
        store: Store,
        locator: AddressLocator,
        municipalities: Iterable[str],
        *,
        progress: Progress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.locator = locator
        self.municipalities = frozenset(municipalities)
        self.progress = progress
        self.clock = clock
        self._last_page: dict[str, tuple[str, int]] = {}
        self._last_units: dict[str, tuple[str, int]] = {}
        self._aside: dict[str, Business] | None = None  # during an import only
        # During a full load every unit in the area is read after the companies: a company
        # none of them names has no unit here ([]), which an incremental run cannot tell.
        self._all_units_follow = False

    # -- runs ----------------------------------------------------------------------------------

    def run(
        self, client: CvrClient, *, full: bool = False, deadline: float | None = None
    ) -> RunReport:
        """Read the register; resume an interrupted run first. With `deadline` (a
        time.monotonic() value) the run stops cleanly between pages and resumes next time."""
        state = self.store.get_records(STATE, ["refresh"]).get("refresh", {})
        checkpoint = state.get("checkpoint")
        if checkpoint and not full:
            report = RunReport.from_doc(checkpoint["report"])
            report.resumed += 1
            report.status, report.error, report.finished = "running", None, None
            from_cvr = int(checkpoint["from_cvr"])
            phase = checkpoint.get("phase") or COMPANIES
            from_p = int(checkpoint.get("from_p") or 0)
        else:
            started = self.clock()
            last = state.get("last_success_started")
            mode = "full" if full or not last else "incremental"
            since = None
            if mode == "incremental":
                since = (datetime.fromisoformat(last) - SAFETY_MARGIN).isoformat()
            report = RunReport(
                run_id=_run_id(started), mode=mode, started=started.isoformat(), since=since
            )
            from_cvr, phase, from_p = 0, COMPANIES, 0
        self.locator.deadline = deadline
        codes = sorted(self.municipalities)
        full_load = report.mode == "full"
        self._all_units_follow = full_load
        selection = (
            client.in_municipalities(codes)
            if full_load
            else client.loaded_since(report.since or "")
        )
        units = (
            client.units_in_municipalities(codes)
            if full_load
            else client.units_loaded_since(report.since or "")
        )

        def fetch(cvrs: set[str]) -> dict[str, Business]:
            return self._fetch_companies(client, cvrs, report)

        def out_of_time() -> bool:
            return deadline is not None and time.monotonic() > deadline

        self._save(report, state, from_cvr, phase, from_p)
        try:
            if phase == COMPANIES:
                for page in client.companies(selection, from_cvr=from_cvr):
                    last_cvr = self.process(page.hits, report)
                    report.progress = {"done": report.documents, "total": page.total}
                    from_cvr = max(from_cvr, last_cvr)
                    self._save(report, state, from_cvr, phase, from_p)
                    if self.progress:
                        self.progress(report.documents, page.total)
                    if out_of_time():
                        report.status = "paused"
                        self._save(report, state, from_cvr, phase, from_p)
                        return report
                phase = UNITS
                self._save(report, state, from_cvr, phase, from_p)
            for page in client.units(units, from_p=from_p):
                last_p = self.process_units(page.hits, report, fetch)
                report.progress = {"done": report.units, "total": page.total}
                from_p = max(from_p, last_p)
                self._save(report, state, from_cvr, phase, from_p)
                if self.progress:
                    self.progress(report.units, page.total)
                if out_of_time():
                    report.status = "paused"
                    self._save(report, state, from_cvr, phase, from_p)
                    return report
            self.locate_pending(report)
        except BaseException as exc:
            report.status = "failed"
            report.error = getattr(exc, "description", None) or f"{type(exc).__name__}: {exc}"
            report.finished = self.clock().isoformat()
            self._save(report, state, from_cvr, phase, from_p)
            raise
        report.status = "succeeded"
        report.finished = self.clock().isoformat()
        # A full run reads only companies now in the area: it cannot see one that moved away
        # since the last incremental run, so it never moves the incremental window forward.
        previous = state.get("last_success_started")
        since = previous if report.mode == "full" and previous else report.started
        state = {
            **state,
            "last_success_started": since,  # the incremental window's start
            "last_finished_started": report.started,  # when the last good run began
            "checkpoint": None,
        }
        self.store.put_records(STATE, {"refresh": state})
        self.store.put_records(RUNS, {report.run_id: asdict(report)})
        return report

    def import_documents(
        self, documents: Iterable[dict[str, Any]], *, batch: int = 1000
    ) -> RunReport:
        """Load register documents from a file, like one full run: company documents and
        production units (`VrproduktionsEnhed`), as hits or bare objects, in any order. The
        units are read after every company, so a company seated elsewhere that the file
        carries can be shown at its unit here."""
        started = self.clock()
        report = RunReport(run_id=_run_id(started), mode="import", started=started.isoformat())
        self.store.put_records(RUNS, {report.run_id: asdict(report)})
        units: list[dict[str, Any]] = []
        self._aside = {}
        self._all_units_follow = False  # a file may hold no units at all
        try:
            for chunk in _chunks(documents, batch):
                companies = []
                for doc in chunk:
                    (units if unit_of(doc) is not None else companies).append(doc)
                if companies:
                    self.process(companies, report)
                if self.progress:
                    self.progress(report.documents, None)
            for chunk in _chunks(units, batch):
                self.process_units(chunk, report, self._set_aside)
            self.locate_pending(report)
        except BaseException as exc:
            report.status = "failed"
            report.error = getattr(exc, "description", None) or f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._aside = None
            if report.status == "running":
                report.status = "succeeded"
            report.finished = self.clock().isoformat()
            self.store.put_records(RUNS, {report.run_id: asdict(report)})
        return report

    def _set_aside(self, cvrs: set[str]) -> dict[str, Business]:
        """An import's companies seated elsewhere that the store does not hold (set aside while
        the file's companies were read, in case the file has a unit of theirs in the area)."""
        aside = self._aside or {}
        return {cvr: aside[cvr] for cvr in cvrs if cvr in aside}

    def _save(
        self, report: RunReport, state: dict[str, Any], from_cvr: int, phase: str, from_p: int
    ) -> None:
        """The checkpoint: the run's counts and where to go on from."""
        checkpoint = {
            "from_cvr": from_cvr,
            "phase": phase,
            "from_p": from_p,
            "report": asdict(report),
        }
        state["checkpoint"] = checkpoint
        self.store.put_records(STATE, {"refresh": state})
        self.store.put_records(RUNS, {report.run_id: asdict(report)})

    # -- one page ------------------------------------------------------------------------------

    def process(self, hits: list[dict[str, Any]], report: RunReport) -> int:
        """Map, locate and store one page of documents; returns the highest CVR number seen."""
        report.pages += 1
        mapped: dict[str, tuple[Business, tuple[str, int]]] = {}
        listed: dict[str, set[str] | None] = {}
        quarantined: dict[str, dict[str, Any]] = {}
        highest = 0
        for hit in hits:
            if "_error" in hit:  # a line of an imported file that is not a document
                report.documents += 1
                quarantined[f"line-{hit.get('_line')}"] = self._quarantine_entry(
                    {}, str(hit["_error"]), report
                )
                continue
            company = company_of(hit)
            if company is None:
                continue
            report.documents += 1
            try:
                b = map_company(company)
            except MalformedDocument as exc:
                key = _document_key(company, hit)
                quarantined[key] = self._quarantine_entry(company, str(exc), report)
                continue
            highest = max(highest, int(b.id))
            order = _freshness(company)
            seen = mapped.get(b.id) or (
                (None, self._last_page[b.id]) if b.id in self._last_page else None
            )
            if seen is not None:
                report.duplicates += 1
                if order < seen[1]:
                    continue  # an older copy of a company already taken
            mapped[b.id] = (b, order)
            listed[b.id] = unit_numbers(company)
        self._last_page = {cvr: order for cvr, (_, order) in mapped.items()}
        if quarantined:
            report.quarantined += len(quarantined)
            self.store.put_records(QUARANTINE, quarantined)
        if mapped:
            businesses = [b for b, _ in mapped.values()]
            existing = self.store.get_businesses([b.id for b in businesses])
            placed = []
            for b in businesses:
                old = existing.get(b.id)
                units = listed_units(old.workplaces if old else None, listed[b.id])
                if units is None and self._all_units_follow:
                    units = []
                placed.append(place(b, units, self.municipalities))
            if self._aside is not None:  # an import: keep what a unit in the file may need
                for b in placed:
                    if b.outside_area and b.id not in existing:
                        self._aside[b.id] = b
            self._store_page(placed, existing, report)
        return highest

    def process_units(self, hits: list[dict[str, Any]], report: RunReport, fetch: Fetch) -> int:
        """Map one page of production units and bring the businesses they belong to up to
        date: their units in the area, and where a company seated elsewhere is shown. A
        company seated elsewhere that the store does not hold is fetched (`fetch`) when it has
        an active unit in the area. Returns the highest P-number seen."""
        report.pages += 1
        seen: dict[str, Unit] = {}
        quarantined: dict[str, dict[str, Any]] = {}
        highest = 0
        for hit in hits:
            unit = unit_of(hit)
            if unit is None:
                continue
            report.units += 1
            try:
                u = map_unit(unit)
            except MalformedDocument as exc:
                key = f"P{str(unit.get('pNummer'))[:40]}"
                quarantined[key] = self._quarantine_entry(unit, str(exc), report)
                continue
            p = u.workplace.p_number
            highest = max(highest, int(p))
            before = seen.get(p)
            before_order = before.order if before else self._last_units.get(p)
            if before_order is not None:
                report.duplicates += 1
                if u.order < before_order:
                    continue  # an older copy of a unit already taken
            seen[p] = u
        self._last_units = {p: u.order for p, u in seen.items()}
        if quarantined:
            report.quarantined += len(quarantined)
            self.store.put_records(QUARANTINE, quarantined)
        stale = self.store.get_records(QUARANTINE, [f"P{p}" for p in seen])
        if stale:
            self.store.delete_records(QUARANTINE, list(stale))
        by_company: dict[str, list[Unit]] = {}
        for u in seen.values():
            if u.cvr is None:
                report.units_without_company += 1
                continue
            by_company.setdefault(u.cvr, []).append(u)
        if by_company:
            self._store_units(by_company, report, fetch)
        return highest

    def _store_units(
        self, by_company: dict[str, list[Unit]], report: RunReport, fetch: Fetch
    ) -> None:
        existing = self.store.get_businesses(list(by_company))
        wanted = {
            cvr
            for cvr, units in by_company.items()
            if cvr not in existing
            and any(
                u.workplace.active and u.workplace.municipality in self.municipalities
                for u in units
            )
        }
        fetched = fetch(wanted) if wanted else {}
        placed: dict[str, Business] = {}
        for cvr, units in by_company.items():
            base = existing.get(cvr) or fetched.get(cvr)
            if base is None:  # a company we do not hold: needed only for an active unit here
                if cvr in wanted:
                    report.units_without_company += len(units)
                else:
                    report.units_outside_area += len(units)
                continue
            held: list[Workplace] | None = base.workplaces
            now = place(base, merge_units(held, units, self.municipalities), self.municipalities)
            if cvr in existing and _same_placement(existing[cvr], now):
                continue  # nothing about its units changed: no write, no lookup
            placed[cvr] = now
        # A company shown at a unit here that has none left leaves the map; it carries the
        # unit's address, so its own document is read again to keep its seat's.
        gone = {cvr for cvr, b in placed.items() if b.outside_area and b.seated_elsewhere}
        for cvr, seat in (fetch(gone) if gone else {}).items():
            placed[cvr] = place(seat, placed[cvr].workplaces, self.municipalities)
        if placed:
            self._store_page(list(placed.values()), existing, report, units=True)

    def _fetch_companies(
        self, client: CvrClient, cvrs: set[str], report: RunReport
    ) -> dict[str, Business]:
        """The companies (seated elsewhere) of units in the area, read by CVR number in
        batches of a page, mapped; a document that does not map is quarantined."""
        out: dict[str, tuple[Business, tuple[str, int]]] = {}
        numbers = sorted(cvrs)
        size = max(1, client.page_size)
        for start in range(0, len(numbers), size):
            for page in client.companies(client.numbered(numbers[start : start + size])):
                for hit in page.hits:
                    company = company_of(hit)
                    if company is None:
                        continue
                    try:
                        b = map_company(company)
                    except MalformedDocument as exc:
                        key = _document_key(company, hit)
                        entry = self._quarantine_entry(company, str(exc), report)
                        self.store.put_records(QUARANTINE, {key: entry})
                        report.quarantined += 1
                        continue
                    order = _freshness(company)
                    if b.id not in out or out[b.id][1] < order:
                        out[b.id] = (b, order)
        return {cvr: b for cvr, (b, _) in out.items()}

    def _store_page(
        self,
        businesses: list[Business],
        existing: dict[str, Business],
        report: RunReport,
        *,
        units: bool = False,
    ) -> None:
        """Locate and upsert businesses already placed (at their seat or a local unit).
        `units`: written for their production units (counted as workplace updates)."""
        from chalicelib.intake.geocode.locate import address_ref

        keep: list[Business] = []
        left: list[str] = []
        to_locate: dict[str, Any] = {}
        for b in businesses:
            old = existing.get(b.id)
            if b.outside_area or b.municipality not in self.municipalities:
                if old is None:
                    if not units:
                        report.outside_area += 1
                    continue
                if not old.outside_area:
                    report.moved_out += 1
                    left.append(b.id)
                b = b.model_copy(update={"outside_area": True})
            elif old is not None and _same_address(old, b) and self._keeps_location(old):
                b = b.model_copy(
                    update={"location": old.location, "location_precision": old.location_precision}
                )
            else:
                ref = address_ref(b.address, b.postcode, b.city, b.address_id)
                if ref is not None:
                    to_locate[b.id] = ref
            if b.status == "ceased" and (old is None or old.status != "ceased"):
                report.ceased += 1
            keep.append(b)
        self._locate(keep, to_locate, report)
        result = self.store.upsert_businesses(keep)
        report.new += result.inserted
        if units:
            report.workplace_updates += result.updated
        else:
            report.updated += result.updated
            report.unchanged += result.unchanged
        if left:  # no more address lookups for businesses that left the area
            self.store.delete_records(PENDING, left)
        stale = self.store.get_records(QUARANTINE, [b.id for b in keep])
        if stale:  # documents that failed before and map now
            self.store.delete_records(QUARANTINE, list(stale))

    def _keeps_location(self, old: Business) -> bool:
        """An unchanged address keeps its point, unless it is a fallback the service could
        now improve on (a postcode point, with a usable address service)."""
        if old.location is None:
            return False
        return old.location_precision != "postcode" or not self.locator.service_usable

    def _locate(self, businesses: list[Business], refs: dict[str, Any], report: RunReport) -> None:
        """Give located points to the businesses that need one, in place; note fallbacks."""
        from chalicelib.domain.models import Point

        if not refs:
            return
        stats = self.locator.stats
        before = (stats.service_calls, stats.cache_hits, stats.failed)
        found = self.locator.locate(list(refs.values()))
        pending: dict[str, dict[str, Any]] = {}
        settled: list[str] = []
        for i, b in enumerate(businesses):
            ref = refs.get(b.id)
            if ref is None:
                continue
            where = found[ref.key]
            location = Point(lon=where.point[0], lat=where.point[1]) if where.point else None
            businesses[i] = b.model_copy(
                update={"location": location, "location_precision": where.precision}
            )
            if where.retry:
                pending[b.id] = {"key": ref.key, "since": self.clock().isoformat()}
            else:
                settled.append(b.id)
        report.geocoder_calls += stats.service_calls - before[0]
        report.geocode_cache_hits += stats.cache_hits - before[1]
        report.geocode_failed += stats.failed - before[2]
        if pending:
            self.store.put_records(PENDING, pending)
        if settled:
            self.store.delete_records(PENDING, settled)

    def locate_pending(self, report: RunReport, *, limit: int = 2000) -> None:
        """Try again the addresses that fell back to a postcode point on earlier runs."""
        if not self.locator.service_usable or self.locator.out_of_time():
            return
        waiting = [cvr for cvr, _ in self.store.list_records(PENDING, limit=limit)]
        if not waiting:
            return
        from chalicelib.intake.geocode.locate import address_ref

        stored = self.store.get_businesses(waiting)
        gone = [cvr for cvr in waiting if cvr not in stored]
        businesses = [b for b in stored.values() if not b.outside_area]
        refs = {}
        for b in businesses:
            ref = address_ref(b.address, b.postcode, b.city, b.address_id)
            if ref is not None:
                refs[b.id] = ref
            else:
                gone.append(b.id)
        self._locate(businesses, refs, report)
        result = self.store.upsert_businesses(businesses)
        report.located_later += result.updated
        if gone:
            self.store.delete_records(PENDING, gone)

    @staticmethod
    def _quarantine_entry(
        company: dict[str, Any], reason: str, report: RunReport
    ) -> dict[str, Any]:
        doc = orjson.dumps(company)
        return {
            "reason": reason,
            "run_id": report.run_id,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "document": orjson.loads(doc) if len(doc) <= _MAX_QUARANTINED_BYTES else None,
        }


def last_runs(store: Store, limit: int = 10) -> list[RunReport]:
    return [
        RunReport.from_doc(d) for _, d in store.list_records(RUNS, limit=limit, newest_first=True)
    ]


def read_jsonl(path: str) -> Iterator[dict[str, Any]]:
    """Documents from a JSON-lines file; a line that is not a JSON object is quarantined by
    the caller as a pseudo-document."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                doc = {"_line": number, "_error": f"not JSON: {exc}"}
            yield doc if isinstance(doc, dict) else {"_line": number, "_error": "not an object"}


# What placing a business at its units can change (chalicelib/intake/cvr/units.place).
_PLACEMENT = (
    "workplaces",
    "outside_area",
    "seated_elsewhere",
    "seat_municipality",
    "address",
    "address_id",
    "address_issue",
    "postcode",
    "city",
    "municipality",
    "employees",
    "industry_code",
    "industry_text",
)


def _same_placement(old: Business, new: Business) -> bool:
    """Whether re-placing a stored business at its units changed nothing it stores, so a
    page of unchanged units costs no write and no address lookup."""
    return all(getattr(old, f) == getattr(new, f) for f in _PLACEMENT)


def _same_address(old: Business, new: Business) -> bool:
    if old.address_id and new.address_id:
        return old.address_id.lower() == new.address_id.lower()
    return (old.address, old.postcode) == (new.address, new.postcode)


def _freshness(company: dict[str, Any]) -> tuple[str, int]:
    """Order of two copies of one company: later loading time, then higher samtId, wins."""
    loaded = loaded_at(company)
    samt = company.get("samtId")
    return (
        loaded.astimezone(UTC).isoformat() if loaded else "",
        samt if isinstance(samt, int) else 0,
    )


def _document_key(company: dict[str, Any], hit: dict[str, Any]) -> str:
    cvr = company.get("cvrNummer")
    if cvr is not None:
        return str(cvr)[:40]
    return str(hit.get("_id") or hit.get("_line") or secrets.token_hex(6))


def _run_id(started: datetime) -> str:
    return f"{started.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}-{secrets.token_hex(3)}"


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
