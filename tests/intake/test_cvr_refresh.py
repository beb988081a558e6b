"""The register refresh end to end: the real client against a stand-in of the register's
Elasticsearch service and a stand-in of the address service, into both stores, with faults."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business, Curation
from chalicelib.intake.cvr.client import CvrClient, RegisterAuthError, RegisterError
from chalicelib.intake.cvr.refresh import PENDING, QUARANTINE, STATE, Refresh, last_runs
from chalicelib.intake.geocode.gsearch import GsearchGeocoder
from chalicelib.intake.geocode.locate import AddressLocator
from chalicelib.store import FeatureQuery, Store, open_store
from tests.conftest import ADAPTERS, BIN, fresh_store
from tests.standins.cvr_documents import address_id_of, company_document
from tests.standins.cvr_server import CvrStandIn
from tests.standins.gsearch_server import GsearchStandIn

USER, PASSWORD, TOKEN = "mikrokort", "hemmeligt", "gs-token"
LOADED = datetime.now(UTC) - timedelta(minutes=5)  # inside the next incremental window


# -- the data: synthetic businesses as register documents, and their addresses ---------------


@pytest.fixture(scope="module")
def businesses() -> list[Business]:
    return generate_businesses(240, seed=4)


def _documents(businesses: list[Business]) -> list[dict[str, Any]]:
    docs = [company_document(b, samt_id=10, loaded=LOADED) for b in businesses]
    elsewhere = company_document(
        businesses[0].model_copy(
            update={"id": "39999995", "municipality": "461", "postcode": "5000", "city": "Odense C"}
        ),
        loaded=LOADED,
    )
    no_cvr = copy.deepcopy(docs[1])
    no_cvr.pop("cvrNummer")
    backwards = company_document(
        businesses[2].model_copy(
            update={"id": "39999987", "founded": date(2020, 1, 1), "ceased": None}
        ),
        loaded=LOADED,
    )
    backwards["livsforloeb"] = [{"periode": {"gyldigFra": "2020-01-01", "gyldigTil": "2019-01-01"}}]
    backwards["virksomhedMetadata"]["sammensatStatus"] = "OPHØRT"
    return [*docs, elsewhere, no_cvr, backwards]


def _geocoder_addresses(gs: GsearchStandIn, businesses: list[Business]) -> None:
    for b in businesses:
        street, _, number = (b.address or "").rpartition(" ")
        assert b.location is not None
        gs.add_address(
            address_id_of(b),
            street,
            number,
            b.postcode,
            b.city,
            "0" + b.municipality,
            b.location.lon,
            b.location.lat,
        )


@pytest.fixture
def register(businesses: list[Business]) -> Iterator[CvrStandIn]:
    with CvrStandIn(_documents(businesses), user=USER, password=PASSWORD) as cvr:
        yield cvr


@pytest.fixture
def gsearch(businesses: list[Business]) -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as gs:
        _geocoder_addresses(gs, businesses)
        yield gs


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path / "store")
    yield s
    s.close()


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, "sqlite", tmp_path / "store")
    yield s
    s.close()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(register: CvrStandIn, **kw: Any) -> CvrClient:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("sleep", Sleeps())
    return CvrClient(register.url, USER, kw.pop("password", PASSWORD), page_size=50, **kw)


def _refresh(store: Store, gsearch: GsearchStandIn | None, **kw: Any) -> Refresh:
    service = (
        GsearchGeocoder(gsearch.base_url, TOKEN, timeout=1.0, retries=0, backoff=0.01)
        if gsearch
        else None
    )
    return Refresh(store, AddressLocator(store, service), ["376", "390"], **kw)


def _dump(store: Store, ids: list[str]) -> dict[str, Any]:
    """Everything stored about these businesses, and every public feature, minus write times."""
    stored = {
        cvr: b.model_dump(mode="json", exclude={"updated_at"})
        for cvr, b in store.get_businesses(ids).items()
    }
    public = []
    q = FeatureQuery(limit=10_000)
    while True:
        page = store.query("businesses", q)
        for f in page.features:
            doc = orjson.loads(f)
            doc["properties"].pop("updated_at")
            public.append(doc)
        if page.next_after is None:
            break
        q = q.model_copy(update={"after": page.next_after})
    return {"stored": stored, "public": public}


def _ids(businesses: list[Business]) -> list[str]:
    return [b.id for b in businesses] + ["39999995", "39999987"]


def _reference(tmp: Path, register: CvrStandIn, gsearch: GsearchStandIn, ids: list[str]) -> dict:
    ref = open_store(f"sqlite:///{tmp / 'reference.db'}")
    _refresh(ref, gsearch).run(_client(register))
    dump = _dump(ref, ids)
    ref.close()
    return dump


# -- a full load, then incremental runs ------------------------------------------------------


def test_full_load_maps_locates_and_quarantines(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    report = _refresh(store, gsearch).run(_client(register))
    assert report.status == "succeeded" and report.mode == "full"
    assert report.new == len(businesses) and report.quarantined == 2
    assert report.outside_area == 0  # the full load asks only for our municipalities
    first = register.search_bodies[0]
    filters = first["query"]["bool"]["filter"]
    assert filters[0]["terms"][next(iter(filters[0]["terms"]))] == [376, 390]
    stored = store.get_businesses(_ids(businesses))
    assert sorted(stored) == sorted(b.id for b in businesses)
    for b in businesses:
        got = stored[b.id]
        assert (got.name, got.address, got.postcode, got.municipality) == (
            b.name,
            b.address,
            b.postcode,
            b.municipality,
        )
        assert got.location is not None and b.location is not None
        assert got.location.lon == pytest.approx(b.location.lon, abs=1e-6)
        assert got.location.lat == pytest.approx(b.location.lat, abs=1e-6)
        assert got.location_precision == "address" and got.source == "cvr"
    reasons = {k: d["reason"] for k, d in store.list_records(QUARANTINE)}
    assert "39999987" in reasons and "before" in reasons["39999987"]
    assert any("cvr" in r.lower() for r in reasons.values())
    assert report.geocoder_calls == len({address_id_of(b) for b in businesses})
    assert store.get_records(STATE, ["refresh"])["refresh"]["checkpoint"] is None
    assert last_runs(store, 1)[0].run_id == report.run_id


def test_a_second_run_changes_nothing_and_asks_nobody(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    _refresh(store, gsearch).run(_client(register))
    before = _dump(store, _ids(businesses))
    calls = gsearch.requests
    report = _refresh(store, gsearch).run(_client(register))
    assert report.mode == "incremental"
    assert (report.new, report.updated) == (0, 0) and report.unchanged == len(businesses)
    assert report.outside_area == 1  # the incremental run sees the whole country: Odense too
    assert gsearch.requests == calls  # addresses are looked up once
    assert _dump(store, _ids(businesses)) == before
    since = register.search_bodies[-1]["query"]["bool"]["filter"][0]["range"]
    assert "gte" in next(iter(since.values()))  # everything loaded since the last run


def test_changes_in_the_register_reach_the_store_and_curation_survives(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    _refresh(store, gsearch).run(_client(register))
    active = [b for b in businesses if b.status == "active"]
    moved, closing, renamed, curated = active[10:14]
    store.curate_business(curated.id, Curation(show_address=True, note="asked us"))
    later = datetime.now(UTC)
    changed = {
        moved.id: moved.model_copy(
            update={"municipality": "461", "postcode": "5000", "city": "Odense C"}
        ),
        closing.id: closing.model_copy(
            update={"status": "ceased", "ceased": date(2026, 11, 1), "founded": date(2010, 1, 1)}
        ),
        renamed.id: renamed.model_copy(update={"name": "Helt Nyt Navn ApS"}),
        curated.id: curated.model_copy(update={"employees": "10-19"}),
    }
    newcomer = active[20].model_copy(update={"id": "39999979", "founded": date(2026, 11, 25)})
    _geocoder_addresses(gsearch, [newcomer])
    docs = [
        company_document(changed.get(b.id, b), samt_id=11, loaded=later)
        if b.id in changed
        else company_document(b, samt_id=10, loaded=LOADED)
        for b in businesses
    ]
    register.replace_all([*docs, company_document(newcomer, loaded=later)])
    report = _refresh(store, gsearch).run(_client(register))
    assert report.mode == "incremental"
    assert (report.new, report.ceased, report.moved_out) == (1, 1, 1)
    assert report.updated == 4
    got = store.get_businesses([moved.id, closing.id, renamed.id, curated.id, newcomer.id])
    assert got[moved.id].outside_area and store.get_feature("businesses", moved.id) is None
    assert got[closing.id].status == "ceased" and got[closing.id].ceased == date(2026, 11, 1)
    assert store.get_feature("businesses", closing.id) is not None  # ceased, never deleted
    assert got[renamed.id].name == "Helt Nyt Navn ApS"
    assert got[curated.id].employees == "10-19"
    assert got[curated.id].curated == Curation(show_address=True, note="asked us")
    assert got[newcomer.id].location_precision == "address"


def test_the_same_company_on_two_pages_keeps_the_newer_copy(
    sqlite_store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    ordered = sorted(businesses, key=lambda b: b.id)
    twin = ordered[49]  # the last document of the first page of 50
    older = company_document(twin.model_copy(update={"name": "Gammelt Navn ApS"}), samt_id=9)
    older["sidstIndlaest"] = "2026-01-01T00:00:00.000+01:00"
    docs = [d for d in register.companies if d.get("cvrNummer") != int(twin.id)]
    newer = company_document(twin, samt_id=10, loaded=LOADED)
    position = [d.get("cvrNummer") for d in docs].index(int(ordered[48].id)) + 1
    # newer first, older second: they straddle the page boundary in CVR order
    register.replace_all([*docs[:position], newer, older, *docs[position:]])
    report = _refresh(sqlite_store, gsearch).run(_client(register))
    assert report.duplicates == 1
    assert sqlite_store.get_business(twin.id).name == twin.name  # type: ignore[union-attr]


# -- faults: the run survives, or stops losing nothing and the next run completes ----------


@pytest.mark.parametrize(
    "fault",
    [
        "500-twice",
        "429",
        "reset-mid-page",
        "scroll-expired",
        "500-in-scroll",
        "shard-failure-first-page",
        "shard-failure-in-scroll",
    ],
)
def test_transient_faults_are_survived(
    fault: str,
    sqlite_store: Store,
    register: CvrStandIn,
    gsearch: GsearchStandIn,
    businesses: list[Business],
    tmp_path: Path,
) -> None:
    reference = _reference(tmp_path, register, gsearch, _ids(businesses))
    register.bodies.clear()
    sleeps = Sleeps()
    client = _client(register, sleep=sleeps)
    if fault == "500-twice":
        register.fail_next(2, 500)
    elif fault == "429":
        register.fail_next(1, 429, reset_seconds=3)
    elif fault == "reset-mid-page":
        _after_first_page(register, lambda: register.reset_next(1))
    elif fault == "scroll-expired":
        register.expire_scroll_after_pages(2)
    elif fault == "500-in-scroll":
        _after_first_page(register, lambda: register.fail_next(1, 500))
    elif fault == "shard-failure-first-page":
        register.partial_next(1)
    elif fault == "shard-failure-in-scroll":
        _after_first_page(register, lambda: register.partial_next(1))
    report = _refresh(sqlite_store, gsearch).run(client)
    assert report.status == "succeeded"
    assert _dump(sqlite_store, _ids(businesses)) == reference
    if fault == "429":
        assert 3 in [round(s) for s in sleeps]  # waited as x-ratelimit-reset said
    if fault in ("reset-mid-page", "scroll-expired", "500-in-scroll", "shard-failure-in-scroll"):
        assert client.reopened >= 1


def _after_first_page(register: CvrStandIn, fault: Callable[[], None]) -> None:
    """Inject a fault once the first page is out, so it hits a scroll continuation."""
    register.pause_after_pages(1)

    def arm() -> None:
        register.paused.wait(10)
        fault()
        register.resume()

    threading.Thread(target=arm, daemon=True).start()


def test_a_slow_register_stops_the_run_and_the_next_run_completes(
    sqlite_store: Store,
    register: CvrStandIn,
    gsearch: GsearchStandIn,
    businesses: list[Business],
    tmp_path: Path,
) -> None:
    reference = _reference(tmp_path, register, gsearch, _ids(businesses))
    refresh = _refresh(sqlite_store, gsearch)
    _after_first_page(register, lambda: setattr(register, "delay", 1.0))
    with pytest.raises(RegisterError):
        refresh.run(_client(register, timeout=0.3, attempts=2))
    kept = sqlite_store.get_businesses(_ids(businesses))
    assert 0 < len(kept) < len(businesses)  # the pages done are kept, nothing half-written
    state = sqlite_store.get_records(STATE, ["refresh"])["refresh"]
    assert state["checkpoint"]["from_cvr"] > 0 and "last_success_started" not in state
    assert last_runs(sqlite_store, 1)[0].status == "failed"
    register.delay = 0
    report = _refresh(sqlite_store, gsearch).run(_client(register))
    assert report.status == "succeeded" and report.resumed == 1 and report.mode == "full"
    assert _dump(sqlite_store, _ids(businesses)) == reference


def test_refused_credentials_are_a_clear_error(sqlite_store: Store, register: CvrStandIn) -> None:
    with pytest.raises(RegisterAuthError, match="refused the credentials"):
        _refresh(sqlite_store, None).run(_client(register, password="wrong"))
    assert sqlite_store.get_businesses(["10000004"]) == {}


def test_geocoder_down_falls_back_to_postcodes_and_a_later_run_locates(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    gsearch.down()
    report = _refresh(store, gsearch).run(_client(register))
    assert report.status == "succeeded" and report.geocode_failed >= 1
    stored = store.get_businesses([b.id for b in businesses])
    assert {b.location_precision for b in stored.values()} == {"postcode"}
    assert len(store.list_records(PENDING, limit=1000)) == len(businesses)
    gsearch.up()
    # the register has nothing new: the pending list alone brings the addresses back
    old = datetime(2026, 1, 1, tzinfo=UTC)
    register.replace_all([company_document(b, samt_id=10, loaded=old) for b in businesses])
    later = _refresh(store, gsearch).run(_client(register))
    assert later.documents == 0 and later.located_later == len(businesses)
    stored = store.get_businesses([b.id for b in businesses])
    assert {b.location_precision for b in stored.values()} == {"address"}
    assert store.list_records(PENDING) == []


def test_without_a_geocoder_postcode_points_are_used_until_one_is_configured(
    sqlite_store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    report = _refresh(sqlite_store, None).run(_client(register))
    assert report.status == "succeeded" and report.geocoder_calls == 0
    b = sqlite_store.get_business(businesses[0].id)
    assert b is not None and b.location_precision == "postcode" and b.location is not None
    assert sqlite_store.list_records(PENDING) == []  # offline by choice: nothing to retry
    configured = _refresh(sqlite_store, gsearch).run(_client(register))
    assert configured.updated == len(businesses)  # re-read addresses get their real points
    b = sqlite_store.get_business(businesses[0].id)
    assert b is not None and b.location_precision == "address"


# -- the commands: a killed refresh resumes; import loads the same documents ------------------


def _env(store: str, register: CvrStandIn, gsearch: GsearchStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env.update(
        MIKROKORT_STORE=store,
        MIKROKORT_CVR_URL=register.url,
        MIKROKORT_CVR_USER=USER,
        MIKROKORT_CVR_PASSWORD=PASSWORD,
        MIKROKORT_GEOCODER_URL=gsearch.base_url,
        MIKROKORT_GEOCODER_TOKEN=TOKEN,
    )
    return env


def test_a_killed_refresh_resumes_and_ends_as_an_uninterrupted_run(
    register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business], tmp_path: Path
) -> None:
    reference = _reference(tmp_path, register, gsearch, _ids(businesses))
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    env = _env(url, register, gsearch)
    register.pause_after_pages(3)
    proc = subprocess.Popen(
        [str(BIN / "mikrokort"), "refresh", "--quiet", "--page-size", "50"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert register.paused.wait(60), "the refresh never reached page 4"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        register.resume()
    assert proc.returncode == -signal.SIGKILL
    partial = open_store(url)
    assert 0 < len(partial.get_businesses(_ids(businesses))) < len(businesses)
    partial.close()
    done = subprocess.run(
        [str(BIN / "mikrokort"), "refresh", "--quiet", "--page-size", "50"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "resumed 1x" in done.stdout
    final = open_store(url)
    assert _dump(final, _ids(businesses)) == reference
    final.close()


def test_import_loads_a_jsonl_file_like_a_refresh(
    register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business], tmp_path: Path
) -> None:
    reference = _reference(tmp_path, register, gsearch, _ids(businesses))
    path = tmp_path / "cvr.jsonl"
    lines = [orjson.dumps({"_source": {"Vrvirksomhed": d}}) for d in register.companies]
    units = [orjson.dumps({"VrproduktionsEnhed": u}) for u in register.units]
    # units first: the import reads them after every company, wherever they are in the file
    path.write_bytes(b"\n".join([*units, *lines, b"this is not json", b""]))
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    env = _env(url, register, gsearch)
    done = subprocess.run(
        [str(BIN / "mikrokort"), "import", str(path), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(businesses):,} new" in done.stdout and "3 quarantined" in done.stdout
    imported = open_store(url)
    assert _dump(imported, _ids(businesses)) == reference
    imported.close()
    missing = subprocess.run(
        [str(BIN / "mikrokort"), "import", str(tmp_path / "nope.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_refresh_without_configuration_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env["MIKROKORT_STORE"] = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [str(BIN / "mikrokort"), "refresh"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "not configured" in done.stderr and "Traceback" not in done.stderr


def test_the_password_can_come_from_ssm_or_secrets_manager(aws_env: dict[str, str]) -> None:
    import boto3

    from chalicelib.config import Settings
    from chalicelib.intake.cvr.credentials import register_credentials

    def credentials_from_env():
        return register_credentials(Settings.from_env())

    boto3.client("ssm").put_parameter(
        Name="/mikrokort/test/cvr", Value="fra-ssm", Type="SecureString", Overwrite=True
    )
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"mikrokort-cvr-{os.getpid()}",
        SecretString=orjson.dumps({"user": "u2", "password": "fra-sm"}).decode(),
    )["ARN"]
    saved = {k: os.environ.get(k) for k in ("MIKROKORT_CVR_USER", "MIKROKORT_CVR_SECRET")}
    try:
        os.environ.pop("MIKROKORT_CVR_PASSWORD", None)
        os.environ["MIKROKORT_CVR_USER"] = "u1"
        os.environ["MIKROKORT_CVR_SECRET"] = "/mikrokort/test/cvr"
        assert (credentials_from_env().user, credentials_from_env().password) == ("u1", "fra-ssm")
        os.environ["MIKROKORT_CVR_SECRET"] = arn
        assert (credentials_from_env().user, credentials_from_env().password) == ("u2", "fra-sm")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_the_scheduled_function_runs_a_refresh(
    register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business], tmp_path: Path
) -> None:
    from chalice.test import Client

    import app as application

    env = _env(f"sqlite:///{tmp_path / 'scheduled.db'}", register, gsearch)
    saved = dict(os.environ)
    os.environ.update(env)
    application.configure()
    try:
        with Client(application.app) as client:
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            )
            # the test client gives each call 3 s (Chalice's default): a call that runs out of
            # time stops cleanly, and the next call of the night resumes, as on AWS
            calls = [client.lambda_.invoke("cvr_refresh", event).payload]
            while calls[-1]["status"] == "paused" and len(calls) < 30:
                calls.append(client.lambda_.invoke("cvr_refresh", event).payload)
            again = client.lambda_.invoke("cvr_refresh", event)
        result = calls[-1]
        assert result["status"] == "succeeded"
        assert result["new"] == len(businesses) and result["resumed"] == len(calls) - 1
        assert again.payload["status"] == "skipped"  # the later calls of the night rest
    finally:
        os.environ.clear()
        os.environ.update(saved)
        application.configure()


def test_runs_command_lists_runs_and_quarantine(
    register: CvrStandIn, gsearch: GsearchStandIn, tmp_path: Path
) -> None:
    env = _env(f"sqlite:///{tmp_path / 'runs.db'}", register, gsearch)
    for verb in (["refresh", "--quiet"], ["runs"]):
        done = subprocess.run(
            [str(BIN / "mikrokort"), *verb], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    assert "full run" in done.stdout and "succeeded" in done.stdout
    assert "quarantined 39999987" in done.stdout


def test_a_full_reload_keeps_the_incremental_window(
    sqlite_store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: list[Business]
) -> None:
    """A company that moved away is not in a full load (it asks for our municipalities only):
    the next incremental run must still see the move."""
    _refresh(sqlite_store, gsearch).run(_client(register))
    first = sqlite_store.get_records(STATE, ["refresh"])["refresh"]["last_success_started"]
    mover = next(b for b in businesses if b.status == "active")
    moved = mover.model_copy(update={"municipality": "461", "postcode": "5000", "city": "Odense C"})
    others = [company_document(b, samt_id=10, loaded=LOADED) for b in businesses if b is not mover]
    register.replace_all([*others, company_document(moved, samt_id=11)])  # loaded long ago
    full = _refresh(sqlite_store, gsearch).run(_client(register), full=True)
    assert full.mode == "full" and full.moved_out == 0
    state = sqlite_store.get_records(STATE, ["refresh"])["refresh"]
    assert state["last_success_started"] == first
    register.replace_all([*others, company_document(moved, samt_id=11, loaded=datetime.now(UTC))])
    later = _refresh(sqlite_store, gsearch).run(_client(register))
    assert later.mode == "incremental" and later.moved_out == 1
    assert sqlite_store.get_feature("businesses", mover.id) is None
    since = datetime.fromisoformat(later.since or "")
    assert since == datetime.fromisoformat(first) - timedelta(hours=2)
