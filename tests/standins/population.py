"""Synthetic register populations for any municipality, and the address book that places them.

The demo generator writes Guldborgsund and Vordingborg only. The production path is tested on
other municipalities as well (København is the large case), so this module takes the demo's
businesses for their variety of names, forms, industries, dates and contacts, and moves each to a
random point inside the real DAGI boundary of the municipality wanted, with the postcode whose
representative point is nearest among that municipality's postcodes (as in DAR, where an
address's postcode and municipality agree). The register stand-in serves them as documents; the
geocoder stand-in knows their addresses at those points.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from functools import lru_cache

from chalicelib.demo.generate import generate_businesses
from chalicelib.domain.models import Business, Point
from chalicelib.domain.reference import DATA, load_municipalities
from tests.standins.cvr_documents import address_id_of
from tests.standins.gsearch_server import GsearchStandIn


@lru_cache(maxsize=8)
def _postcodes(kommunekode: str) -> list[tuple[str, str, float, float]]:
    """(postnr, name, lon, lat) of the ordinary postcodes whose primary municipality is this one."""
    four = kommunekode.zfill(4)
    with (DATA / "dk_postnumre.csv").open(encoding="utf-8") as f:
        return [
            (row["postnr"], row["navn"], float(row["rep_lon"]), float(row["rep_lat"]))
            for row in csv.DictReader(f)
            if row["kommunekode_primary"] == four
            and row["rep_lon"]
            and row["stormodtager"] != "True"
        ]


def _points_inside(kommunekode: str, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """n random points inside the municipality's DAGI boundary (rejection sampling on its box)."""
    from shapely import contains_xy, prepare
    from shapely.geometry import shape

    (municipality,) = load_municipalities([kommunekode])
    area = shape(municipality.boundary)
    prepare(area)
    minx, miny, maxx, maxy = area.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        lon = round(rng.uniform(minx, maxx), 6)
        lat = round(rng.uniform(miny, maxy), 6)
        if contains_xy(area, lon, lat):
            out.append((lon, lat))
    return out


def businesses_in(
    kommunekode: str,
    n: int,
    *,
    seed: int,
    new_since: date | None = None,
    new_count: int = 0,
) -> list[Business]:
    """n businesses of the register in this municipality (3-digit code), reproducible from the
    seed, all geocodable at address precision; the last `new_count` founded on `new_since` or
    later (the welcome feed's newcomers), active and without a closing date."""
    rng = random.Random(seed)
    postcodes = _postcodes(kommunekode)
    if not postcodes:
        raise ValueError(f"no postcode has {kommunekode} as its primary municipality")
    points = _points_inside(kommunekode, n, rng)
    out = []
    for i, (b, (lon, lat)) in enumerate(
        zip(generate_businesses(n, seed=seed), points, strict=True)
    ):
        postnr, city, _, _ = min(postcodes, key=lambda p: (p[2] - lon) ** 2 + (p[3] - lat) ** 2)
        update: dict[str, object] = {
            "municipality": kommunekode,
            "postcode": postnr,
            "city": city,
            "location": Point(lon=lon, lat=lat),
            "location_precision": "address",
        }
        if new_since is not None and i >= n - new_count:
            update |= {
                "founded": date.fromordinal(new_since.toordinal() + rng.randint(0, 5)),
                "ceased": None,
                "status": "active",
            }
        out.append(b.model_copy(update=update))
    return out


def register_addresses(geocoder: GsearchStandIn, businesses: list[Business]) -> None:
    """Teaches the geocoder stand-in each business's address at the business's own point."""
    for b in businesses:
        street, _, number = (b.address or "").rpartition(" ")
        assert b.location is not None and b.municipality is not None
        geocoder.add_address(
            address_id_of(b),
            street,
            number,
            b.postcode,
            b.city,
            b.municipality.zfill(4),
            b.location.lon,
            b.location.lat,
        )
