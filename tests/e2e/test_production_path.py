"""The production path, end to end, as a municipality's IT person walks it: an empty store for
København (101, the large case) and Guldborgsund (376), `mikrokort init`, `mikrokort refresh`
against the register's stand-in (a few thousand documents) with the geocoder's stand-in, then
`mikrokort serve`: the municipalities, the map data, the welcome feed, the barometer (by name), a
snapshot, and the widget in chromium drawing the businesses inside the boundary with no error.

Run on SQLite with a folder, and on DynamoDB with S3 (moto's server, the aws ring). Every expected
figure is computed here from the register's documents, never read back from the service.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.domain.models import MICRO_GROUPS, SIZE_CHOICES, Business
from chalicelib.publishing.snapshot import PREFIX as SNAPSHOT_PREFIX
from tests.conftest import BIN, start_server, store_url, walk
from tests.e2e.browser import Stub, Visit, state, wait_drawn, widget
from tests.standins.cvr_documents import company_document
from tests.standins.cvr_server import CvrStandIn
from tests.standins.gsearch_server import GsearchStandIn
from tests.standins.population import businesses_in, register_addresses

USER, PASSWORD, TOKEN = "kommune-it", "adgangskode", "gs-token"
TODAY = datetime.now(UTC).date()
NEW_SINCE = TODAY - timedelta(days=20)
COUNTS = {"101": 3000, "376": 500}  # register documents per municipality
NEWCOMERS = {"101": 12, "376": 4}  # of them registered in the last three weeks
OFFICIAL = {"101": "Københavns Kommune", "376": "Guldborgsund Kommune"}
YEAR = 2025


@pytest.fixture(scope="module")
def population() -> dict[str, list[Business]]:
    """The register's businesses per municipality (CVR numbers unique across both)."""
    out: dict[str, list[Business]] = {}
    seen: set[str] = set()
    for code, n in COUNTS.items():
        made = businesses_in(
            code, n, seed=int(code), new_since=NEW_SINCE, new_count=NEWCOMERS[code]
        )
        out[code] = [b for b in made if b.id not in seen]
        seen |= {b.id for b in out[code]}
    return out


@pytest.fixture(scope="module")
def register(population: dict[str, list[Business]]) -> Iterator[CvrStandIn]:
    """The register with both municipalities and a neighbour's firms the service must not load."""
    loaded = datetime.now(UTC) - timedelta(minutes=5)
    documents = [
        company_document(b, samt_id=3, loaded=loaded) for bs in population.values() for b in bs
    ]
    neighbours = businesses_in("147", 40, seed=147)  # Frederiksberg: not configured
    documents += [
        company_document(b.model_copy(update={"id": str(80_000_000 + i)}), loaded=loaded)
        for i, b in enumerate(neighbours)
    ]
    with CvrStandIn(documents, user=USER, password=PASSWORD) as cvr:
        yield cvr


@pytest.fixture(scope="module")
def geocoder(population: dict[str, list[Business]]) -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as gs:
        for bs in population.values():
            register_addresses(gs, bs)
        yield gs


def _publish_snapshots_as_the_stack_does(env: dict[str, str], bucket: str) -> None:
    """The stack's own public-read statement (infra/resources.py), on this bucket: published
    snapshots are public, nothing else is (the local S3 server, like S3, refuses anonymous reads
    without it). The HTTPS-only statement is left out: the local server speaks HTTP."""
    import boto3

    from infra.resources import BUCKET_POLICY_ID, resources

    template = resources("prod")["Resources"][BUCKET_POLICY_ID]["Properties"]["PolicyDocument"]
    [public] = [st for st in template["Statement"] if st["Sid"] == "PublicReadOfSnapshots"]
    public = {**public, "Resource": f"arn:aws:s3:::{bucket}/{SNAPSHOT_PREFIX}/*"}
    policy = {"Version": template["Version"], "Statement": [public]}
    s3 = boto3.client(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name=env["AWS_DEFAULT_REGION"]
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _mikrokort(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "mikrokort"), *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"mikrokort {' '.join(args)}: {done.stderr}"
    return done.stdout + done.stderr


def _active(bs: list[Business], day: date) -> list[Business]:
    return [
        b
        for b in bs
        if (b.founded is None or b.founded <= day) and (b.ceased is None or b.ceased > day)
    ]


@pytest.mark.parametrize("kind", ["sqlite", "s3"], ids=["sqlite-folder", "dynamodb-s3"])
def test_an_empty_store_becomes_a_live_map(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    population: dict[str, list[Business]],
    register: CvrStandIn,
    geocoder: GsearchStandIn,
    stub: Stub,
    browser: Any,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    bucket = ""
    if kind == "s3":
        env.update(request.getfixturevalue("aws_env"))
        bucket = f"mikrokort-opendata-{uuid.uuid4().hex[:12]}"
        env["MIKROKORT_STORE"] = store_url("dynamodb", tmp_path)
        env["MIKROKORT_BLOBS"] = f"s3://{bucket}"
        # published files are read where the public reads them (a CDN or the bucket itself):
        # here the bucket on the local S3 server, path-style
        env["MIKROKORT_BLOBS_PUBLIC_URL"] = f"{env['AWS_ENDPOINT_URL_S3']}/{bucket}"
    else:
        env["MIKROKORT_STORE"] = store_url("sqlite", tmp_path)
        env["MIKROKORT_BLOBS"] = f"file://{tmp_path / 'blobs'}"
    env |= {
        "MIKROKORT_MUNICIPALITIES": "101,376",
        "MIKROKORT_CVR_URL": register.url,
        "MIKROKORT_CVR_USER": USER,
        "MIKROKORT_CVR_PASSWORD": PASSWORD,
        "MIKROKORT_GEOCODER_URL": geocoder.base_url,
        "MIKROKORT_GEOCODER_TOKEN": TOKEN,
        "MIKROKORT_TILE_URL": f"{stub.url}/tiles/{{z}}/{{x}}/{{y}}.png",
        "MIKROKORT_TILE_ATTRIBUTION": "Stub tiles",
    }

    # -- init: the store, the two municipalities with their real boundaries -------------------
    said = _mikrokort(env, "init")
    assert "municipalities 101, 376: 2 new" in said, said
    assert "0 new, 0 updated, 2 unchanged" in _mikrokort(env, "init")
    if kind == "s3":
        _publish_snapshots_as_the_stack_does(env, bucket)

    # -- refresh: a full load of the configured municipalities from the register -------------
    said = _mikrokort(env, "refresh", "--quiet", "--page-size", "500")
    wanted = sum(len(bs) for bs in population.values())
    assert f"{wanted:,} documents, {wanted:,} new" in said, said
    assert "0 quarantined" in said, said

    proc, url = start_server(env)
    try:
        _check_service(url, population)
        _check_snapshot(env, url, population)
        _check_widget(browser, stub, url, population)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _check_service(url: str, population: dict[str, list[Business]]) -> None:
    http = requests.Session()
    # the municipalities collection: both, by name, with their DAGI polygons
    doc = http.get(f"{url}/collections/municipalities/items", timeout=30).json()
    by_code = {f["id"]: f for f in doc["features"]}
    assert set(by_code) == {"0101", "0376"}  # four digits, as DAGI writes them
    assert by_code["0101"]["properties"]["name"] == "København"
    assert by_code["0376"]["properties"]["name"] == "Guldborgsund"
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in by_code.values())

    for code, bs in population.items():
        # the map data: every active business, and nothing of the neighbour
        data = http.get(f"{url}/municipalities/{code}/map-data", timeout=60)
        assert data.status_code == 200, data.text
        body = data.json()
        active = {b.id for b in bs if b.status == "active"}
        ids = {row[body["fields"].index("id")] for row in body["businesses"]}
        assert ids == active
        assert body["municipality"]["boundary"]["type"] in ("Polygon", "MultiPolygon")
        # every business placed by its address (personal firms then coarsened to the grid),
        # none left on its postcode's point
        precision = {
            f["properties"]["location_precision"]
            for page in walk(
                http, f"{url}/collections/businesses/items", municipality=code, limit=1000
            )
            for f in page["features"]
        }
        assert precision <= {"address", "grid"}, precision

        # the welcome feed: exactly the newcomers, in JSON and in Atom, by name
        # (a page may be short on DynamoDB, where reading stops after a few calls: its `next`
        # link goes on from there)
        feed = walk(
            http,
            f"{url}/municipalities/{code}/new-businesses",
            since=NEW_SINCE.isoformat(),
            limit=100,
        )
        newcomers = {b.id for b in bs if b.founded and b.founded >= NEW_SINCE}
        assert len(newcomers) == NEWCOMERS[code]
        assert {f["id"] for page in feed for f in page["features"]} == newcomers
        atom = http.get(
            f"{url}/municipalities/{code}/new-businesses",
            params={"since": NEW_SINCE.isoformat(), "f": "atom"},
            timeout=30,
        )
        assert atom.status_code == 200, atom.text
        assert OFFICIAL[code] in atom.text

    # the live barometer of last year: the micro-businesses counted here, named
    baro = http.get(f"{url}/barometer/{YEAR}", params={"f": "json"}, timeout=60).json()
    year_end = date(YEAR, 12, 31)
    for code, bs in population.items():
        micro = [b for b in _active(bs, year_end) if b.employees in MICRO_GROUPS]
        figures = baro["municipalities"][code]
        assert figures["micro_businesses"] == len(micro)
        # the refresh read the register's production units: jobs at workplace level too
        assert figures["jobs_workplaces"] > 0
        assert figures["name"] in ("København", "Guldborgsund", OFFICIAL[code])
    release = http.get(f"{url}/barometer/{YEAR}", params={"f": "md"}, timeout=60).text
    assert OFFICIAL["101"] in release and OFFICIAL["376"] in release
    assert " 101 " not in release and "(101)" not in release


def _check_snapshot(env: dict[str, str], url: str, population: dict[str, list[Business]]) -> None:
    said = _mikrokort(env, "snapshot", "--year", str(YEAR), "--quiet")
    assert str(YEAR) in said
    listed = requests.get(f"{url}/snapshots", timeout=30).json()
    years = [s["year"] for s in listed["snapshots"]]
    assert YEAR in years
    rows = list(
        csv.DictReader(
            io.StringIO(
                requests.get(f"{url}/snapshots/{YEAR}/businesses.csv", timeout=60).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    year_end = date(YEAR, 12, 31)
    # the open files list the firms active at the year's end that are not protected
    # (reklamebeskyttede firms are counted in the barometer, never listed)
    for code, bs in population.items():
        listed_here = {r["id"] for r in rows if r["municipality"] == code.zfill(4)}
        expected = {b.id for b in _active(bs, year_end) if not b.reklamebeskyttet}
        assert listed_here == expected, code
    published = requests.get(f"{url}/barometer/{YEAR}", params={"f": "json"}, timeout=30).json()
    assert published["published"] is True
    for code, bs in population.items():
        micro = [b for b in _active(bs, year_end) if b.employees in MICRO_GROUPS]
        assert published["municipalities"][code]["micro_businesses"] == len(micro)


HOST = """<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Erhverv</title>
</head><body><h1>Erhverv i {name}</h1>
<div data-mikrokort data-municipality="{code}" data-height="600"></div>
<script src="{site}/widget/mikrokort.js" defer></script></body></html>
"""


def _check_widget(
    browser: Any, stub: Stub, url: str, population: dict[str, list[Business]]
) -> None:
    """The widget on a municipal page of another origin: all micro-businesses (its default,
    those of 0-9 employees or none in the register) drawn inside the boundary, of all active
    ones, the boundary drawn, no error message, nothing asked of the outside world."""
    for code, bs in population.items():
        stub.pages[f"/kommune-{code}.html"] = HOST.format(name=OFFICIAL[code], code=code, site=url)
        visit = Visit(browser, width=1100, height=900)
        try:
            # (generous: on the local DynamoDB server one map-data answer reads thousands of
            # items one page at a time; what is tested here is what the widget shows)
            page = visit.open(f"{stub.url}/kommune-{code}.html", widgets=1, timeout_s=180)
            active = [b for b in bs if b.status == "active"]
            micro = sum(1 for b in active if (b.employees or "") in SIZE_CHOICES["micro"])
            assert 0 < micro < len(active)  # the register holds firms of 10 or more too
            wait_drawn(page, 0, micro)
            seen = state(page, 0)
            assert (seen["shown"], seen["total"]) == (micro, len(active))
            assert seen["clusters"], "a few thousand businesses are drawn as clusters"
            shape = widget(page, 0).evaluate(
                """host => {
                  const r = host.shadowRoot;
                  return {paths: r.querySelectorAll('.leaflet-overlay-pane path').length,
                          alerts: [...r.querySelectorAll('[role=alert]')]
                                    .map(e => e.textContent.trim()).filter(Boolean)};
                }"""
            )
            assert shape["paths"] >= 1, "the municipality's boundary is drawn"
            assert shape["alerts"] == []
            assert "kunne ikke" not in page.inner_text("body")
            assert visit.errors == []
        finally:
            visit.close()
