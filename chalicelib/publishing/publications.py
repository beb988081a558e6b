"""The published snapshots and the barometer over HTTP: `/snapshots`, a snapshot's files, the
DCAT-AP-DK catalogue `/catalog`, and `/barometer/{year}` (from the published snapshot, or
computed from the store while the year has not been published yet)."""

from __future__ import annotations

import threading
import time
import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import InvalidParameter, NotFound, UnknownParameter
from chalicelib.publishing import press
from chalicelib.web import params as P
from chalicelib.web.http import HttpRequest, HttpResponse, etag_of, negotiate, ok

if TYPE_CHECKING:
    from chalicelib.blobs import BlobStore
    from chalicelib.config import Settings
    from chalicelib.store import Store

_FORMATS = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
_Live = tuple[float, dict[str, Any]]  # (when computed, the barometer)
_LIVE_TTL = 600.0  # seconds a barometer computed from the store is reused
# per store (a process has one; a test many), per year and set of municipalities
_live: weakref.WeakKeyDictionary[Store, dict[tuple[int, tuple[str, ...]], _Live]] = (
    weakref.WeakKeyDictionary()
)
_live_lock = threading.Lock()


def parse_year(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        raise InvalidParameter(f"year must be four digits, not {value!r}", parameter="year")
    return int(value)


def _file_url(base_url: str, blobs: BlobStore, manifest: dict[str, Any], name: str) -> str:
    url = blobs.public_url(f"{manifest['prefix']}/{name}")
    if url:
        return url
    rev = f"?revision={manifest['revision']}" if manifest["revision"] > 1 else ""
    return f"{base_url}/snapshots/{manifest['year']}/{name}{rev}"


def snapshots(blobs: BlobStore, req: HttpRequest) -> HttpResponse:
    """Every published year and revision with its files' URLs, sizes and checksums."""
    from chalicelib.publishing.snapshot import LATEST, published

    values = P.single_values(req.params, ("f", "lang"))
    if values.get("f") not in (None, "json", "html"):
        raise InvalidParameter("f must be 'json' or 'html'", parameter="f")
    if "lang" in values:
        P.parse_language(values["lang"])
    listing = []
    for m in published(blobs):
        listing.append(
            {
                "year": m["year"],
                "revision": m["revision"],
                "as_of": m["as_of"],
                "published": m["published"],
                "files": [
                    {
                        "name": f["name"],
                        "url": _file_url(req.base_url, blobs, m, f["name"]),
                        "size": f["size"],
                        "sha256": f["sha256"],
                        "media_type": f["media_type"],
                    }
                    for f in m["files"]
                ],
            }
        )
    latest = blobs.get(LATEST)
    doc = {
        "latest": orjson.loads(latest) if latest else None,
        "snapshots": listing,
        "links": [
            {"href": f"{req.base_url}/snapshots", "rel": "self", "type": "application/json"},
            {"href": f"{req.base_url}/snapshots?f=html", "rel": "alternate", "type": "text/html"},
        ],
    }
    from chalicelib.web.pages import HTML, language, wants_html

    if wants_html(req):
        from chalicelib.pages.feed import snapshots as snapshots_page

        page = snapshots_page(req, language(req), doc)
        return ok(
            req,
            page,
            HTML,
            etag=etag_of(page),
            max_age=300,
            extra={"Vary": "Accept, Accept-Language"},
        )
    body = orjson.dumps(doc)
    return ok(req, body, "application/json", etag=etag_of(body), max_age=300)


def catalog(
    store: Store, blobs: BlobStore, municipalities: tuple[str, ...], req: HttpRequest
) -> HttpResponse:
    """The live DCAT-AP-DK catalogue (JSON-LD): every published year and revision with its
    files, and the API as a data service, at the address the request came to, so a portal can
    harvest one URL rather than a file per year. Contacts are the current ones from the store."""
    from chalicelib.publishing import dcat
    from chalicelib.publishing.snapshot import published

    for name in req.params:
        raise UnknownParameter(
            f"unknown query parameter '{name}'; /catalog takes no query parameters",
            parameter=name,
        )
    revisions = [dcat.Revision.from_manifest(m) for m in published(blobs)]
    if not revisions:  # the profile wants a catalogue to list a dataset: say so instead
        raise NotFound("no snapshot is published yet, so the catalogue has no dataset to list")
    covered = tuple(sorted({*municipalities, *(c for r in revisions for c in r.municipalities)}))
    site = dcat.Site(req.base_url, dcat.municipality_contacts(store, covered))
    body = dcat.catalog_document(revisions, municipalities, site)
    return ok(req, body, dcat.MEDIA_TYPE, etag=etag_of(body), max_age=300)


def snapshot_file(blobs: BlobStore, req: HttpRequest, year_text: str, name: str) -> HttpResponse:
    """One file of a published snapshot (served by the app in the embedded mode; on S3 a
    redirect to the object, since Lambda answers are limited to 6 MB)."""
    from chalicelib.publishing.snapshot import read_manifest

    values = P.single_values(req.params, ("revision",))
    revision = None
    if "revision" in values:
        if not (values["revision"].isascii() and values["revision"].isdigit()):
            raise InvalidParameter("revision must be a number", parameter="revision")
        revision = int(values["revision"])
    manifest = read_manifest(blobs, parse_year(year_text), revision)
    entry = next((f for f in manifest["files"] if f["name"] == name), None)
    if entry is None:
        raise NotFound(f"no file {name!r} in the snapshot of {year_text}")
    key = f"{manifest['prefix']}/{name}"
    url = blobs.public_url(key)
    if url:
        return HttpResponse(302, b"", "text/plain", {"Location": url, "Cache-Control": "no-store"})
    data = blobs.get(key)
    if data is None:
        raise NotFound(f"the file {name!r} of {year_text} is missing from storage")
    return ok(
        req,
        data,
        entry["media_type"],
        etag=f'"{entry["sha256"]}"',
        max_age=86400,
        extra={"Content-Disposition": f'inline; filename="{year_text}-{name}"'},
    )


def barometer(
    store: Store,
    blobs: BlobStore,
    municipalities: tuple[str, ...],
    req: HttpRequest,
    year_text: str,
) -> HttpResponse:
    """The barometer of a year as JSON, or its press release as HTML or Markdown.

    `municipality` (a kommunekode, or several separated by commas) narrows it to those
    municipalities: the figures and the release are theirs, with the covered area's total to
    compare with, and the release names each one's business contact as press contact."""
    from chalicelib.publishing.snapshot import check_year, published

    values = P.single_values(req.params, ("f", "lang", "municipality"))
    year = parse_year(year_text)
    chosen = _chosen(values.get("municipality"), municipalities)
    lang = values.get("lang", "da")
    if lang not in ("da", "en"):
        raise InvalidParameter("lang must be 'da' or 'en'", parameter="lang")
    if "f" in values:
        if values["f"] not in _FORMATS:
            raise InvalidParameter("f must be 'json', 'html' or 'md'", parameter="f")
        media = _FORMATS[values["f"]]
    else:
        media = negotiate(req.header("accept"), list(_FORMATS.values()))
    versions = [m for m in published(blobs) if m["year"] == year]
    if versions:
        raw = blobs.get(f"{versions[-1]['prefix']}/barometer.json")
        if raw is None:
            raise NotFound(f"the barometer of {year} is missing from storage")
        doc = orjson.loads(raw)
        doc["published"] = True
    else:
        check_year(year)
        doc = {**_live_barometer(store, municipalities, year, req.settings), "published": False}
    if chosen:
        doc = press.select(doc, chosen)
    if media.startswith("text/html"):
        body = press.html(doc, lang, contacts=_contacts(store, doc)).encode()
    elif media.startswith("text/markdown"):
        body = press.markdown(doc, lang, contacts=_contacts(store, doc)).encode()
    else:
        body = orjson.dumps(doc)
    return ok(req, body, media, etag=etag_of(body), max_age=3600 if versions else 300)


def _chosen(value: str | None, covered: tuple[str, ...]) -> list[str]:
    """The kommunekoder of the `municipality` parameter, each one covered by this service."""
    if value is None:
        return []
    codes = [P.parse_municipality(v.strip()) for v in value.split(",")]
    outside = [c for c in codes if c not in covered]
    if outside:
        raise InvalidParameter(
            f"municipality {', '.join(outside)} is not covered by this service "
            f"(it covers {', '.join(covered)})",
            parameter="municipality",
        )
    return codes


def _contacts(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    """Each municipality's business contact as its record in the store has it (the press
    contact of the release; a municipality without one gets the release's marked slot)."""
    from chalicelib.publishing import dcat

    return dcat.municipality_contacts(store, tuple(doc["municipalities"]))


def _live_barometer(
    store: Store, municipalities: tuple[str, ...], year: int, settings: Settings
) -> dict[str, Any]:
    """Computed from the store (not yet published); reused for a few minutes."""
    from chalicelib.publishing.barometer import BarometerBuilder, load_parameters
    from chalicelib.store import iter_public_features, load_public_features

    now = time.monotonic()
    key = (year, tuple(municipalities))
    with _live_lock:
        hit = _live.get(store, {}).get(key)
        if hit and now - hit[0] < _LIVE_TTL:
            return hit[1]
    builder = BarometerBuilder(year, municipalities, load_parameters(settings.barometer_config))
    for raw in iter_public_features(store, "businesses"):
        builder.add(orjson.loads(raw)["properties"])
    doc = builder.result(load_public_features(store, "networks"))
    doc["computed"] = datetime.now(UTC).isoformat(timespec="seconds")
    with _live_lock:
        _live.setdefault(store, {})[key] = (now, doc)
    return doc
