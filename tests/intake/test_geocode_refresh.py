"""Geocoding through a register refresh: documents from the register stand-in, addresses from the
Gsearch stand-in (which matches as the real SQL does), into a store. Each way the register writes
an address lands on its house; an address DAR does not have lands on its postcode's point, not
on the neighbour a prefix match would give."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business, Point
from chalicelib.domain.reference import postcode_point
from chalicelib.intake.cvr.client import CvrClient
from chalicelib.intake.cvr.refresh import Refresh
from chalicelib.intake.geocode.gsearch import GsearchGeocoder
from chalicelib.intake.geocode.locate import AddressLocator
from chalicelib.store import Store
from tests.conftest import ADAPTERS, fresh_store
from tests.standins.cvr_documents import address_id_of, company_document
from tests.standins.cvr_server import CvrStandIn
from tests.standins.gsearch_server import GsearchStandIn

USER, PASSWORD, TOKEN = "mikrokort", "hemmeligt", "gs-token"
LOADED = datetime.now(UTC) - timedelta(minutes=5)

# (register line, postcode, register town, municipality, DAR street, number, floor, door,
#  DAR postcode name, the register's adresseId is known to Gsearch, DAR has the house)
CASES: dict[str, tuple[Any, ...]] = {
    "zero-padded floor": (
        "Langgade 12B, 02. th", "4800", "Nykøbing F", "376",
        "Langgade", "12B", "2", "th", "Nykøbing F", False, True,
    ),
    "house-number range": (
        "Nørregade 10-12", "4800", "Nykøbing F", "376",
        "Nørregade", "10", None, None, "Nykøbing F", False, True,
    ),
    "old town spelling": (
        "Bispegade 3", "8000", "Århus C", "751",
        "Bispegade", "3", None, None, "Aarhus C", False, True,
    ),
    "by the register's id": (
        "Bispensgade 5", "8000", "Århus C", "751",
        "Bispegade", "5", None, None, "Aarhus C", True, True,
    ),
    "only a neighbour's number": (
        "Torvet 1", "4800", "Nykøbing F", "376",
        "Torvet", "14", None, None, "Nykøbing F", False, False,
    ),
}  # fmt: skip


def _point(i: int, postcode: str) -> tuple[float, float]:
    """A house point near the postcode's, different for every case."""
    base = postcode_point(postcode)
    assert base is not None
    return round(base[0] + 0.004 * (i + 1), 7), round(base[1] + 0.002 * (i + 1), 7)


@pytest.fixture(scope="module")
def businesses() -> dict[str, Business]:
    out = {}
    for i, (case, row) in enumerate(
        zip(CASES, generate_businesses(len(CASES), seed=11), strict=True)
    ):
        line, postcode, town, municipality = CASES[case][:4]
        lon, lat = _point(i, postcode)
        out[case] = row.model_copy(
            update={
                "address": line,
                "postcode": postcode,
                "city": town,
                "municipality": municipality,
                "location": Point(lon=lon, lat=lat),
            }
        )
    return out


@pytest.fixture
def register(businesses: dict[str, Business]) -> Iterator[CvrStandIn]:
    docs = [company_document(b, samt_id=10, loaded=LOADED) for b in businesses.values()]
    with CvrStandIn(docs, user=USER, password=PASSWORD) as cvr:
        yield cvr


@pytest.fixture
def gsearch(businesses: dict[str, Business]) -> Iterator[GsearchStandIn]:
    """DAR as Gsearch has it: its own spellings, floors and town names; the register's id only
    where the case says so (otherwise another one, as for an address DAR has renumbered)."""
    with GsearchStandIn(token=TOKEN) as gs:
        for case, b in businesses.items():
            _, postcode, _, municipality, street, number, floor, door, town, known, _ = CASES[case]
            assert b.location is not None
            address_id = address_id_of(b) if known else f"9d9d9d9d-0000-4000-8000-{int(b.id):012d}"
            gs.add_address(
                address_id, street, number, postcode, town, municipality.zfill(4),
                b.location.lon, b.location.lat, floor, door,
            )  # fmt: skip
        yield gs


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path / "store")
    yield s
    s.close()


def test_each_register_spelling_lands_on_its_house_and_none_on_a_neighbour(
    store: Store, register: CvrStandIn, gsearch: GsearchStandIn, businesses: dict[str, Business]
) -> None:
    service = GsearchGeocoder(gsearch.base_url, TOKEN, timeout=2.0, retries=0)
    refresh = Refresh(store, AddressLocator(store, service), ["376", "751"])
    client = CvrClient(
        register.url, USER, PASSWORD, page_size=50, timeout=2.0, sleep=lambda _: None
    )
    report = refresh.run(client)
    assert report.status == "succeeded" and report.new == len(businesses)
    stored = store.get_businesses([b.id for b in businesses.values()])
    for case, b in businesses.items():
        got = stored[b.id]
        has_house = CASES[case][-1]
        assert got.location is not None and b.location is not None, case
        here = (got.location.lon, got.location.lat)
        if has_house:
            assert got.location_precision == "address", case
            assert here == pytest.approx((b.location.lon, b.location.lat), abs=1e-6), case
        else:
            assert got.location_precision == "postcode", case
            assert here == pytest.approx(postcode_point(b.postcode or ""), abs=1e-6), case
    assert refresh.locator.stats.by_id == 1
    assert refresh.locator.stats.by_text == sum(1 for c in CASES.values() if c[-1]) - 1
    assert refresh.locator.stats.not_found == 1
