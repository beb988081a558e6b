"""The locator with the Gsearch client and the stand-in: each way the register writes an address
ends on its own house or, with the reason, on the postcode's point; never on a neighbour's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.domain.reference import postcode_point
from chalicelib.intake.geocode import AddressRef
from chalicelib.intake.geocode.gsearch import GsearchGeocoder
from chalicelib.intake.geocode.locate import CACHE, AddressLocator, address_ref
from chalicelib.store import Store
from tests.conftest import fresh_store
from tests.standins.gsearch_server import GsearchStandIn

TOKEN = "locate-token"
HOUSE_12B = (11.8741512, 54.7691327)
HOUSE_10 = (11.8702, 54.7702)
HOUSE_14 = (11.8763, 54.7679)
BISPEGADE_3 = (10.2107306, 56.1531911)
BISPEGADE_ID = "0a3f50a1-0a4c-32b8-e044-0003ba298018"


@pytest.fixture
def standin() -> Iterator[GsearchStandIn]:
    with GsearchStandIn(token=TOKEN) as gs:
        gs.add_address(
            "6c1d1a52-0000-4000-8000-000000000001",
            "Langgade",
            "12B",
            "4800",
            "Nykøbing F",
            "0376",
            *HOUSE_12B,
            "2",
            "th",
        )
        gs.add_address(
            "6c1d1a52-0000-4000-8000-000000000002",
            "Nørregade",
            "10",
            "4800",
            "Nykøbing F",
            "0376",
            *HOUSE_10,
        )
        gs.add_address(
            "6c1d1a52-0000-4000-8000-000000000003",
            "Torvet",
            "14",
            "4800",
            "Nykøbing F",
            "0376",
            *HOUSE_14,
        )
        gs.add_address(BISPEGADE_ID, "Bispegade", "3", "8000", "Aarhus C", "0751", *BISPEGADE_3)
        yield gs


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, "sqlite", tmp_path / "store")
    yield s
    s.close()


def _locator(store: Store, gs: GsearchStandIn) -> AddressLocator:
    service = GsearchGeocoder(gs.base_url, TOKEN, timeout=1.0, retries=1, sleep=lambda _: None)
    return AddressLocator(store, service)


def _ref(
    line: str, postcode: str = "4800", city: str = "Nykøbing F", address_id: str | None = None
) -> AddressRef:
    ref = address_ref(line, postcode, city, address_id)
    assert ref is not None
    return ref


def _near(got: tuple[float, float] | None, want: tuple[float, float]) -> bool:
    return got is not None and abs(got[0] - want[0]) < 1e-6 and abs(got[1] - want[1]) < 1e-6


@pytest.mark.parametrize(
    ("line", "postcode", "city", "point"),
    [
        ("Langgade 12B, 02. th", "4800", "Nykøbing F", HOUSE_12B),  # zero-padded floor
        ("Langgade 12B-14", "4800", "Nykøbing F", HOUSE_12B),  # a house-number range
        ("Nørregade 10-12, st.", "4800", "Nykøbing F", HOUSE_10),
        ("Bispegade 3", "8000", "Århus C", BISPEGADE_3),  # the old town spelling
    ],
)
def test_register_spellings_are_placed_on_their_house(
    store: Store,
    standin: GsearchStandIn,
    line: str,
    postcode: str,
    city: str,
    point: tuple[float, float],
) -> None:
    ref = _ref(line, postcode, city)
    locator = _locator(store, standin)
    where = locator.locate([ref])[ref.key]
    assert where.precision == "address" and _near(where.point, point)
    assert locator.stats.by_text == 1 and locator.stats.found == 1


def test_a_missing_house_number_falls_back_to_the_postcode_and_says_why(
    store: Store, standin: GsearchStandIn
) -> None:
    """ "Torvet 1" matches "Torvet 14" as a prefix; the business must not go there."""
    ref = _ref("Torvet 1")
    locator = _locator(store, standin)
    where = locator.locate([ref])[ref.key]
    assert where.precision == "postcode" and where.point == postcode_point("4800")
    assert not _near(where.point, HOUSE_14) and not where.retry
    assert where.note is not None and "no house Torvet 1, 4800" in where.note
    assert locator.stats.not_found == 1
    # the answer and its reason are kept: the next run asks nobody and still says why
    again = _locator(store, standin)
    cached = again.locate([ref])[ref.key]
    assert again.stats.service_calls == 0 and cached.note == where.note
    assert store.get_records(CACHE, [ref.key])[ref.key]["found"] is False


def test_the_register_id_places_a_business_whatever_the_street_spelling(
    store: Store, standin: GsearchStandIn
) -> None:
    ref = _ref("Bispensgade 3", "8000", "Århus C", BISPEGADE_ID)
    locator = _locator(store, standin)
    where = locator.locate([ref])[ref.key]
    assert where.precision == "address" and _near(where.point, BISPEGADE_3)
    assert locator.stats.by_id == 1 and standin.requests == 1


def test_a_point_cached_before_exact_house_numbers_is_asked_again(
    store: Store, standin: GsearchStandIn
) -> None:
    ref = _ref("Langgade 12B")
    store.put_records(
        CACHE, {ref.key: {"lon": HOUSE_14[0], "lat": HOUSE_14[1], "at": "2026-01-01T00:00:00"}}
    )
    locator = _locator(store, standin)
    where = locator.locate([ref])[ref.key]
    assert _near(where.point, HOUSE_12B) and locator.stats.service_calls == 1
    assert store.get_records(CACHE, [ref.key])[ref.key]["v"] == 2
    later = _locator(store, standin)
    assert _near(later.locate([ref])[ref.key].point, HOUSE_12B)
    assert later.stats.service_calls == 0 and later.stats.cache_hits == 1


def test_database_trouble_falls_back_for_a_later_run(store: Store, standin: GsearchStandIn) -> None:
    ref = _ref("Langgade 12B")
    standin.connection_issues_next(2)  # both attempts of this run
    locator = _locator(store, standin)
    where = locator.locate([ref])[ref.key]
    assert where.precision == "postcode" and where.retry
    assert where.note is not None and "Connection issues" in where.note
    assert store.get_records(CACHE, [ref.key]) == {}  # not remembered as "not found"
    later = _locator(store, standin).locate([ref])[ref.key]
    assert later.precision == "address" and _near(later.point, HOUSE_12B)
