"""The welcome feed's networks on a hand-built municipality where the right answer is known:
two towns 15 km apart, a general network whose area is the whole municipality, a craftsmen's
network, a food network and the smaller town's own trade network. New firms of different
industries in the smaller town each get the networks the documented rule (docs/API.md,
"Networks for a new business") ranks first, at their true distances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.models import Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.matchmaking.nearby import distance_km
from chalicelib.matchmaking.welcome import new_businesses
from chalicelib.store import Store
from chalicelib.web.http import HttpRequest
from tests.conftest import ADAPTERS, fresh_store
from tests.factories import business, cvr_number, network

SAKSKOBING = (11.6280, 54.7990)
NYKOBING = (11.8729, 54.7691)
INDUSTRIES = {  # section -> (a 6-digit code, its text)
    "F": ("433200", "Tømrer- og bygningssnedkervirksomhed"),
    "G": ("477810", "Optikere"),
    "I": ("561010", "Restauranter"),
    "M": ("702200", "Virksomhedsrådgivning og anden rådgivning om driftsledelse"),
    "A": ("011100", "Dyrkning af korn"),
    "C": ("107100", "Fremstilling af brød"),
    "S": ("960210", "Frisører"),
}


def _square(centre: tuple[float, float], d: float) -> dict:
    lon, lat = centre
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _members(start: int, town: tuple[float, float], sections: str) -> list:
    """Established businesses of the given sections, one per letter, in a town."""
    out = []
    for i, section in enumerate(sections):
        code, text = INDUSTRIES[section]
        out.append(
            business(
                cvr_number(start + i),
                industry_code=code,
                industry_text=text,
                location=Point(lon=town[0] + 0.001 * i, lat=town[1]),
                founded=date(2010, 1, 1),
            )
        )
    return out


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    s.upsert_municipalities(load_municipalities(["376"]))
    general = _members(100, NYKOBING, "FFGGIIMMMM")
    craft = _members(200, NYKOBING, "FFFFFFFF")
    food = _members(300, NYKOBING, "AAACCIII")
    trade = _members(400, SAKSKOBING, "GGGGIIIS")
    new = [
        business(
            cvr_number(900 + i),
            name=f"Ny {section}",
            industry_code=INDUSTRIES[section][0],
            industry_text=INDUSTRIES[section][1],
            location=Point(lon=SAKSKOBING[0] + 0.002, lat=SAKSKOBING[1] + 0.001 * i),
            founded=date(2026, 11, 10 + i),
        )
        for i, section in enumerate("IFGM")
    ]
    s.upsert_businesses([*general, *craft, *food, *trade, *new])
    whole = _square((11.75, 54.78), 0.15)  # the two towns and what lies between
    s.upsert_networks(
        [
            network(
                "erhverv-alle",
                name="Erhvervsnetværket",
                meeting_place=Point(lon=NYKOBING[0], lat=NYKOBING[1]),
                meeting_place_name="Erhvervshuset, Nykøbing F",
                area=whole,
                members=[b.id for b in general],
            ),
            network(
                "haandvaerk",
                name="Håndværkerforeningen",
                meeting_place=Point(lon=NYKOBING[0] + 0.01, lat=NYKOBING[1]),
                area=_square(NYKOBING, 0.1),
                members=[b.id for b in craft],
            ),
            network(
                "foedevarer",
                name="Fødevarenetværket",
                meeting_place=Point(lon=NYKOBING[0], lat=NYKOBING[1] + 0.01),
                area=whole,
                members=[b.id for b in food],
            ),
            network(
                "saks-handel",
                name="Sakskøbing Handel & Erhverv",
                meeting_place=Point(lon=SAKSKOBING[0], lat=SAKSKOBING[1]),
                meeting_place_name="Kroen, Sakskøbing",
                area=_square(SAKSKOBING, 0.05),
                members=[b.id for b in trade],
            ),
        ]
    )
    yield s
    s.close()


def _feed(store: Store) -> dict[str, dict]:
    req = HttpRequest(
        path="/municipalities/376/new-businesses",
        params={"since": ["2026-11-01"]},
        headers={},
        base_url="http://test",
    )
    doc = orjson.loads(new_businesses(store, req, "376").body)
    return {f["properties"]["industry_section"]: f for f in doc["features"]}


def test_a_restaurant_gets_its_towns_trade_network_first(store: Store) -> None:
    ranked = [n["id"] for n in _feed(store)["I"]["properties"]["nearest_networks"]]
    # its town's network (restaurants among its members, 0.2 km), then the food network
    # (restaurants, 16 km), then the general one (whose area holds it, meeting 16 km away)
    assert ranked == ["saks-handel", "foedevarer", "erhverv-alle"]


def test_a_carpenter_gets_the_craftsmen_and_a_consultant_the_general_network(
    store: Store,
) -> None:
    feed = _feed(store)
    carpenter = [n["id"] for n in feed["F"]["properties"]["nearest_networks"]]
    # the town's network at the door, then the craftsmen's 16 km away before the general one
    assert carpenter == ["saks-handel", "haandvaerk", "erhverv-alle"]
    restaurant = [n["id"] for n in feed["I"]["properties"]["nearest_networks"]]
    assert "haandvaerk" not in restaurant
    consultant = [n["id"] for n in feed["M"]["properties"]["nearest_networks"]]
    assert consultant[:2] == ["saks-handel", "erhverv-alle"]  # the nearest, then its peers'


def test_firms_of_different_industries_in_one_town_get_different_lists(store: Store) -> None:
    """The old ranking (distance alone, 0 inside an area) gave every firm of the town the same
    three networks; now the list follows the industry. (An optician and a consultant may still
    share one: of four networks, both are best served by the near one and the general one.)"""
    feed = _feed(store)
    lists = {s: [n["id"] for n in f["properties"]["nearest_networks"]] for s, f in feed.items()}
    assert set(lists) == {"I", "F", "G", "M"}
    assert len({tuple(ids) for ids in lists.values()}) == 3
    assert lists["I"] != lists["F"] != lists["G"] != lists["I"]
    scores = {s: [n["score"] for n in f["properties"]["nearest_networks"]] for s, f in feed.items()}
    assert scores["G"] != scores["M"]  # the same networks, for different reasons


def test_distances_are_true_and_reasons_hold(store: Store) -> None:
    places = {
        "erhverv-alle": NYKOBING,
        "haandvaerk": (NYKOBING[0] + 0.01, NYKOBING[1]),
        "foedevarer": (NYKOBING[0], NYKOBING[1] + 0.01),
        "saks-handel": SAKSKOBING,
    }
    for section, feature in _feed(store).items():
        here = tuple(feature["geometry"]["coordinates"])
        for n in feature["properties"]["nearest_networks"]:
            assert n["distance_km"] == pytest.approx(distance_km(here, places[n["id"]]), abs=0.05)
            assert n["distance_km"] > 0  # never 0 for lying in an area
            texts = [r["da"] for r in n["reasons"]]
            assert any(t.startswith("Mødes ") for t in texts)
            assert ("Du ligger i netværkets område" in texts) == n["within_area"]
            peers = [t for t in texts if "er i din branche" in t]
            if n["id"] == "haandvaerk":  # only carpenters
                assert bool(peers) == (section == "F")
            if n["id"] == "saks-handel" and section == "I":
                assert peers == ["3 af netværkets 8 medlemmer er i din branche "
                                 "(Hoteller og restauranter)"]  # fmt: skip
