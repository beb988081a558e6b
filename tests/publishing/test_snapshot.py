"""The yearly snapshot and barometer: files, checksums, Frictionless, round trips, write-once,
crash safety, privacy, and the routes; on a local folder and on S3 (moto on 127.0.0.1)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from chalicelib.blobs import BlobStore, open_blobs
from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.errors import Conflict, InvalidParameter, NotFound
from chalicelib.domain.models import Business, Contact, Curation, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.publishing.publications import barometer, snapshot_file, snapshots
from chalicelib.publishing.snapshot import SnapshotPublisher, neutralise_cell, published
from chalicelib.store import Store, open_store
from chalicelib.web.http import HttpRequest
from tests.conftest import BIN

YEAR = 2025
FRICTIONLESS = Path(os.environ.get("VIRTUAL_ENV", str(BIN.parent))) / "bin" / "frictionless"


def _blobs_url(kind: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if kind == "local":
        return f"file:///{tmp / 'blobs'}"  # four slashes: an absolute path
    request.getfixturevalue("aws_env")
    url = f"s3://mikrokort-{uuid.uuid4().hex[:10]}/open-data"
    open_blobs(url).create_bucket()  # type: ignore[attr-defined]
    return url


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('snap') / 'demo.db'}")
    businesses = generate_businesses(1500, seed=11)
    # a few that test the privacy rules in the files
    businesses[0] = businesses[0].model_copy(
        update={"company_form": "ENK", "reklamebeskyttet": False, "curated": Curation()}
    )
    businesses[1] = businesses[1].model_copy(
        update={"reklamebeskyttet": True, "curated": Curation(show_contact=True)}
    )
    businesses[2] = businesses[2].model_copy(update={"curated": Curation(hidden=True)})
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    store.upsert_businesses(businesses)
    store.upsert_networks(generate_networks(businesses, seed=11))
    yield store
    store.close()


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return open_blobs(_blobs_url(request.param, tmp_path, request))


@pytest.fixture
def published_year(demo_store: Store, blobs: BlobStore) -> dict[str, Any]:
    return SnapshotPublisher(demo_store, blobs, ("376", "390")).publish(YEAR)


def _files(blobs: BlobStore, manifest: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for info in blobs.list(manifest["prefix"] + "/"):
        name = info.key.removeprefix(manifest["prefix"] + "/")
        if "/" not in name:
            out[name] = blobs.get(info.key) or b""
    return out


def test_every_file_is_there_and_in_sha256sums(blobs: BlobStore, published_year: dict) -> None:
    files = _files(blobs, published_year)
    expected = {
        "businesses.geojson", "businesses.csv", "businesses-excel-da.csv", "networks.geojson",
        "municipalities.geojson", "barometer.json", "barometer_da.md", "barometer_en.md",
        "barometer_da.html", "barometer_en.html", "datapackage.json", "dcat.jsonld",
        "LICENSE.md", "SHA256SUMS", "manifest.json",
    }  # fmt: skip
    assert expected <= set(files)
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(sums) == set(files) - {"SHA256SUMS", "manifest.json"}
    for name, digest in sums.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    listed = {f["name"]: f for f in published_year["files"]}
    for name, f in listed.items():
        assert (
            f["size"] == len(files[name]) and f["sha256"] == hashlib.sha256(files[name]).hexdigest()
        )


def test_frictionless_validate_passes(
    blobs: BlobStore, published_year: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "download"
    folder.mkdir()
    for name, data in _files(blobs, published_year).items():
        (folder / name).write_bytes(data)
    done = subprocess.run(
        [str(FRICTIONLESS), "validate", "datapackage.json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INVALID" not in done.stdout
    package = orjson.loads((folder / "datapackage.json").read_bytes())
    described = {r["path"] for r in package["resources"]}
    assert described == set(_files(blobs, published_year)) - {
        "datapackage.json", "dcat.jsonld", "SHA256SUMS", "manifest.json",
    }  # fmt: skip
    dcat = orjson.loads((folder / "dcat.jsonld").read_bytes())
    assert dcat["@type"] == "dcat:Dataset"
    named = {d["dcat:downloadURL"]["@id"].rsplit("/", 1)[1] for d in dcat["dcat:distribution"]}
    assert named == described | {"datapackage.json"}


def _csv(data: bytes, delimiter: str) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads æ, ø, å right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_geojson_and_csv_round_trip_to_the_same_features(
    blobs: BlobStore, published_year: dict
) -> None:
    files = _files(blobs, published_year)
    features = orjson.loads(files["businesses.geojson"])["features"]
    assert features
    rows = _csv(files["businesses.csv"], ",")
    excel = _csv(files["businesses-excel-da.csv"], ";")
    assert [r["id"] for r in rows] == [f["id"] for f in features]
    assert [r["CVR-nummer"] for r in excel] == [f'="{f["id"]}"' for f in features]
    for f, row, da in zip(features, rows, excel, strict=True):
        p = f["properties"]
        for key in ("name", "address", "postcode", "employees", "founded", "phone", "website"):
            # a text starting like a formula (a phone's +45) carries the quote Excel reads as text
            assert row[key] == neutralise_cell(p[key] or ""), key
        assert row["networks"] == p["networks"]
        assert float(row["lon"]) == f["geometry"]["coordinates"][0]
        # the Danish-Excel file: Danish headers, a decimal comma, codes as Excel text formulas
        assert float(da["Breddegrad"].replace(",", ".")) == f["geometry"]["coordinates"][1]
        assert da["CVR-nummer"] == f'="{f["id"]}"'
        assert da["Ansatte (interval)"] == (f'="{p["employees"]}"' if p["employees"] else "")
        assert p["status"] == "active" and (p["ceased"] is None or p["ceased"] > f"{YEAR}-12-31")


def test_privacy_rules_hold_in_every_file(
    demo_store: Store, blobs: BlobStore, published_year: dict
) -> None:
    files = _files(blobs, published_year)
    features = {f["id"]: f for f in orjson.loads(files["businesses.geojson"])["features"]}
    stored = demo_store.get_businesses(list(features))
    hidden_id = generate_businesses(1500, seed=11)[2].id
    assert hidden_id.encode() not in b"".join(files.values())
    rows = {r["id"]: r for r in _csv(files["businesses.csv"], ",")}
    sole_traders = 0
    for cvr, f in features.items():
        b = stored[cvr]
        if b.personally_owned and not b.curated.show_address:
            sole_traders += 1
            assert f["properties"]["address"] is None and rows[cvr]["address"] == ""
            assert f["properties"]["location_precision"] in ("grid", "postcode")
            if b.location is not None and b.location_precision == "address":
                exact = (b.location.lon, b.location.lat)
                assert tuple(f["geometry"]["coordinates"]) != exact  # snapped to the grid
        if b.reklamebeskyttet:
            assert b.curated.show_contact  # only protected firms that opted in are in the files
            assert f["properties"]["phone"] is None and f["properties"]["email"] is None
    protected = [b for b in stored.values() if b.reklamebeskyttet]
    assert len(protected) >= 1 and sole_traders >= 100
    doc = orjson.loads(files["barometer.json"])
    assert doc["total"]["micro_reklamebeskyttet"] > len(protected)  # counted in aggregates


def test_a_published_year_is_never_overwritten(
    demo_store: Store, blobs: BlobStore, published_year: dict
) -> None:
    before = _files(blobs, published_year)
    publisher = SnapshotPublisher(demo_store, blobs, ("376", "390"))
    with pytest.raises(Conflict, match="published already"):
        publisher.publish(YEAR)
    assert _files(blobs, published_year) == before
    second = publisher.publish(YEAR, new_revision=True)
    assert second["revision"] == 2 and second["prefix"].endswith(f"{YEAR}/rev-2")
    assert _files(blobs, published_year) == before  # the first revision is kept as it was
    assert [m["revision"] for m in published(blobs)] == [1, 2]
    assert orjson.loads(blobs.get("snapshots/latest.json") or b"{}")["revision"] == 2


def test_years_that_are_not_finished_are_refused(demo_store: Store, blobs: BlobStore) -> None:
    publisher = SnapshotPublisher(demo_store, blobs, ("376", "390"))
    for year in (date.today().year, 1800):
        with pytest.raises(InvalidParameter):
            publisher.publish(year)
    assert published(blobs) == []


# -- the barometer against an independent count ------------------------------------------------


def _biz(cvr: str, **kw: Any) -> Business:
    base: dict[str, Any] = {
        "id": cvr,
        "name": f"Firma {cvr}",
        "industry_code": "433200",
        "company_form": "APS",
        "employees": "2-4",
        "founded": date(2015, 1, 1),
        "municipality": "376",
        "postcode": "4800",
        "location": Point(lon=11.87, lat=54.77),
        "contact": Contact(),
    }
    base.update(kw)
    return Business(**base)


HAND_BUILT = [
    _biz("10000004"),  # micro, 2-4 -> 3 jobs
    _biz("10000012", employees="5-9", industry_code="561010"),  # micro, 7 jobs, section I
    _biz("10000020", employees="0", company_form="ENK"),  # micro, 0 + 1 owner
    _biz("10000039", employees="20-49"),  # not micro, 34.5 jobs
    _biz("10000047", founded=date(2025, 3, 1)),  # new in 2025, micro
    _biz("10000055", status="ceased", founded=date(2010, 1, 1), ceased=date(2025, 6, 1)),
    _biz("10000063", status="ceased", founded=date(2010, 1, 1), ceased=date(2024, 6, 1)),
    _biz("10000071", municipality="390", postcode="4760", employees="1", founded=date(2024, 2, 2)),
    _biz("10000080", municipality="390", postcode="4760", employees=None),  # size unknown
    _biz("10000098", municipality="461", postcode="5000"),  # outside the covered area
]


def _independent(code: str | None, year: int) -> dict[str, float]:
    """The figures by a plain count over the hand-built list."""
    end = date(year, 12, 31)
    jobs = {"0": 0, "1": 1, "2-4": 3, "5-9": 7, "20-49": 34.5}
    rows = [b for b in HAND_BUILT if b.municipality in ((code,) if code else ("376", "390"))]
    active = [b for b in rows if b.active_on(end)]
    micro = [b for b in active if b.employees in ("0", "1", "2-4", "5-9")]

    def j(b: Business) -> float:
        return jobs.get(b.employees or "", 0) + (1 if b.company_form == "ENK" else 0)

    return {
        "micro_businesses": len(micro),
        "all_businesses": len(active),
        "jobs_micro": sum(j(b) for b in micro),
        "jobs_all": sum(j(b) for b in active),
        "new": sum(1 for b in rows if b.founded and b.founded.year == year),
        "closed": sum(1 for b in rows if b.ceased and b.ceased.year == year),
        "micro_previous": sum(
            1
            for b in rows
            if b.active_on(date(year - 1, 12, 31)) and b.employees in ("0", "1", "2-4", "5-9")
        ),
    }


def test_barometer_matches_an_independent_count(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'hand.db'}")
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    store.upsert_businesses(HAND_BUILT)
    blobs = open_blobs(f"file:///{tmp_path / 'blobs'}")
    SnapshotPublisher(store, blobs, ("376", "390")).publish(YEAR)
    doc = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    for code, figures in [("376", doc["municipalities"]["376"]), (None, doc["total"])]:
        want = _independent(code, YEAR)
        assert figures["micro_businesses"] == want["micro_businesses"]
        assert figures["all_businesses"] == want["all_businesses"]
        assert figures["jobs_micro"] == want["jobs_micro"]
        assert figures["jobs_all"] == want["jobs_all"]
        assert (figures["new"], figures["closed"]) == (want["new"], want["closed"])
        assert figures["micro_businesses_previous_year"] == want["micro_previous"]
        assert figures["micro_change"] == want["micro_businesses"] - want["micro_previous"]
    m376 = doc["municipalities"]["376"]
    assert (m376["micro_businesses"], m376["jobs_micro"]) == (4, 3 + 7 + 1 + 3)  # by hand too
    assert m376["by_section"]["I"]["micro"] == 1
    assert m376["tax_estimate_dkk"] == round(14 * 300_000 * 0.25)
    assert doc["total"]["tax_estimate_dkk"] == sum(
        m["tax_estimate_dkk"] for m in doc["municipalities"].values()
    )
    assert doc["municipalities"]["390"]["size_unknown"] == 1
    assert doc["parameters"]["tax"]["average_taxable_income_dkk"] == 300_000
    release = (blobs.get(f"snapshots/{YEAR}/barometer_da.md") or b"").decode()
    assert "5 aktive mikrovirksomheder" in release and "skøn" in release
    english = (blobs.get(f"snapshots/{YEAR}/barometer_en.html") or b"").decode()
    assert "<svg" in english and "estimate" in english
    # the files hold only businesses active at year end, and none from outside the area
    geo = orjson.loads(blobs.get(f"snapshots/{YEAR}/businesses.geojson") or b"{}")
    assert sorted(f["id"] for f in geo["features"]) == sorted(
        b.id for b in HAND_BUILT if b.active_on(date(YEAR, 12, 31)) and b.municipality != "461"
    )


# -- a crash midway --------------------------------------------------------------------------


# Enough businesses that the big files take a while to write, so the kill lands midway: a
# folder shows its temporary file at once; S3 shows a multipart upload only after a first part
# of 5 MB has filled, so it needs more.
BIG = {"local": 12_000, "s3": 40_000}


def _big_store(folder: Path, count: int) -> str:
    path = folder / "big.db"
    store = open_store(f"sqlite:///{path}")
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    store.upsert_businesses(generate_businesses(count, seed=5))
    store.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_killed_snapshot_publishes_nothing_and_a_rerun_completes(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    big_store = _big_store(tmp_path, BIG[kind])
    url = _blobs_url(kind, tmp_path, request)
    blobs = open_blobs(url)
    env = {**os.environ, "MIKROKORT_STORE": big_store, "MIKROKORT_BLOBS": url}
    cmd = [str(BIN / "mikrokort"), "snapshot", "--year", str(YEAR), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _writing(kind, tmp_path, blobs):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, "the snapshot finished before it could be killed"
    assert published(blobs) == []
    assert not [i for i in blobs.list("snapshots/") if i.key.endswith("businesses.geojson")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [manifest] = published(blobs)
    files = _files(blobs, manifest)
    geo = orjson.loads(files["businesses.geojson"])
    assert len(geo["features"]) > BIG[kind] // 3  # active at year end, not protected


def _writing(kind: str, tmp: Path, blobs: BlobStore) -> bool:
    """The big files are being written (and not finished)."""
    if kind == "local":
        folder = tmp / "blobs" / "snapshots" / str(YEAR)
        return folder.is_dir() and any(p.name.startswith(".businesses") for p in folder.iterdir())
    uploads = blobs.client.list_multipart_uploads(Bucket=blobs.bucket)  # type: ignore[attr-defined]
    return bool(uploads.get("Uploads"))


# -- over HTTP-shaped requests, and the commands ----------------------------------------------


def _req(path: str, **params: str) -> HttpRequest:
    return HttpRequest(path, {k: [v] for k, v in params.items()}, {}, "http://test")


def test_snapshot_listing_and_files(blobs: BlobStore, published_year: dict) -> None:
    doc = orjson.loads(snapshots(blobs, _req("/snapshots")).body)
    assert doc["latest"]["year"] == YEAR
    [entry] = doc["snapshots"]
    names = {f["name"]: f for f in entry["files"]}
    csv_entry = names["businesses.csv"]
    if blobs.public_url("x") is None:  # the app serves the files itself
        assert csv_entry["url"] == f"http://test/snapshots/{YEAR}/businesses.csv"
        resp = snapshot_file(blobs, _req(""), str(YEAR), "businesses.csv")
        assert resp.status == 200 and hashlib.sha256(resp.body).hexdigest() == csv_entry["sha256"]
    else:  # S3: a direct URL, and the route redirects to it
        assert csv_entry["url"].endswith(f"/snapshots/{YEAR}/businesses.csv")
        resp = snapshot_file(blobs, _req(""), str(YEAR), "businesses.csv")
        assert resp.status == 302 and resp.headers["Location"] == csv_entry["url"]
    with pytest.raises(NotFound):
        snapshot_file(blobs, _req(""), str(YEAR), "passwords.txt")
    with pytest.raises(NotFound):
        snapshot_file(blobs, _req(""), "2011", "businesses.csv")
    with pytest.raises(InvalidParameter):
        snapshot_file(blobs, _req(""), "20x5", "businesses.csv")


def test_barometer_route_serves_published_and_live_years(
    demo_store: Store, blobs: BlobStore, published_year: dict
) -> None:
    codes = ("376", "390")
    doc = orjson.loads(barometer(demo_store, blobs, codes, _req(""), str(YEAR)).body)
    stored = orjson.loads(blobs.get(f"snapshots/{YEAR}/barometer.json") or b"{}")
    assert doc["published"] is True and doc["total"] == stored["total"]
    live = orjson.loads(barometer(demo_store, blobs, codes, _req(""), "2024").body)
    assert live["published"] is False and live["year"] == 2024
    html = barometer(demo_store, blobs, codes, _req("", f="html", lang="en"), str(YEAR))
    assert html.media_type.startswith("text/html") and b"Micro-business barometer" in html.body
    md = barometer(demo_store, blobs, codes, _req("", f="md"), str(YEAR))
    assert md.body.decode().startswith("# Mikrobarometer 2025")
    for params, parameter in [({"f": "pdf"}, "f"), ({"lang": "sv"}, "lang")]:
        with pytest.raises(InvalidParameter) as err:
            barometer(demo_store, blobs, codes, _req("", **params), str(YEAR))
        assert err.value.parameter == parameter
    with pytest.raises(InvalidParameter):
        barometer(demo_store, blobs, codes, _req(""), "3000")


def test_commands_publish_once_and_print_the_release(demo_store: Store, tmp_path: Path) -> None:
    db = tmp_path / "cmd.db"
    store = open_store(f"sqlite:///{db}")
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    store.upsert_businesses(HAND_BUILT)
    store.close()
    env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{db}",
           "MIKROKORT_BLOBS": f"file:///{tmp_path / 'blobs'}"}  # fmt: skip
    run = lambda *a: subprocess.run(  # noqa: E731
        [str(BIN / "mikrokort"), *a], env=env, capture_output=True, text=True, timeout=120
    )
    first = run("snapshot", "--year", str(YEAR), "--quiet")
    assert first.returncode == 0, first.stderr
    assert f"published {YEAR} revision 1" in first.stdout
    again = run("snapshot", "--year", str(YEAR), "--quiet")
    assert again.returncode == 1 and "published already" in again.stderr
    assert "Traceback" not in again.stderr
    release = run("barometer", "--year", str(YEAR), "--lang", "en")
    assert release.returncode == 0 and release.stdout.startswith("# Micro-business barometer")


def test_the_yearly_function_publishes_last_year_once(tmp_path: Path) -> None:
    from chalice.test import Client

    import app as application

    db = tmp_path / "sched.db"
    store = open_store(f"sqlite:///{db}")
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    store.upsert_businesses(HAND_BUILT)
    store.close()
    saved = dict(os.environ)
    os.environ.update(
        MIKROKORT_STORE=f"sqlite:///{db}", MIKROKORT_BLOBS=f"file:///{tmp_path / 'blobs'}"
    )
    application.configure()
    try:
        with Client(application.app) as client:
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            )
            first = client.lambda_.invoke("yearly_snapshot", event).payload
            second = client.lambda_.invoke("yearly_snapshot", event).payload
        assert first["status"] == "published" and first["year"] == date.today().year - 1
        assert second["status"] == "already published"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        application.configure()


def test_demo_snapshot_over_http(server: str, http: requests.Session) -> None:
    """`mikrokort seed --demo` published last year's snapshot; the running server lists it."""
    listing = http.get(f"{server}/snapshots", timeout=30)
    assert listing.status_code == 200 and listing.headers["Content-Type"] == "application/json"
    [entry] = listing.json()["snapshots"]
    files = {f["name"]: f for f in entry["files"]}
    got = http.get(files["businesses.csv"]["url"], timeout=30)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == files["businesses.csv"]["sha256"]
    page = http.get(f"{server}/barometer/{entry['year']}", params={"f": "html"}, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<svg" in page.text
    for path, status in [
        (f"/barometer/{entry['year']}x", 400),
        (f"/snapshots/{entry['year']}/nope.txt", 404),
        ("/snapshots/1999/businesses.csv", 404),
    ]:
        r = http.get(server + path, timeout=30)
        assert r.status_code == status and r.json()["code"], path
