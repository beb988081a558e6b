"""Supplier search and matches on hand-built data where the right answer is known, both stores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.models import Curation, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.matchmaking.matches import matches
from chalicelib.matchmaking.nearby import EARTH_RADIUS_KM
from chalicelib.matchmaking.search import search
from chalicelib.store import Store
from chalicelib.web.http import HttpRequest
from tests.conftest import ADAPTERS, fresh_store
from tests.factories import business, network

HERE = (11.8729, 54.7691)  # Nykøbing Falster


def east(km: float) -> Point:
    """A point `km` east of HERE along the parallel."""
    dlon = math.degrees(km / (EARTH_RADIUS_KM * math.cos(math.radians(HERE[1]))))
    return Point(lon=HERE[0] + dlon, lat=HERE[1])


CARPENTRY = {"industry_code": "433200", "industry_text": "Tømrer- og bygningssnedkervirksomhed"}
PEOPLE = [
    business("10000004", name="Falster Tømrer ApS", location=east(1), **CARPENTRY),
    business("10000012", name="Åbenrå Tømrer", location=east(3), **CARPENTRY),
    business(
        "10000020",
        name="Næstved Blomster",
        location=east(5),
        industry_code="477610",
        industry_text="Blomsterhandel",
    ),
    business(
        "10000039", name="Tømrermester Hansen", company_form="ENK", location=east(0.5), **CARPENTRY
    ),
    business(
        "10000047",
        name="Skjult Tømrer",
        location=east(0.2),
        curated=Curation(hidden=True),
        **CARPENTRY,
    ),
    business(
        "10000055",
        name="Lukket Tømrer",
        location=east(0.3),
        status="ceased",
        ceased=date(2024, 1, 1),
        **CARPENTRY,
    ),
    business("10000063", name="Langt Væk Tømrer", location=east(12), **CARPENTRY),
    business("10000071", name="Kanten Tømrer", location=east(9.95), **CARPENTRY),
    business("10000080", name="Udenfor Tømrer", location=east(10.05), **CARPENTRY),
    business(
        "10000098",
        name="Café Havn",
        location=east(2),
        industry_code="561010",
        industry_text="Restauranter",
    ),
    business(
        "10000101",
        name="Bageriet",
        location=east(2.5),
        industry_code="107120",
        industry_text="Bagerier",
    ),
    business("10000110", name="Snedkeriet Vest", location=east(4), **CARPENTRY),
    business("10000128", name="Stor Tømrer A/S", location=east(6), employees="20-49", **CARPENTRY),
]


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    s.upsert_municipalities(load_municipalities(["376", "390"]))
    s.upsert_businesses(PEOPLE)
    s.upsert_networks(
        [
            network(
                "falster-net",
                name="Falster Netværk",
                members=["10000004", "10000098"],
                meeting_place=east(1.5),
            ),
            network("vest-net", name="Vest", members=["10000110"], meeting_place=east(4)),
            network("fjern-net", name="Fjern", meeting_place=east(30)),
        ]
    )
    yield s
    s.close()


def _req(**params: str) -> HttpRequest:
    return HttpRequest("/search", {k: [v] for k, v in params.items()}, {}, "http://test")


def _search(store: Store, **params: str) -> dict[str, Any]:
    return orjson.loads(search(store, _req(**params)).body)


def _ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["features"]]


POINT = f"{HERE[0]},{HERE[1]}"


def test_nearest_first_within_the_radius(store: Store) -> None:
    doc = _search(store, point=POINT, industry="F", radius="10")
    assert doc["sortedBy"] == "distance"
    # hidden (0.2 km) and ceased (0.3 km) are never found; 10.05 km is outside, 9.95 inside
    assert _ids(doc) == [
        "10000039", "10000004", "10000012", "10000110", "10000128", "10000071",
    ]  # fmt: skip
    distances = [f["properties"]["distance_km"] for f in doc["features"]]
    assert distances == sorted(distances)
    assert distances[1] == pytest.approx(1.0, abs=0.01) and distances[-1] <= 10
    wider = _search(store, point=POINT, industry="F", radius="12.5")
    assert _ids(wider)[-2:] == ["10000080", "10000063"]


def test_danish_spellings_and_case(store: Store) -> None:
    for q in ("aabenraa", "Åbenrå", "ÅBENRÅ", "abenra"):
        assert _ids(_search(store, municipality="376", q=q)) == ["10000012"], q
    for q in ("naestved", "NÆSTVED", "Naestved blomster"):
        assert _ids(_search(store, municipality="376", q=q)) == ["10000020"], q
    found = _ids(_search(store, municipality="376", q="tomrer"))
    assert "10000039" in found and "10000004" in found
    assert "10000047" not in found and "10000055" not in found  # hidden, ceased


def test_relevance_puts_name_matches_before_industry_text(store: Store) -> None:
    doc = _search(store, municipality="376", q="tømrer", limit="50")
    assert doc["sortedBy"] == "relevance"
    ids = _ids(doc)
    assert ids[-1] == "10000110"  # "Snedkeriet Vest": only its industry text says tømrer
    scores = [f["properties"]["score"] for f in doc["features"]]
    assert scores == sorted(scores, reverse=True) and scores[-1] < scores[0]


def test_several_industries_and_size(store: Store) -> None:
    both = _ids(_search(store, point=POINT, industry="477610,56", radius="10"))
    assert both == ["10000098", "10000020"]
    micro = _ids(_search(store, point=POINT, industry="F", size="micro", radius="10"))
    assert "10000128" not in micro and "10000004" in micro
    sized = _ids(_search(store, point=POINT, industry="F", size="20-49", radius="10"))
    assert sized == ["10000128"]


def test_pages_follow_next_links(store: Store) -> None:
    params = {"point": POINT, "industry": "F", "radius": "12.5", "limit": "2"}
    seen: list[str] = []
    for _ in range(10):
        doc = _search(store, **params)
        seen += _ids(doc)
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        params = {k: v[0] for k, v in parse_qs(urlsplit(nxt[0]).query).items()}
    assert seen == _ids(_search(store, point=POINT, industry="F", radius="12.5", limit="100"))
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"q": "tømrer"}, "point"),
        ({}, "industry"),
        ({"industry": "F", "radius": "5"}, "radius"),
        ({"point": POINT, "radius": "0"}, "radius"),
        ({"point": POINT, "radius": "-3"}, "radius"),
        ({"point": POINT, "radius": "far"}, "radius"),
        ({"point": POINT, "radius": "1000"}, "radius"),
        ({"point": "2.35,48.85"}, "point"),
        ({"point": "11.8"}, "point"),
        ({"industry": "ZZ"}, "industry"),
        ({"industry": "F", "size": "huge"}, "size"),
        ({"industry": "F", "limit": "0"}, "limit"),
        ({"industry": "F", "colour": "red"}, "colour"),
        ({"industry": "F", "cursor": "forged"}, "cursor"),
    ],
)
def test_bad_search_input_names_the_parameter(store: Store, params: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        search(store, _req(**params))
    assert err.value.parameter == parameter


def _matches(store: Store, cvr: str, **params: str) -> dict[str, Any]:
    req = HttpRequest(f"/businesses/{cvr}/matches", {k: [v] for k, v in params.items()}, {}, "")
    return orjson.loads(matches(store, req, cvr).body)


def test_matches_have_reasons_and_never_hidden_or_ceased(store: Store) -> None:
    doc = _matches(store, "10000004")
    found = {f["id"]: f for f in doc["businesses"]["features"]}
    assert "10000047" not in found and "10000055" not in found and "10000004" not in found
    assert {"10000012", "10000039"} <= set(found)
    # a florist and a bakery nearby are no trade link of a carpenter's (a section-level table
    # said "G supplies F: sells building materials" of the florist)
    assert not {"10000020", "10000101"} & set(found)
    for f in found.values():
        assert f["reasons"] and all(r["da"] and r["en"] for r in f["reasons"])
    assert any("Same industry" in r["en"] for r in found["10000012"]["reasons"])
    scores = [f["properties"]["score"] for f in doc["businesses"]["features"]]
    assert scores == sorted(scores, reverse=True)


def test_nearness_alone_is_no_reason_but_a_shared_network_is(store: Store) -> None:
    cafe = _matches(store, "10000098")  # a restaurant (I): carpenters (F) are no trade link
    found = {f["id"]: f for f in cafe["businesses"]["features"]}
    assert not {"10000012", "10000039", "10000110"} & set(found)  # nearby carpenters
    assert any("falster-net" in r["da"] for r in found["10000004"]["reasons"])  # shared network
    assert any("leverandør" in r["da"] for r in found["10000101"]["reasons"])  # bakery supplies


def test_network_suggestions(store: Store) -> None:
    doc = _matches(store, "10000004")
    ids = [n["id"] for n in doc["networks"]]
    assert "falster-net" not in ids  # already a member
    assert ids == ["vest-net", "fjern-net"]  # 3 km with a carpenter member, then 29 km
    vest = doc["networks"][0]
    assert any("din branche" in r["da"] for r in vest["reasons"])
    assert all(r["en"] for n in doc["networks"] for r in n["reasons"])


def test_matches_of_hidden_or_unknown_businesses_are_not_found(store: Store) -> None:
    for cvr in ("10000047", "99999999", "abc"):
        with pytest.raises(NotFound):
            _matches(store, cvr)
    with pytest.raises(InvalidParameter) as err:
        _matches(store, "10000004", radius="500")
    assert err.value.parameter == "radius"


CARPENTERS_IN_RADIUS = {"10000004", "10000012", "10000039", "10000071", "10000110", "10000128"}


@pytest.mark.parametrize("q", ["tømrerfirma", "Toemrermester", "carpenter", "joiner", "snedker"])
def test_compounds_and_english_words_find_the_trade(store: Store, q: str) -> None:
    """A Danish compound is searched without its head ("tømrerfirma" is a tømrer) and an
    English or other trade word by the classes it names (data/search_terms.toml): every
    carpenter within the radius, whatever its name, and nothing else."""
    found = _ids(_search(store, point=POINT, radius="10", q=q, limit="50"))
    assert set(found) == CARPENTERS_IN_RADIUS
    # "Snedkeriet Vest" has neither word in its name: its industry says what it is
    assert "10000110" in found


def test_a_trade_word_finds_a_register_text_that_does_not_use_it(store: Store) -> None:
    electrician = business(
        "10000136",
        name="Lys & Strøm",
        location=east(2),
        industry_code="432100",
        industry_text="El-installation",
    )
    store.upsert_businesses([electrician])
    for q in ("elektriker", "electrician", "elektrikerfirma"):
        assert _ids(_search(store, point=POINT, radius="10", q=q)) == ["10000136"], q
    # the register's own word still works, and an English word of the NACE class's name too
    assert _ids(_search(store, point=POINT, radius="10", q="el-installation")) == ["10000136"]
    assert _ids(_search(store, point=POINT, radius="10", q="electrical")) == ["10000136"]
    assert _ids(_search(store, point=POINT, radius="10", q="bageri")) == ["10000101"]


def test_every_trade_word_names_a_nace_class() -> None:
    import csv
    import tomllib

    from chalicelib.domain.industry import NACE_EN
    from chalicelib.matchmaking.search import TERMS

    known = set()
    for path in NACE_EN:
        with path.open(encoding="utf-8") as f:
            known |= {r["code"].replace(".", "") for r in csv.DictReader(f) if len(r["code"]) == 5}
    with TERMS.open("rb") as f:
        doc = tomllib.load(f)
    assert doc["classes"] and set(doc["classes"]) <= known
    assert all(words for words in doc["classes"].values())


def test_match_reasons_hold_for_the_two_firms_and_the_same_trade_comes_first(
    store: Store,
) -> None:
    """A known-answer set around a carpenter: a builders' merchant supplies it, an architect
    designs for it, a painter next door is only of the same section, an auto repairer and a
    florist are nothing to it; the carpenters come first, the painter after them."""
    store.upsert_businesses(
        [
            business("10000144", name="Byggecentret", location=east(4.5),
                     industry_code="467300",
                     industry_text="Engroshandel med træ og byggematerialer"),
            business("10000152", name="Tegnestuen", location=east(2.2), industry_code="711100",
                     industry_text="Arkitektvirksomhed"),
            business("10000160", name="Malerne", location=east(1.05), industry_code="433400",
                     industry_text="Malerforretninger"),
            business("10000179", name="Ulvshale Auto", location=east(1.1),
                     industry_code="452010", industry_text="Autoreparation"),
        ]
    )  # fmt: skip
    doc = _matches(store, "10000004", limit="50")  # Falster Tømrer ApS, 433200
    ranked = [f["id"] for f in doc["businesses"]["features"]]
    found = {f["id"]: [r["da"] for r in f["reasons"]] for f in doc["businesses"]["features"]}
    assert "10000179" not in found and "10000020" not in found
    assert found["10000144"][0] == (
        "Mulig leverandør til dig: sælger træ og byggematerialer en gros"
    )
    assert found["10000152"][0] == "Mulig leverandør til dig: tegner byggerier (arkitekt)"
    assert found["10000160"][0] == "Samme hovedbranche (Bygge og anlæg): Malerforretninger"
    assert found["10000012"][0].startswith("Samme branche (Tømrer- og bygningssnedkervirksomhed)")
    carpenters = [i for i in ranked if i in {"10000012", "10000039", "10000071", "10000110"}]
    assert ranked.index("10000160") > max(ranked.index(i) for i in carpenters)
    # and the other way round: the merchant sees the carpenter as a customer, in both languages
    merchant = _matches(store, "10000144", limit="50")
    reasons = {f["id"]: f["reasons"] for f in merchant["businesses"]["features"]}
    assert {"da": "Mulig kunde hos dig: din virksomhed sælger træ og byggematerialer en gros",
            "en": "A possible customer: your business sells timber and building materials "
                  "wholesale"} in reasons["10000004"]  # fmt: skip


def test_every_supply_link_names_nace_codes() -> None:
    import csv

    from chalicelib.domain.industry import NACE_EN
    from chalicelib.matchmaking.matches import supply_table

    with NACE_EN[0].open(encoding="utf-8") as f:
        known = {r["code"].replace(".", "") for r in csv.DictReader(f)}
    for buyer, row in supply_table().items():
        assert buyer in known, buyer  # a section letter, a division, group or class
        assert row and all(s in known and s.isdigit() for s in row), buyer
        for da, en in row.values():
            assert da and en and not da[0].isupper() and not en[0].isupper()  # verb phrases
