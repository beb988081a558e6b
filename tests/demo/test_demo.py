"""The demo data set: realistic, on land in the real municipalities, and reproducible."""

from __future__ import annotations

import json
from collections import Counter

from shapely.geometry import Point, shape

from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.industry import section_of
from chalicelib.domain.reference import load_municipalities
from tests.conftest import FIXTURES


def test_boundaries_are_the_real_dagi_ones() -> None:
    ours = {m.kommunekode: shape(m.boundary) for m in load_municipalities(["376", "390"])}
    ref = json.loads((FIXTURES / "kommuner_0376_0390_dagi2014_wgs84.geojson").read_text())
    for f in ref["features"]:
        code = f["properties"]["kommunekode"][-3:]
        assert ours[code].symmetric_difference(shape(f["geometry"])).area < 1e-9


def test_businesses_are_realistic_and_on_land() -> None:
    businesses = generate_businesses(5000)
    assert len({b.id for b in businesses}) == 5000
    land = {m.kommunekode: shape(m.boundary) for m in load_municipalities(["376", "390"])}
    for b in businesses:
        assert b.location is not None and b.municipality in land
        if b.location_precision == "address":
            assert land[b.municipality].contains(Point(b.location.lon, b.location.lat)), b.id
    forms = Counter(b.company_form for b in businesses)
    assert forms["ENK"] > 1500 and forms["APS"] > 1000 and forms["PMV"] > 50
    assert sum(1 for b in businesses if b.personally_owned) > 2000
    assert all(section_of(b.industry_code or "") for b in businesses)
    assert len({b.industry_section for b in businesses}) >= 12
    founded = [b.founded.year for b in businesses if b.founded]
    assert min(founded) < 2005 and max(founded) == 2025
    ceased = [b for b in businesses if b.status == "ceased"]
    assert 500 < len(ceased) < 2500
    assert all(b.ceased and 2005 <= b.ceased.year <= 2025 for b in ceased)
    assert Counter(b.municipality for b in businesses)["376"] > 2000
    micro = sum(1 for b in businesses if b.employees in ("0", "1", "2-4", "5-9"))
    without = sum(1 for b in businesses if b.employees is None)  # no employment figure
    assert micro / len(businesses) > 0.55 and 0.15 < without / len(businesses) < 0.4
    assert (micro + without) / len(businesses) > 0.9
    assert all(b.source == "synthetic-demo" for b in businesses)
    towns = Counter(b.city for b in businesses)
    assert towns.most_common(1)[0][0] == "Nykøbing F"


def test_networks_have_places_valid_areas_and_members() -> None:
    businesses = generate_businesses(5000)
    networks = generate_networks(businesses)
    assert 25 <= len(networks) <= 40
    ids = {b.id for b in businesses}
    assert all(set(n.members) <= ids for n in networks)
    assert sum(1 for n in networks if n.area) >= 10
    assert all(n.meeting_place for n in networks)
    assert sum(len(n.members) for n in networks) > 500
    for n in networks:
        if n.area:
            assert shape(n.area).is_valid
