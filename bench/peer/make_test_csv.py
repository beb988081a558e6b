#!/usr/bin/env python3
"""Write a CSV of random business points in (roughly) Denmark for the peer benchmark.

Header: id,name,lon,lat,municipality,industry_code
  id             8-digit string, unique, first digit 1-9 (CVR-shaped)
  lon, lat       WGS84, uniform in a box around Denmark (default 8.1-12.6 / 54.6-57.7)
  municipality   3-digit kommunekode string
  industry_code  6-digit string

Stdlib only; runs with any python3. Deterministic for a given --seed.

    python3 bench/peer/make_test_csv.py --n 100000 --out /tmp/peer/points_100k.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time

MUNICIPALITIES = [
    "101",
    "147",
    "151",
    "153",
    "155",
    "157",
    "159",
    "161",
    "163",
    "165",
    "167",
    "169",
    "173",
    "175",
    "183",
    "185",
    "187",
    "190",
    "201",
    "210",
    "217",
    "219",
    "223",
    "230",
    "240",
    "250",
    "253",
    "259",
    "260",
    "265",
    "269",
    "270",
    "306",
    "316",
    "320",
    "326",
    "329",
    "330",
    "336",
    "340",
    "350",
    "360",
    "370",
    "376",
    "390",
    "400",
    "410",
    "420",
    "430",
    "440",
    "450",
    "461",
    "479",
    "480",
    "482",
    "492",
    "510",
    "530",
    "540",
    "550",
    "561",
    "563",
    "573",
    "575",
    "580",
    "607",
    "615",
    "621",
    "630",
    "657",
    "661",
    "665",
    "671",
    "706",
    "707",
    "710",
    "727",
    "730",
    "740",
    "741",
    "746",
    "751",
    "756",
    "760",
    "766",
    "773",
    "779",
    "787",
    "791",
    "810",
    "813",
    "820",
    "825",
    "840",
    "846",
    "849",
    "851",
    "860",
]
INDUSTRY_CODES = [
    "011100",
    "016100",
    "101100",
    "107100",
    "181200",
    "257300",
    "331200",
    "412000",
    "432100",
    "433200",
    "452000",
    "471100",
    "477100",
    "493200",
    "561010",
    "620100",
    "682040",
    "691000",
    "702200",
    "711290",
    "731100",
    "749090",
    "812100",
    "869020",
    "960200",
]
WORDS = [
    "Nord",
    "Syd",
    "Øst",
    "Vest",
    "Fjord",
    "Skov",
    "Bakke",
    "Havn",
    "Mølle",
    "Kro",
    "Smedje",
    "Tømrer",
    "Bager",
    "Maler",
    "Data",
    "Consult",
    "Byg",
    "El",
    "VVS",
    "Gartneri",
]
FORMS = ["ApS", "A/S", "I/S", "IVS", ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000, help="number of rows (default 100000)")
    ap.add_argument("--out", required=True, help="output CSV path")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bbox", default="8.1,54.6,12.6,57.7", help="minlon,minlat,maxlon,maxlat")
    args = ap.parse_args(argv)

    minx, miny, maxx, maxy = (float(v) for v in args.bbox.split(","))
    rng = random.Random(args.seed)
    # Unique 8-digit ids with a non-zero first digit, in random order.
    ids = rng.sample(range(10_000_000, 100_000_000), args.n)

    t0 = time.perf_counter()
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lon", "lat", "municipality", "industry_code"])
        for i in ids:
            name = f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {rng.choice(FORMS)}".strip()
            w.writerow(
                [
                    str(i),
                    name,
                    f"{rng.uniform(minx, maxx):.6f}",
                    f"{rng.uniform(miny, maxy):.6f}",
                    rng.choice(MUNICIPALITIES),
                    rng.choice(INDUSTRY_CODES),
                ]
            )
    print(f"wrote {args.n} rows to {args.out} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
