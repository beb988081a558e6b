"""Synthetic but realistic businesses and networks for the demo (and for benchmarks).

Businesses are placed around real towns (more where more people live, fewer in the country)
on land inside the real municipality boundaries, with plausible industries, company forms,
size groups, founding and closing dates. All names, CVR numbers, addresses and contacts are
invented: the data set is labelled synthetic wherever it is served.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from chalicelib.demo import catalogue as C
from chalicelib.domain.models import Business, Contact, Curation, Network, Point, cvr_check_digit
from chalicelib.domain.reference import load_municipalities, postcode_point

SOURCE = "synthetic-demo"
_HERE = Path(__file__).resolve().parent
_FIRST_CLOSURE = date(2005, 1, 1)
_LAST_DAY = date(2025, 12, 31)


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    town: str | None  # None in the countryside
    municipality: str


@lru_cache(maxsize=1)
def _land() -> dict[str, Any]:
    """Prepared municipality polygons, by 3-digit kommunekode (DAGI boundaries are land only)."""
    from shapely.geometry import shape
    from shapely.prepared import prep

    out = {}
    for m in load_municipalities(["376", "390"]):
        geom = shape(m.boundary)
        out[m.kommunekode] = (geom, prep(geom))
    return out


@lru_cache(maxsize=1)
def _postcodes() -> list[tuple[str, str, Any]]:
    from shapely.geometry import shape
    from shapely.prepared import prep

    doc = orjson.loads((_HERE / "postnumre_0376_0390.geojson").read_bytes())
    return [
        (f["properties"]["postnr"], f["properties"]["navn"], prep(shape(f["geometry"])))
        for f in doc["features"]
    ]


def postcode_at(lon: float, lat: float) -> tuple[str, str] | None:
    from shapely.geometry import Point as SPoint

    p = SPoint(lon, lat)
    for code, name, geom in _postcodes():
        if geom.contains(p):
            return code, name
    return None


def _place(rng: random.Random) -> Place:
    """A point on land: around a town (weighted by population) or, 1 in 5, in the country."""
    from shapely.geometry import Point as SPoint

    land = _land()
    for _ in range(1000):
        if rng.random() < 0.2:
            code = rng.choices(["376", "390"], weights=[land["376"][0].area, land["390"][0].area])[
                0
            ]
            minx, miny, maxx, maxy = land[code][0].bounds
            lon, lat, town = rng.uniform(minx, maxx), rng.uniform(miny, maxy), None
        else:
            name, code, tlon, tlat, pop = rng.choices(C.TOWNS, weights=[t[4] for t in C.TOWNS])[0]
            sigma_km = min(2.5, 0.35 * math.sqrt(pop / 1000))
            lat = tlat + rng.gauss(0, sigma_km / 111.2)
            lon = tlon + rng.gauss(0, sigma_km / (111.2 * math.cos(math.radians(tlat))))
            town = name
        lon, lat = round(lon, 6), round(lat, 6)
        if land[code][1].contains(SPoint(lon, lat)):
            return Place(lon, lat, town, code)
    raise RuntimeError("could not place a point on land")  # pragma: no cover


def _cvr_numbers(rng: random.Random, n: int) -> list[str]:
    """Distinct 8-digit numbers with a valid CVR modulus-11 check digit."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        base = str(rng.randint(1_000_000, 9_999_999))
        last = cvr_check_digit(base)
        if last is not None and (cand := base + str(last)) not in seen:
            seen.add(cand)
            out.append(cand)
    return out


def _employees(rng: random.Random, form: str) -> str | None:
    """A size group, or none: the register has no employment figure for a business nobody is
    employed in, which is most sole traders (one draw either way, so the rest of the data set
    is the same whichever it is)."""
    groups = [None, "0", "1", "2-4", "5-9", "10-19", "20-49", "50-99"]
    if form in ("ENK", "PMV", "I/S"):
        weights = [40, 20, 22, 13, 4, 1, 0, 0]
    elif form == "A/S":
        weights = [2, 6, 6, 16, 22, 24, 17, 7]
    else:
        weights = [15, 23, 20, 22, 12, 5, 2, 1]
    return rng.choices(groups, weights=weights)[0]


def _slug(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _name(rng: random.Random, words: list[str], form: str, town: str | None) -> str:
    word = rng.choice(words)
    style = rng.random()
    if style < 0.4:
        prefix = rng.choice(C.SURNAMES)
    elif style < 0.7 and town:
        prefix = town.replace(" F", "").replace(" Havn", "")
    else:
        prefix = rng.choice(C.PLACE_WORDS)
    name = f"{prefix}s {word}" if style < 0.2 else f"{prefix} {word}"
    suffix = C.FORM_SUFFIX.get(form)
    return f"{name} {suffix}" if suffix else name


def _dates(rng: random.Random, form: str) -> tuple[date, date | None]:
    if form == "IVS":  # IVS could be registered from 2014 to April 2019 only
        founded = date(2014, 1, 1) + timedelta(days=rng.randint(0, 1920))
    elif rng.random() < 0.2:
        founded = date(1980, 1, 1) + timedelta(days=rng.randint(0, 9130))
    else:
        founded = date(2005, 1, 1) + timedelta(days=rng.randint(0, 7669))
    ceased = None
    earliest = max(founded + timedelta(days=60), _FIRST_CLOSURE)  # closures: 2005-2025
    years_open = (_LAST_DAY - earliest).days / 365.25
    if years_open > 0 and rng.random() < 1 - math.exp(-0.035 * years_open):  # ~3.5 %/year
        ceased = earliest + timedelta(days=rng.randint(0, (_LAST_DAY - earliest).days))
    return founded, ceased


def generate_businesses(n: int = 5000, seed: int = 376390) -> list[Business]:
    """n synthetic businesses in Guldborgsund and Vordingborg, reproducible from the seed."""
    rng = random.Random(seed)
    forms = list(C.COMPANY_FORMS)
    form_weights = [C.COMPANY_FORMS[f][1] for f in forms]
    out = []
    for cvr in _cvr_numbers(rng, n):
        code, text, _, words = rng.choices(C.INDUSTRIES, weights=[i[2] for i in C.INDUSTRIES])[0]
        form = "APS" if code == "642020" else rng.choices(forms, weights=form_weights)[0]
        place = _place(rng)
        founded, ceased = _dates(rng, form)
        postcode = postcode_at(place.lon, place.lat)
        streets = C.STREETS if place.town else C.RURAL_STREETS
        name = _name(rng, words, form, place.town)
        slug = _slug(name)[:40].strip("-")
        personal = form in ("ENK", "PMV", "I/S")
        # about 4 % could not be geocoded to the address and sit on their postcode's point
        fallback = postcode_point(postcode[0]) if postcode and rng.random() < 0.04 else None
        location = Point(lon=fallback[0], lat=fallback[1]) if fallback else None
        out.append(
            Business(
                id=cvr,
                name=name,
                industry_code=code,
                industry_text=text,
                company_form=form,
                company_form_text=C.COMPANY_FORMS[form][0],
                employees=_employees(rng, form),
                status="ceased" if ceased else "active",
                founded=founded,
                ceased=ceased,
                address=f"{rng.choice(streets)} {rng.randint(1, 120)}",
                postcode=postcode[0] if postcode else None,
                city=postcode[1] if postcode else None,
                municipality=place.municipality,
                location=location or Point(lon=place.lon, lat=place.lat),
                location_precision="postcode" if location else "address",
                reklamebeskyttet=rng.random() < 0.35,
                contact=Contact(
                    phone=f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} "
                    f"{rng.randint(10, 99)} {rng.randint(10, 99)}"
                    if rng.random() < 0.7
                    else None,
                    email=f"kontakt@{slug}.example" if rng.random() < 0.6 else None,
                    website=f"https://{slug}.example" if rng.random() < 0.5 else None,
                ),
                curated=Curation(
                    show_address=personal and rng.random() < 0.08,
                    show_contact=personal and rng.random() < 0.10,
                    hidden=rng.random() < 0.002,
                ),
                source=SOURCE,
            )
        )
    return out


def _circle(lon: float, lat: float, radius_km: float, steps: int = 48) -> list[list[float]]:
    ring = []
    for i in range(steps + 1):
        a = 2 * math.pi * (i % steps) / steps
        ring.append(
            [
                lon + radius_km * math.cos(a) / (111.2 * math.cos(math.radians(lat))),
                lat + radius_km * math.sin(a) / 111.2,
            ]
        )
    return ring


def _area(town: tuple[str, str, float, float, int], radius_km: float) -> dict[str, Any]:
    """The network's area: a circle around its town, or its whole municipality, on land."""
    from shapely.geometry import Polygon, mapping

    land, _ = _land()[town[1]]
    shape_ = (
        land if radius_km == 0 else land.intersection(Polygon(_circle(town[2], town[3], radius_km)))
    )
    simple = shape_.simplify(0.001, preserve_topology=True)
    if not simple.is_valid:  # pragma: no cover - simplify keeps topology
        simple = simple.buffer(0)
    return orjson.loads(orjson.dumps(mapping(simple), option=orjson.OPT_SERIALIZE_NUMPY))


def generate_networks(businesses: list[Business], seed: int = 30) -> list[Network]:
    """About 30 networks in the real towns, with members chosen among nearby businesses."""
    rng = random.Random(seed)
    towns = {t[0]: t for t in C.TOWNS}
    active = [b for b in businesses if b.status == "active" and b.location is not None]
    out = []
    for name, town_name, tags, sections, radius in C.NETWORKS:
        town = towns[town_name]
        slug = _slug(name)
        reach = radius or 60.0

        def near(b: Business, town: tuple = town, reach: float = reach) -> bool:
            assert b.location is not None
            dx = (b.location.lon - town[2]) * 111.2 * math.cos(math.radians(town[3]))
            dy = (b.location.lat - town[3]) * 111.2
            return math.hypot(dx, dy) <= reach and b.municipality == town[1]

        pool = [b for b in active if near(b) and (not sections or b.industry_section in sections)]
        members = rng.sample(pool, min(len(pool), rng.randint(8, 60)))
        has_area = radius == 0 or rng.random() < 0.6
        meeting = Point(
            lon=round(town[2] + rng.uniform(-0.004, 0.004), 6),
            lat=round(town[3] + rng.uniform(-0.002, 0.002), 6),
        )
        out.append(
            Network(
                id=slug,
                name=name,
                description=(
                    f"{name} samler selvstændige og små virksomheder omkring {town_name}: "
                    f"faglige møder, sparring og fælles markedsføring. (Syntetisk demodata.)"
                ),
                website=f"https://{slug}.example",
                contact=Contact(email=f"kontakt@{slug}.example"),
                municipalities=[town[1]],
                meeting_place=meeting,
                meeting_place_name=f"{rng.choice(C.MEETING_PLACES)}, {town_name}",
                area=_area(town, radius) if has_area else None,
                tags=tags,
                members=[b.id for b in members],
                founded=date(rng.randint(1995, 2024), rng.randint(1, 12), 1),
            )
        )
    return out
