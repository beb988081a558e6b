"""The yearly open-data snapshot: the map's state on 31 December, published once to blobs.

Everything comes from the public features (the privacy rules already applied), read from the
store page by page and streamed into the files while their SHA-256 digests are computed: the
data set is never held in memory (the GeoPackage, an SQLite file, is built in the temporary
folder and streamed to the blobs when complete). `reklamebeskyttet` businesses are left out of
the bulk files unless they opted in to show their details (the CVR act restricts collective
re-publication of protected units); they are counted in the barometer.

A year is published when its `manifest.json` exists. The manifest is written last and
create-only, so a crash leaves a year unpublished (and a rerun completes it), and a second
run for a published year refuses; a forced new revision goes beside it (`rev-2/`, ...) and
keeps the old one. `snapshots/latest.json` points to the newest year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.blobs import AlreadyExists, BlobStore
from chalicelib.domain.errors import Conflict, InvalidParameter, NotFound
from chalicelib.domain.public import PUBLIC_BUSINESS_COLUMNS, internal_code
from chalicelib.publishing import dcat, press
from chalicelib.publishing.barometer import BarometerBuilder, Parameters, active_on, load_parameters
from chalicelib.publishing.geopackage import MEDIA_TYPE as GEOPACKAGE
from chalicelib.publishing.geopackage import GeoPackageWriter, snapshot_geopackage
from chalicelib.publishing.opendata import (
    EXCEL_DA_HEADERS,
    EXCEL_TEXT_COLUMNS,
    PublishedFile,
    attribution,
    datapackage,
)
from chalicelib.store import iter_public_pages, load_public_features

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.store import CollectionId, Store

PREFIX = "snapshots"
LATEST = f"{PREFIX}/latest.json"
PAGE = 5000
# the CSV columns are the public business shape's fields, in its order
CSV_COLUMNS = list(PUBLIC_BUSINESS_COLUMNS)
GEOJSON = "application/geo+json"
_YEAR = re.compile(r"^(\d{4})$")


@dataclass
class _Hashing:
    """A blob writer that counts and hashes what passes through."""

    writer: Any
    name: str
    media_type: str
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.writer.write(data)

    def done(self) -> PublishedFile:
        self.writer.commit()
        return PublishedFile(self.name, self.size, self.digest.hexdigest(), self.media_type)


def year_prefix(year: int, revision: int) -> str:
    return f"{PREFIX}/{year}" if revision == 1 else f"{PREFIX}/{year}/rev-{revision}"


def published(blobs: BlobStore) -> list[dict[str, Any]]:
    """Every published year and revision (their manifests), oldest first."""
    out = []
    for info in blobs.list(f"{PREFIX}/"):
        parts = info.key.split("/")
        if parts[-1] != "manifest.json" or not _YEAR.match(parts[1]):
            continue
        doc = blobs.get(info.key)
        if doc is not None:
            out.append(orjson.loads(doc))
    return sorted(out, key=lambda m: (m["year"], m["revision"]))


def check_year(year: int, today: date | None = None) -> None:
    today = today or datetime.now(UTC).date()
    if not 1900 <= year < today.year:
        raise InvalidParameter(
            f"year must be a finished year (1900 to {today.year - 1}), not {year}",
            parameter="year",
        )


class SnapshotPublisher:
    """Writes one year's snapshot and barometer to a BlobStore."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        municipalities: tuple[str, ...],
        *,
        params: Parameters | None = None,
        progress: Callable[[int], None] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.municipalities = municipalities
        self.params = params or load_parameters()
        self.progress = progress
        # the API's public address, which the DCAT's absolute URLs start with
        self.public_url = public_url or dcat.LOCAL_URL

    def publish(self, year: int, *, new_revision: bool = False) -> dict[str, Any]:
        check_year(year)
        revisions = [m["revision"] for m in published(self.blobs) if m["year"] == year]
        if revisions and not new_revision:
            raise Conflict(
                f"the snapshot of {year} is published already (revision {max(revisions)}); "
                "published files are never overwritten: ask for a new revision to publish "
                "another one beside it"
            )
        revision = max(revisions, default=0) + 1
        base = year_prefix(year, revision)
        files: list[PublishedFile] = []
        builder = BarometerBuilder(year, self.municipalities, self.params)
        with tempfile.TemporaryDirectory(prefix="mikrokort-gpkg-") as folder:
            gpkg = snapshot_geopackage(Path(folder) / "businesses.gpkg")
            try:
                files += self._businesses(base, year, builder, gpkg)
                networks = self._features("networks")
                files.append(self._put(base, "networks.geojson", _collection(networks), GEOJSON))
                gpkg.add("networks", networks)
                gpkg.close()
            except BaseException:
                gpkg.abort()
                raise
            files.append(self._upload(base, "businesses.gpkg", gpkg.path, GEOPACKAGE))
        municipalities = [
            f for f in self._features("municipalities") if f["id"] in self.municipalities
        ]
        files.append(
            self._put(base, "municipalities.geojson", _collection(municipalities), GEOJSON)
        )
        barometer = builder.result(networks)
        files.append(
            self._put(
                base,
                "barometer.json",
                orjson.dumps(barometer, option=orjson.OPT_INDENT_2),
                "application/json",
            )
        )
        # the press contact of the releases and the contact points of the catalogue: the
        # business contact each municipality's record holds
        contacts = dcat.municipality_contacts(self.store, self.municipalities)
        for lang in ("da", "en"):
            files.append(
                self._put(
                    base,
                    f"barometer_{lang}.md",
                    press.markdown(barometer, lang, contacts=contacts).encode(),
                    "text/markdown; charset=utf-8",
                )
            )
            files.append(
                self._put(
                    base,
                    f"barometer_{lang}.html",
                    press.html(barometer, lang, contacts=contacts).encode(),
                    "text/html; charset=utf-8",
                )
            )
        for lang in ("da", "en"):
            for name, svg in press.charts(barometer, lang).items():
                files.append(self._put(base, name, svg.encode(), "image/svg+xml"))
        files.append(self._put(base, "LICENSE.md", attribution(year).encode(), "text/markdown"))
        files.append(
            self._put(
                base,
                "datapackage.json",
                datapackage(year, revision, files, self.municipalities),
                "application/json",
            )
        )
        files.append(
            self._put(
                base,
                "dcat.jsonld",
                dcat.snapshot_document(
                    dcat.Revision(
                        year,
                        revision,
                        list(files),
                        self.municipalities,
                        datetime.now(UTC).date().isoformat(),
                    ),
                    dcat.Site(self.public_url, contacts),
                ),
                dcat.MEDIA_TYPE,
            )
        )
        sums = "".join(f"{f.sha256}  {f.name}\n" for f in files).encode()
        files.append(self._put(base, "SHA256SUMS", sums, "text/plain"))
        manifest = {
            "year": year,
            "revision": revision,
            "prefix": base,
            "as_of": f"{year}-12-31",
            "published": datetime.now(UTC).isoformat(timespec="seconds"),
            "municipalities": list(self.municipalities),
            "files": [f.__dict__ for f in files],
        }
        try:
            self.blobs.put(
                f"{base}/manifest.json",
                orjson.dumps(manifest, option=orjson.OPT_INDENT_2),
                "application/json",
                create_only=True,
            )
        except AlreadyExists:
            raise Conflict(f"the snapshot of {year} was published meanwhile") from None
        self._point_latest(manifest)
        return manifest

    # -- the big files -------------------------------------------------------------------------

    def _businesses(
        self, base: str, year: int, builder: BarometerBuilder, gpkg: GeoPackageWriter
    ) -> list[PublishedFile]:
        """businesses.geojson, businesses.csv and businesses-excel-da.csv in one pass, and the
        GeoPackage's businesses layer beside them."""
        end = date(year, 12, 31).isoformat()
        geo = self._writer(base, "businesses.geojson", GEOJSON)
        std = self._writer(base, "businesses.csv", "text/csv; charset=utf-8")
        excel = self._writer(base, "businesses-excel-da.csv", "text/csv; charset=utf-8")
        writers = (geo, std, excel)
        try:
            geo.write(b'{"type":"FeatureCollection","features":[\n')
            std.write(b"\xef\xbb\xbf" + _csv_line(CSV_COLUMNS, ","))
            excel.write(b"\xef\xbb\xbf" + _csv_line(EXCEL_HEADER, ";"))
            first, done = True, 0
            for features in public_business_pages(self.store):
                consent = self._protected_consent(features)
                published_page = []
                for feature in features:
                    p = feature["properties"]
                    builder.add(p)
                    home = internal_code(p["municipality"]) if p["municipality"] else None
                    if home not in self.municipalities or not active_on(p, end):
                        continue
                    if p["reklamebeskyttet"] and feature["id"] not in consent:
                        continue
                    geo.write((b"" if first else b",\n") + orjson.dumps(feature))
                    first = False
                    row = _csv_row(feature)
                    std.write(_csv_line(_neutralised(row), ","))
                    excel.write(_csv_line(excel_row(row), ";"))
                    published_page.append(feature)
                gpkg.add("businesses", published_page)
                done += len(features)
                if self.progress:
                    self.progress(done)
            geo.write(b"\n]}\n")
        except BaseException:
            for w in writers:
                w.writer.abort()
            raise
        return [w.done() for w in writers]

    def _protected_consent(self, features: list[dict[str, Any]]) -> set[str]:
        """Protected businesses of the page that opted in to show their details."""
        protected = [f["id"] for f in features if f["properties"]["reklamebeskyttet"]]
        if not protected:
            return set()
        stored = self.store.get_businesses(protected)
        return {cvr for cvr, b in stored.items() if b.curated.show_contact}

    # -- small files ---------------------------------------------------------------------------

    def _features(self, collection: CollectionId) -> list[dict[str, Any]]:
        return load_public_features(self.store, collection)

    def _writer(self, base: str, name: str, media_type: str) -> _Hashing:
        return _Hashing(self.blobs.writer(f"{base}/{name}", media_type), name, media_type)

    def _put(self, base: str, name: str, data: bytes, media_type: str) -> PublishedFile:
        w = self._writer(base, name, media_type)
        w.write(data)
        return w.done()

    def _upload(self, base: str, name: str, path: Path, media_type: str) -> PublishedFile:
        """A finished local file, streamed to the blobs in parts (bounded memory)."""
        w = self._writer(base, name, media_type)
        try:
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    w.write(chunk)
        except BaseException:
            w.writer.abort()
            raise
        return w.done()

    def _point_latest(self, manifest: dict[str, Any]) -> None:
        current = self.blobs.get(LATEST)
        if current is not None:
            doc = orjson.loads(current)
            if (doc["year"], doc["revision"]) > (manifest["year"], manifest["revision"]):
                return
        latest = {k: manifest[k] for k in ("year", "revision", "prefix", "published")}
        self.blobs.put(LATEST, orjson.dumps(latest), "application/json")


def public_business_pages(store: Store) -> Iterator[list[dict[str, Any]]]:
    """Every public business feature, parsed a page at a time (bounded memory)."""
    for page in iter_public_pages(store, "businesses", page_size=PAGE):
        yield [orjson.loads(f) for f in page]


def _collection(features: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _csv_row(feature: dict[str, Any]) -> list[str]:
    p = feature["properties"]
    point = (feature.get("geometry") or {}).get("coordinates") or [None, None]
    values: dict[str, Any] = {
        **p,
        "id": feature["id"],
        "lon": point[0],
        "lat": point[1],
    }
    return ["" if values.get(c) is None else str(values[c]) for c in CSV_COLUMNS]


# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and the
# line breaks, strips them and reads what follows): a register name such as `=HYPERLINK(...)` or
# `=cmd|...` would run in the reader's Excel. OWASP's rule: such a cell gets a leading quote,
# which Excel takes as "text".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Columns whose genuine values are numbers: a number is left as it is (a negative longitude
# is not a formula); anything else in them is neutralised like any other cell.
_NUMERIC_COLUMNS = frozenset({"lon", "lat", "postcode"})
_NUMBER = re.compile(r"^-?[0-9]+(?:[.,][0-9]+)?(?:[eE]-?[0-9]+)?$")


def neutralise_cell(value: str) -> str:
    """The cell as a spreadsheet shows it as text: a quote before a formula's first character."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _neutralised(row: list[str]) -> list[str]:
    return [
        v if (c in _NUMERIC_COLUMNS and _NUMBER.match(v)) else neutralise_cell(v)
        for c, v in zip(CSV_COLUMNS, row, strict=True)
    ]


# Danish Excel turns a cell it can read as a number or a date into one, for good, when a CSV
# is opened by double-click: the size group 2-4 becomes 2 April, the industry code 011100
# becomes 11100, a postcode 0800 becomes 800, a phone number +4512345678 becomes 4,51E+09. A
# leading quote does not help (a CSV shows it). What Excel does honour is a formula that
# yields text: ="2-4" shows 2-4 and stays text. It is a string constant, so nothing in it is
# ever evaluated; Excel limits such a constant to 255 characters.
EXCEL_HEADER = [EXCEL_DA_HEADERS[c] for c in CSV_COLUMNS]
_EXCEL_TEXT_LIMIT = 255
_DATE_COLUMNS = frozenset({"founded", "ceased"})  # ISO dates: Excel makes dates, rightly
# A text Excel would read as a number, a date, a time, a fraction or a percentage: only
# digits and the signs of those (a name such as "1-2" or an address "12/3").
_EXCEL_CONVERTS = re.compile(r"^[-+ ]*[0-9][0-9 .,:/%eE+-]*$")


def excel_text(value: str) -> str:
    """The value as an Excel text formula, ="2-4" (a quote inside doubled)."""
    return '="' + value.replace('"', '""') + '"'


def excel_row(row: list[str]) -> list[str]:
    """A row of the Danish-Excel CSV: decimal commas in the coordinates, text formulas where
    Excel would convert a value, and every other text neutralised as in businesses.csv."""
    out = []
    for c, v in zip(CSV_COLUMNS, row, strict=True):
        if c in ("lon", "lat") and _NUMBER.match(v):
            out.append(v.replace(".", ","))
        elif (
            v
            and len(v) <= _EXCEL_TEXT_LIMIT
            and (c in EXCEL_TEXT_COLUMNS or (c not in _DATE_COLUMNS and _EXCEL_CONVERTS.match(v)))
        ):
            out.append(excel_text(v))
        else:
            out.append(neutralise_cell(v))
    return out


def _csv_line(values: list[str], delimiter: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(values)
    return buf.getvalue().encode()


def read_manifest(blobs: BlobStore, year: int, revision: int | None = None) -> dict[str, Any]:
    versions = [m for m in published(blobs) if m["year"] == year]
    if revision is not None:
        versions = [m for m in versions if m["revision"] == revision]
    if not versions:
        raise NotFound(
            f"no published snapshot of {year}" + (f" revision {revision}" if revision else "")
        )
    return versions[-1]


def scheduled_snapshot(settings: Settings) -> dict[str, Any]:
    """The yearly function's body: publish last year once; a second call reports it done."""
    from chalicelib.blobs import open_blobs
    from chalicelib.store import open_store

    year = datetime.now(UTC).year - 1
    blobs = open_blobs(settings.blobs_url, settings.blobs_public_url)
    if any(m["year"] == year for m in published(blobs)):
        return {"status": "already published", "year": year}
    params = load_parameters(settings.barometer_config)
    publisher = SnapshotPublisher(
        open_store(settings.store_url),
        blobs,
        settings.municipalities,
        params=params,
        public_url=settings.public_url,
    )
    manifest = publisher.publish(year)
    return {"status": "published", "year": year, "files": len(manifest["files"])}
