"""Production units (P-enheder): each business placed where it works, jobs counted by workplace.

The mapping is pinned on unit documents in the register's real shapes (tests/fixtures/cvr/);
the cases of the refresh run through the real client, with its field selection, against the
register stand-in (which serves a unit at every company's seat, as the register has one), and
through `mikrokort import`.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.domain.models import Business, Point, Workplace
from chalicelib.domain.privacy import public_business
from chalicelib.intake.cvr.client import CvrClient, RegisterError
from chalicelib.intake.cvr.mapping import MalformedDocument
from chalicelib.intake.cvr.refresh import QUARANTINE, STATE, Refresh
from chalicelib.intake.cvr.units import map_unit, place, unit_of
from chalicelib.intake.geocode.gsearch import GsearchGeocoder
from chalicelib.intake.geocode.locate import AddressLocator
from chalicelib.store import Store, open_store
from tests.conftest import ADAPTERS, BIN, fresh_store
from tests.factories import business
from tests.standins.cvr_documents import (
    address_id_of,
    company_document,
    p_number_of,
    seat_unit,
    unit_document,
)
from tests.standins.cvr_server import CvrStandIn
from tests.standins.gsearch_server import GsearchStandIn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cvr"
USER, PASSWORD, TOKEN = "mikrokort", "hemmeligt", "gs-token"
COVERED = frozenset({"376", "390"})
LOADED = datetime.now(UTC) - timedelta(minutes=5)


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- reading unit documents as they are ------------------------------------------------------


def test_a_unit_document_gives_its_company_address_industry_and_employees() -> None:
    u = map_unit(unit_of(_fixture("example_produktionsenhed.json")))  # type: ignore[arg-type]
    w = u.workplace
    assert (w.p_number, u.cvr) == ("1999012341", "99012358")
    assert (w.address, w.postcode, w.city, w.municipality) == (
        "Fjordlysvej 17B",
        "5000",
        "Odense C",
        "461",
    )
    assert w.address_id == "bdd640fb-0667-4ad1-9c80-317fa3b1799d"
    assert (w.industry_code, w.employees, w.active) == ("433200", "5-9", True)
    assert w.name == "Fjordlys Tømrer ApS"


def test_the_real_shapes_of_unit_documents() -> None:
    cases = _fixture("real_shapes_produktionsenhed.json")
    closed = map_unit(unit_of(cases["closed"]))  # type: ignore[arg-type]
    assert closed.workplace.active is False and closed.cvr == "99012358"
    # the quarterly figure of 2024 ends the same day as the yearly one: the finer wins
    quarter = map_unit(unit_of(cases["quarter_beats_year"]))  # type: ignore[arg-type]
    assert quarter.workplace.employees == "20-49"
    # no metadata: the history arrays, and the company of the current relation
    taken = map_unit(unit_of(cases["taken_over_no_metadata"]))  # type: ignore[arg-type]
    assert taken.cvr == "99012366" and taken.workplace.active
    assert taken.workplace.address == "Fjordlysvej 17B"
    with pytest.raises(MalformedDocument, match="pNummer"):
        map_unit(unit_of(cases["no_p_number"]))  # type: ignore[arg-type]


def test_a_seat_unit_of_the_stand_in_maps_back_to_its_company() -> None:
    b = business("10000004", employees="5-9")
    u = map_unit(seat_unit(company_document(b)))
    assert u.cvr == b.id and u.workplace.p_number == str(p_number_of(b.id))
    assert (u.workplace.address, u.workplace.municipality, u.workplace.employees) == (
        b.address,
        b.municipality,
        "5-9",
    )


# -- where a business is shown ---------------------------------------------------------------


def _workplace(p: str, municipality: str, **fields: Any) -> Workplace:
    return Workplace(
        p_number=p,
        address=f"Havnegade {p[-2:]}",
        postcode="4800" if municipality == "376" else "4760",
        city="Nykøbing F" if municipality == "376" else "Vordingborg",
        municipality=municipality,
        **fields,
    )


def test_a_company_seated_here_stays_at_its_seat_with_its_units() -> None:
    b = business("10000004")
    placed = place(b, [_workplace("1000000099", "390"), _workplace("1000000004", "461")], COVERED)
    assert (placed.address, placed.municipality, placed.seated_elsewhere) == (
        b.address,
        "376",
        False,
    )
    assert [w.p_number for w in placed.workplaces or []] == ["1000000099"]  # the area's only


def test_a_company_seated_elsewhere_is_shown_at_its_largest_active_unit() -> None:
    seat = business("10000004", municipality="461", postcode="5000", city="Odense C")
    units = [
        _workplace("1000000021", "376", employees="2-4", industry_code="471100"),
        _workplace("1000000013", "390", employees="10-19", industry_code="561010"),
        _workplace("1000000005", "376", employees="50-99", active=False),
    ]
    placed = place(seat, units, COVERED)
    assert placed.seated_elsewhere and placed.seat_municipality == "461"
    assert (placed.address, placed.municipality, placed.employees, placed.industry_code) == (
        "Havnegade 13",
        "390",
        "10-19",
        "561010",
    )
    assert not placed.outside_area and placed.public
    assert (placed.name, placed.company_form) == (seat.name, seat.company_form)
    # the choice is stable: placing again from the stored business changes nothing
    assert place(placed, placed.workplaces, COVERED) == placed
    closed = [w.model_copy(update={"active": False}) for w in units]
    gone = place(placed, closed, COVERED)
    assert gone.outside_area and gone.seated_elsewhere and not gone.public


def test_a_local_unit_keeps_the_companys_privacy() -> None:
    seat = business(
        "10000012", company_form="ENK", municipality="461", postcode="5000", city="Odense C"
    )
    unit = _workplace("1000000012", "376", employees="1")
    placed = place(seat, [unit], COVERED).model_copy(
        update={"location": Point(lon=11.8729, lat=54.7691), "location_precision": "address"}
    )
    f = public_business(placed)
    assert f is not None
    props = f["properties"]
    assert props["address"] is None and props["location_precision"] == "grid"
    assert props["phone"] is None and props["municipality"] == "0376"


# -- through the refresh: the real client against the register stand-in --------------------


def _place(b: Business, **update: Any) -> Business:
    return b.model_copy(update=update)


@pytest.fixture
def cast() -> dict[str, Business]:
    """A company seated here with a second unit in the other municipality; a shop of a chain
    seated in Odense with a unit here; a firm seated in Odense whose unit here has closed; one
    seated in Odense with its only unit there."""
    local = business("10000004", employees="5-9")
    chain = business(
        "10000039",
        name="Kæden A/S",
        company_form="A/S",
        employees="200-499",
        address="Vestergade 1",
        postcode="5000",
        city="Odense C",
        municipality="461",
        industry_code="471100",
    )
    closed = business(
        "10000047", address="Kongensgade 3", postcode="5000", city="Odense C", municipality="461"
    )
    far = business(
        "10000055", address="Overgade 9", postcode="5000", city="Odense C", municipality="461"
    )
    return {"local": local, "chain": chain, "closed": closed, "far": far}


def _units(cast: dict[str, Business], loaded: datetime = LOADED) -> dict[str, dict[str, Any]]:
    chain, local = cast["chain"], cast["local"]
    branch = _place(
        local,
        address="Havnegade 5",
        employees="10-19",
        industry_code="471100",
        industry_text="Supermarkeder",
        postcode="4760",
        city="Vordingborg",
        municipality="390",
    )
    shop = _place(
        chain,
        address="Jernbanegade 7",
        postcode="4800",
        city="Nykøbing F",
        municipality="376",
        employees="20-49",
        industry_code="471100",
        industry_text="Supermarkeder",
    )
    shut = _place(
        cast["closed"],
        address="Torvet 2",
        postcode="4800",
        city="Nykøbing F",
        municipality="376",
        status="ceased",
        ceased=date(2024, 6, 30),
    )
    return {
        "branch": unit_document(branch, cvr=local.id, p_number=1_200_000_004, loaded=loaded),
        "shop": unit_document(shop, cvr=chain.id, p_number=1_200_000_039, loaded=loaded),
        "shut": unit_document(shut, cvr=cast["closed"].id, p_number=1_200_000_047, loaded=loaded),
    }


def _companies(cast: dict[str, Business], loaded: datetime = LOADED) -> list[dict[str, Any]]:
    docs = [company_document(b, samt_id=5, loaded=loaded) for b in cast.values()]
    for doc in docs:  # the company lists every unit of its own in `penheder`
        extra = {
            10000004: 1_200_000_004,
            10000039: 1_200_000_039,
            10000047: 1_200_000_047,
        }.get(doc["cvrNummer"])
        if extra:
            doc["penheder"].append({"pNummer": extra, "periode": {"gyldigFra": "2015-03-01"}})
    return docs


def _local_places(cast: dict[str, Business]) -> list[tuple[str, str, str, str, str]]:
    """Every address a unit in the area has: (address id, street, number, postcode, city)."""
    out = []
    for doc in _units(cast).values():
        a = doc["produktionsEnhedMetadata"]["nyesteBeliggenhedsadresse"]
        out.append(
            (
                a["adresseId"],
                a["vejnavn"],
                str(a["husnummerFra"]),
                str(a["postnummer"]),
                a["postdistrikt"],
            )
        )
    return out


@pytest.fixture
def register(cast: dict[str, Business]) -> Iterator[CvrStandIn]:
    with CvrStandIn(_companies(cast), user=USER, password=PASSWORD) as cvr:
        for unit in _units(cast).values():
            cvr.add({"VrproduktionsEnhed": unit})
        yield cvr


@pytest.fixture
def gsearch(cast: dict[str, Business]) -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as gs:
        local = cast["local"]
        gs.add_address(
            address_id_of(local), "Langgade", "12", "4800", "Nykøbing F", "0376", 11.8729, 54.7691
        )
        for i, (address_id, street, number, postcode, city) in enumerate(_local_places(cast)):
            kommune = "0376" if postcode == "4800" else "0390"
            gs.add_address(
                address_id, street, number, postcode, city, kommune, 11.87 + i / 100, 54.76
            )
        yield gs


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path / "store")
    yield s
    s.close()


def _client(register: CvrStandIn, **kw: Any) -> CvrClient:
    kw.setdefault("sleep", lambda _s: None)
    return CvrClient(register.url, USER, PASSWORD, page_size=2, timeout=2.0, **kw)


def _refresh(store: Store, gsearch: GsearchStandIn) -> Refresh:
    service = GsearchGeocoder(gsearch.base_url, TOKEN, timeout=1.0, retries=0, backoff=0.01)
    return Refresh(store, AddressLocator(store, service), sorted(COVERED))


IDS = ["10000004", "10000039", "10000047", "10000055"]


def _dump(store: Store) -> dict[str, Any]:
    stored = {
        cvr: b.model_dump(mode="json", exclude={"updated_at"})
        for cvr, b in store.get_businesses(IDS).items()
    }
    public = {}
    for cvr in IDS:
        raw = store.get_feature("businesses", cvr)
        if raw is not None:
            doc = orjson.loads(raw)
            doc["properties"].pop("updated_at")
            public[cvr] = doc
    return {"stored": stored, "public": public}


def test_a_full_load_places_each_business_where_it_works(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, cast: dict[str, Business]
) -> None:
    client = _client(register)
    report = _refresh(store, gsearch).run(client)
    assert report.status == "succeeded"
    # the units are asked for by the municipality of their own address, without participants
    first = register.unit_search_bodies[0]
    (terms,) = [f["terms"] for f in first["query"]["bool"]["filter"] if "terms" in f]
    unit_kommune = "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteBeliggenhedsadresse"
    assert terms == {unit_kommune + ".kommune.kommuneKode": [376, 390]}
    assert not any("deltager" in field for field in first["_source"])
    assert first["sort"] == [{"VrproduktionsEnhed.pNummer": "asc"}]
    # only the company with an active unit here and its seat elsewhere is fetched, by number
    fetched = [
        b["query"]["bool"]["filter"][0]["terms"]["Vrvirksomhed.cvrNummer"]
        for b in register.search_bodies
        if "terms" in b["query"]["bool"]["filter"][0]
        and "Vrvirksomhed.cvrNummer" in b["query"]["bool"]["filter"][0]["terms"]
    ]
    assert fetched == [[10000039]]

    got = store.get_businesses(IDS)
    assert sorted(got) == ["10000004", "10000039"]
    local, chain = got["10000004"], got["10000039"]
    assert (local.address, local.municipality, local.seated_elsewhere) == (
        "Langgade 12",
        "376",
        False,
    )
    assert [(w.p_number, w.municipality) for w in local.workplaces or []] == [
        (str(p_number_of("10000004")), "376"),
        ("1200000004", "390"),
    ]
    assert (chain.address, chain.municipality, chain.employees) == (
        "Jernbanegade 7",
        "376",
        "20-49",
    )
    assert chain.seated_elsewhere and chain.seat_municipality == "461"
    assert chain.location_precision == "address" and not chain.outside_area
    feature = store.get_feature("businesses", chain.id)
    assert feature is not None
    props = orjson.loads(feature)["properties"]
    assert (props["municipality"], props["address"], props["employees"]) == (
        "0376",
        "Jernbanegade 7",
        "20-49",
    )
    assert report.new == 2 and report.units == 4  # the three seats in Odense are not asked for
    assert report.workplace_updates == 1  # the local company got its units


def test_a_full_load_knows_a_company_with_no_unit_here_and_an_import_does_not_guess(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, tmp_path: Path
) -> None:
    register.replace_units([])  # the register lists no unit at all in the area
    _refresh(store, gsearch).run(_client(register))
    local = store.get_business("10000004")
    assert local is not None and local.workplaces == [] and not local.outside_area
    assert store.get_business("10000039") is None  # seated elsewhere, nothing here
    imported = open_store(f"sqlite:///{tmp_path / 'imported.db'}")
    _refresh(imported, gsearch).import_documents(register.companies)
    local = imported.get_business("10000004")
    assert local is not None and local.workplaces is None  # units not read: not known
    imported.close()


def test_a_second_run_changes_nothing(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, cast: dict[str, Business]
) -> None:
    _refresh(store, gsearch).run(_client(register))
    before = _dump(store)
    again = _refresh(store, gsearch).run(_client(register))
    assert again.mode == "incremental"
    assert (again.new, again.updated, again.workplace_updates, again.moved_out) == (0, 0, 0, 0)
    assert _dump(store) == before


def test_changes_to_units_move_businesses_on_and_off_the_map(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, cast: dict[str, Business]
) -> None:
    _refresh(store, gsearch).run(_client(register))
    now = datetime.now(UTC)
    units = _units(cast)
    # the chain's shop closes; the local company's branch moves to Odense
    shop = copy.deepcopy(units["shop"])
    shop["sidstIndlaest"] = now.isoformat()
    shop["produktionsEnhedMetadata"]["sammensatStatus"] = "Ophørt"
    shop["livsforloeb"][0]["periode"]["gyldigTil"] = "2026-11-30"
    branch = unit_document(
        _place(
            cast["local"],
            address="Vestergade 9",
            postcode="5000",
            city="Odense C",
            municipality="461",
        ),
        cvr="10000004",
        p_number=1_200_000_004,
        loaded=now,
    )
    register.replace_units([shop, branch, units["shut"]], seat_units=True)
    report = _refresh(store, gsearch).run(_client(register))
    assert report.mode == "incremental" and report.moved_out == 1
    got = store.get_businesses(["10000004", "10000039"])
    assert got["10000039"].outside_area and store.get_feature("businesses", "10000039") is None
    # it keeps its seat's address (read again), not the closed shop's
    assert (got["10000039"].address, got["10000039"].municipality) == ("Vestergade 1", "461")
    assert not got["10000039"].seated_elsewhere
    assert [w.p_number for w in got["10000004"].workplaces or []] == [str(p_number_of("10000004"))]
    # the shop opens again: the chain is back at it
    shop["produktionsEnhedMetadata"]["sammensatStatus"] = "Aktiv"
    shop["livsforloeb"][0]["periode"]["gyldigTil"] = None
    shop["sidstIndlaest"] = datetime.now(UTC).isoformat()
    register.replace_units([shop, branch, units["shut"]], seat_units=True)
    _refresh(store, gsearch).run(_client(register))
    chain = store.get_business("10000039")
    assert chain is not None and not chain.outside_area and chain.address == "Jernbanegade 7"
    # the chain's own document is read again: it stays at its unit here
    docs = [d for d in register.companies if d["cvrNummer"] != 10000039]
    renamed = company_document(
        cast["chain"].model_copy(update={"name": "Kæden Danmark A/S"}),
        samt_id=6,
        loaded=datetime.now(UTC),
    )
    renamed["penheder"].append({"pNummer": 1_200_000_039, "periode": {"gyldigFra": "2015-03-01"}})
    register.replace_all([*docs, renamed])
    _refresh(store, gsearch).run(_client(register))
    chain = store.get_business("10000039")
    assert chain is not None and chain.name == "Kæden Danmark A/S"
    assert (chain.municipality, chain.address, chain.outside_area) == (
        "376",
        "Jernbanegade 7",
        False,
    )
    assert store.get_feature("businesses", "10000039") is not None


def test_a_unit_sold_to_another_company_leaves_the_old_one(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, cast: dict[str, Business]
) -> None:
    _refresh(store, gsearch).run(_client(register))
    now = datetime.now(UTC)
    docs = [d for d in register.companies if d["cvrNummer"] != 10000004]
    local = company_document(cast["local"], samt_id=6, loaded=now)  # the branch is not listed
    register.replace_all([*docs, local])
    units = _units(cast)
    sold = copy.deepcopy(units["branch"])  # the chain took the branch over
    sold["sidstIndlaest"] = now.isoformat()
    sold["produktionsEnhedMetadata"]["nyesteCvrNummerRelation"] = 10000039
    sold["virksomhedsrelation"][0]["periode"]["gyldigTil"] = "2026-11-30"
    sold["virksomhedsrelation"].append(
        {"cvrNummer": 10000039, "periode": {"gyldigFra": "2026-12-01", "gyldigTil": None}}
    )
    register.replace_units([units["shop"], sold, units["shut"]], seat_units=True)
    _refresh(store, gsearch).run(_client(register))
    got = store.get_businesses(["10000004", "10000039"])
    assert [w.p_number for w in got["10000004"].workplaces or []] == [str(p_number_of("10000004"))]
    assert [w.p_number for w in got["10000039"].workplaces or []] == ["1200000004", "1200000039"]
    assert got["10000039"].address == "Jernbanegade 7"  # still at its largest unit here


def test_a_unit_that_cannot_be_read_is_quarantined_and_the_run_goes_on(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, cast: dict[str, Business]
) -> None:
    bad = copy.deepcopy(_units(cast)["shop"])
    bad["pNummer"] = "P-nummer mangler"
    orphan = copy.deepcopy(_units(cast)["shop"])
    orphan["pNummer"] = 1_200_000_100
    orphan["produktionsEnhedMetadata"]["nyesteCvrNummerRelation"] = 10000063  # not registered
    register.add({"VrproduktionsEnhed": bad})
    register.add({"VrproduktionsEnhed": orphan})
    report = _refresh(store, gsearch).run(_client(register))
    assert report.status == "succeeded" and report.quarantined == 1
    reasons = {key: entry["reason"] for key, entry in store.list_records(QUARANTINE)}
    assert list(reasons) == ["PP-nummer mangler"] and "pNummer" in reasons["PP-nummer mangler"]
    assert store.get_business("10000039") is not None  # the good units were all taken
    assert report.units_without_company == 1  # the orphan's company is not in the register


def test_a_failure_in_the_units_phase_resumes_there(
    store: Store,
    register: CvrStandIn,
    gsearch: GsearchStandIn,
    cast: dict[str, Business],
    tmp_path: Path,
) -> None:
    reference_store = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    _refresh(reference_store, gsearch).run(_client(register))
    reference = _dump(reference_store)
    reference_store.close()
    # the companies' phase: one page (the one company seated here) and the empty last page;
    # then the first page of units is served, and the register fails from the next request on
    register.pause_after_pages(3)

    def fail() -> None:
        register.paused.wait(10)
        register.fail_next(5, 503)  # more than the failing run tries; the next one retries
        register.resume()

    threading.Thread(target=fail, daemon=True).start()
    with pytest.raises(RegisterError):
        _refresh(store, gsearch).run(_client(register, attempts=2))
    checkpoint = store.get_records(STATE, ["refresh"])["refresh"]["checkpoint"]
    assert checkpoint["phase"] == "units" and checkpoint["from_p"] > 0
    report = _refresh(store, gsearch).run(_client(register))
    assert report.status == "succeeded" and report.resumed == 1
    assert _dump(store) == reference


def _env(store_url: str, register: CvrStandIn, gsearch: GsearchStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env.update(
        MIKROKORT_STORE=store_url,
        MIKROKORT_CVR_URL=register.url,
        MIKROKORT_CVR_USER=USER,
        MIKROKORT_CVR_PASSWORD=PASSWORD,
        MIKROKORT_GEOCODER_URL=gsearch.base_url,
        MIKROKORT_GEOCODER_TOKEN=TOKEN,
    )
    return env


def test_a_refresh_killed_in_the_units_phase_resumes_and_ends_as_an_uninterrupted_run(
    register: CvrStandIn, gsearch: GsearchStandIn, tmp_path: Path
) -> None:
    reference_store = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    _refresh(reference_store, gsearch).run(_client(register))
    reference = _dump(reference_store)
    reference_store.close()
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    env = _env(url, register, gsearch)
    # the companies' page and their empty last page, then two pages of units: the run is
    # killed while it fetches the company of a unit here seated elsewhere
    register.pause_after_pages(2 + 2)
    command = [str(BIN / "mikrokort"), "refresh", "--quiet", "--page-size", "2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert register.paused.wait(60), "the refresh never reached the second page of units"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        register.resume()
    partial = open_store(url)
    state = partial.get_records(STATE, ["refresh"])["refresh"]
    partial.close()
    assert state["checkpoint"]["phase"] == "units"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed 1x" in done.stdout
    final = open_store(url)
    assert _dump(final) == reference
    final.close()


def test_import_reads_units_from_the_same_file(
    register: CvrStandIn, gsearch: GsearchStandIn, tmp_path: Path
) -> None:
    reference_store = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    _refresh(reference_store, gsearch).run(_client(register))
    reference = _dump(reference_store)
    reference_store.close()
    lines = [orjson.dumps({"_source": {"VrproduktionsEnhed": u}}) for u in register.units]
    lines += [orjson.dumps({"Vrvirksomhed": c}) for c in register.companies]
    path = tmp_path / "cvr.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    done = subprocess.run(
        [str(BIN / "mikrokort"), "import", str(path), "--quiet"],
        env=_env(url, register, gsearch),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "2 new" in done.stdout
    imported = open_store(url)
    assert _dump(imported) == reference
    imported.close()
