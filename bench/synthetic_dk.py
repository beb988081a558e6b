"""Synthetic businesses spread like Denmark's population: around ~70 towns, plus the country.

For benchmarks only. Town centres and populations are approximate (rounded, 2020s); points
are kept only on land (inside the DAGI municipality polygons shipped with the product).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np

from chalicelib.demo import catalogue as C
from chalicelib.domain.models import Business, Contact, Point
from chalicelib.domain.reference import load_municipalities, municipality_codes

# (town, lon, lat, population)
TOWNS: list[tuple[str, float, float, int]] = [
    ("København", 12.5683, 55.6761, 1_350_000),
    ("Aarhus", 10.2039, 56.1629, 290_000),
    ("Odense", 10.3883, 55.3959, 182_000),
    ("Aalborg", 9.9217, 57.0488, 143_000),
    ("Esbjerg", 8.4594, 55.4765, 72_000),
    ("Randers", 10.0364, 56.4607, 63_000),
    ("Kolding", 9.4722, 55.4904, 62_000),
    ("Horsens", 9.8503, 55.8607, 61_000),
    ("Vejle", 9.5357, 55.7113, 60_000),
    ("Roskilde", 12.0803, 55.6415, 52_000),
    ("Herning", 8.9730, 56.1393, 51_000),
    ("Silkeborg", 9.5450, 56.1697, 50_000),
    ("Helsingør", 12.5910, 56.0361, 47_000),
    ("Hørsholm", 12.5010, 55.8810, 47_000),
    ("Næstved", 11.7610, 55.2300, 44_000),
    ("Fredericia", 9.7520, 55.5657, 41_000),
    ("Viborg", 9.4020, 56.4532, 41_000),
    ("Køge", 12.1820, 55.4580, 38_000),
    ("Holstebro", 8.6170, 56.3600, 36_000),
    ("Taastrup", 12.2960, 55.6510, 36_000),
    ("Hillerød", 12.3100, 55.9270, 36_000),
    ("Slagelse", 11.3530, 55.4030, 34_000),
    ("Holbæk", 11.7160, 55.7170, 29_000),
    ("Sønderborg", 9.7920, 54.9090, 27_000),
    ("Svendborg", 10.6070, 55.0600, 27_000),
    ("Hjørring", 9.9820, 57.4640, 25_000),
    ("Frederikshavn", 10.5370, 57.4410, 22_000),
    ("Ringsted", 11.7900, 55.4420, 23_000),
    ("Haderslev", 9.4890, 55.2500, 22_000),
    ("Skive", 9.0260, 56.5670, 20_000),
    ("Skanderborg", 9.9300, 56.0380, 20_000),
    ("Nykøbing F", 11.8729, 54.7691, 16_500),
    ("Kalundborg", 11.0890, 55.6810, 16_000),
    ("Frederikssund", 12.0690, 55.8390, 16_000),
    ("Aabenraa", 9.4180, 55.0440, 16_000),
    ("Nyborg", 10.7900, 55.3120, 17_000),
    ("Ikast", 9.1570, 56.1390, 16_000),
    ("Middelfart", 9.7300, 55.5060, 16_000),
    ("Grenaa", 10.8790, 56.4160, 14_000),
    ("Korsør", 11.1400, 55.3330, 14_000),
    ("Varde", 8.4800, 55.6210, 14_000),
    ("Thisted", 8.6940, 56.9570, 13_500),
    ("Rønne", 14.7060, 55.1000, 13_500),
    ("Brønderslev", 9.9460, 57.2700, 12_500),
    ("Haslev", 11.9640, 55.3240, 12_000),
    ("Hobro", 9.7910, 56.6390, 12_000),
    ("Odder", 10.1500, 55.9730, 12_000),
    ("Vordingborg", 11.9110, 55.0080, 11_800),
    ("Nakskov", 11.1360, 54.8310, 12_000),
    ("Struer", 8.5880, 56.4910, 10_000),
    ("Nykøbing M", 8.8590, 56.7950, 9_000),
    ("Ribe", 8.7600, 55.3280, 8_200),
    ("Skagen", 10.5830, 57.7210, 8_000),
    ("Sorø", 11.5560, 55.4320, 8_000),
    ("Ebeltoft", 10.6810, 56.1950, 7_500),
    ("Tønder", 8.8630, 54.9330, 7_500),
    ("Lemvig", 8.3110, 56.5480, 7_000),
    ("Faaborg", 10.2420, 55.0950, 7_000),
    ("Assens", 9.9010, 55.2700, 6_300),
    ("Kerteminde", 10.6600, 55.4490, 6_000),
    ("Maribo", 11.5000, 54.7760, 5_800),
    ("Nykøbing S", 11.6710, 55.9250, 5_100),
    ("Sakskøbing", 11.6455, 54.7985, 4_600),
    ("Præstø", 12.0450, 55.1230, 3_800),
    ("Stege", 12.2850, 54.9870, 3_800),
    ("Løgstør", 9.2560, 56.9680, 4_000),
    ("Bogense", 10.0890, 55.5670, 4_000),
    ("Ærøskøbing", 10.4200, 54.8890, 1_000),
    ("Marstal", 10.5170, 54.8560, 2_200),
    ("Samsø", 10.6000, 55.8600, 1_200),
]
RURAL_SHARE = 0.15


def _land():
    from shapely import prepare
    from shapely.geometry import shape
    from shapely.ops import unary_union

    munis = load_municipalities(municipality_codes())
    polys = {m.kommunekode: shape(m.boundary) for m in munis}
    for g in polys.values():
        prepare(g)
    union = unary_union(list(polys.values()))
    prepare(union)
    return union, polys


def points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n points on land, distributed like the population; with each point's kommunekode."""
    from shapely import contains_xy

    rng = np.random.default_rng(seed)
    land, polys = _land()
    pops = np.array([t[3] for t in TOWNS], dtype=float)
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(1000, int((n - have) * 1.6))
        rural = rng.random(batch) < RURAL_SHARE
        town_idx = rng.choice(len(TOWNS), size=batch, p=pops / pops.sum())
        tl = np.array([TOWNS[i][1] for i in town_idx])
        tb = np.array([TOWNS[i][2] for i in town_idx])
        sigma_km = np.minimum(8.0, 0.35 * np.sqrt(pops[town_idx] / 1000))
        lat = tb + rng.normal(0, 1, batch) * sigma_km / 111.2
        lon = tl + rng.normal(0, 1, batch) * sigma_km / (111.2 * np.cos(np.radians(tb)))
        minx, miny, maxx, maxy = land.bounds
        lon = np.where(rural, rng.uniform(minx, maxx, batch), lon).round(6)
        lat = np.where(rural, rng.uniform(miny, maxy, batch), lat).round(6)
        keep = contains_xy(land, lon, lat)
        lons.append(lon[keep])
        lats.append(lat[keep])
        have += int(keep.sum())
    lon_all = np.concatenate(lons)[:n]
    lat_all = np.concatenate(lats)[:n]
    codes = np.full(n, "", dtype=object)
    for code, poly in polys.items():
        todo = codes == ""
        inside = contains_xy(poly, lon_all[todo], lat_all[todo])
        idx = np.flatnonzero(todo)[inside]
        codes[idx] = code
    codes[codes == ""] = "101"
    return lon_all, lat_all, list(codes)


def businesses(n: int, seed: int = 1) -> Iterator[Business]:
    """n synthetic businesses over Denmark; CVR numbers 10000000 + i (unique, not real)."""
    lon, lat, codes = points(n, seed)
    rng = random.Random(seed)
    industries = C.INDUSTRIES
    weights = [i[2] for i in industries]
    forms = list(C.COMPANY_FORMS)
    form_weights = [C.COMPANY_FORMS[f][1] for f in forms]
    for i in range(n):
        code, text, _, words = rng.choices(industries, weights=weights)[0]
        form = rng.choices(forms, weights=form_weights)[0]
        founded = date(1990, 1, 1) + timedelta(days=rng.randint(0, 13000))
        ceased = founded + timedelta(days=rng.randint(60, 3000)) if rng.random() < 0.25 else None
        if ceased and ceased > date(2025, 12, 31):
            ceased = None
        yield Business(
            id=str(10_000_000 + i),
            name=f"{rng.choice(C.SURNAMES)} {rng.choice(words)} {i}",
            industry_code=code,
            industry_text=text,
            company_form=form,
            company_form_text=C.COMPANY_FORMS[form][0],
            employees=rng.choice(["0", "1", "2-4", "5-9", "10-19"]),
            status="ceased" if ceased else "active",
            founded=founded,
            ceased=ceased,
            address=f"{rng.choice(C.STREETS)} {rng.randint(1, 120)}",
            municipality=codes[i],
            location=Point(lon=float(lon[i]), lat=float(lat[i])),
            reklamebeskyttet=rng.random() < 0.35,
            contact=Contact(website=f"https://firma-{i}.example"),
            source="synthetic-bench",
        )
