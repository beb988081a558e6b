#!/usr/bin/env python3
"""Build the peer GeoPackage from a businesses CSV.

Input CSV header: id,name,lon,lat,municipality,industry_code  (WGS84 lon/lat; id = 8-digit string)
Output: a GeoPackage with one POINT layer `businesses` in EPSG:4326 and
  - the GPKG R-tree spatial index (rtree_businesses_geom), which ogr2ogr creates by default;
  - `id` kept as a TEXT attribute (pygeoapi serves it as the feature id via `id_field: id`),
    next to the integer primary key `fid` that GeoPackage requires;
  - a UNIQUE index on `id`, so /collections/businesses/items/{id} is not a table scan;
  - all attributes as TEXT (the CSV driver's default; keeps "101" and "011100" intact).

Uses the system `ogr2ogr` (Debian gdal-bin) and the stdlib sqlite3 module only, so any
python3 runs it:

    python3 bench/peer/build_gpkg.py --csv points.csv --out points.gpkg
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time

LAYER = "businesses"


def build(csv_path: str, out_path: str) -> None:
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        raise SystemExit("ogr2ogr not found: run bench/peer/setup.sh (installs gdal-bin)")
    if not os.path.exists(csv_path):
        raise SystemExit(f"no such CSV: {csv_path}")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(out_path + suffix):
            os.remove(out_path + suffix)

    cmd = [
        ogr2ogr,
        "-f",
        "GPKG",
        out_path,
        # "CSV:" forces the CSV driver whatever the file is called.
        f"CSV:{csv_path}",
        "-oo",
        "X_POSSIBLE_NAMES=lon",
        "-oo",
        "Y_POSSIBLE_NAMES=lat",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",  # lon/lat live in the geometry only
        "-oo",
        "AUTODETECT_TYPE=NO",  # every attribute stays a string
        "-a_srs",
        "EPSG:4326",
        "-nln",
        LAYER,
        "-nlt",
        "POINT",
        "-lco",
        "FID=fid",
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "SPATIAL_INDEX=YES",  # default for GPKG; explicit for the record
        "-gt",
        "100000",  # rows per transaction
        "--config",
        "OGR_SQLITE_SYNCHRONOUS",
        "OFF",
        "--config",
        "OGR_SQLITE_CACHE",
        "512",
    ]
    print("+ " + " ".join(cmd), file=sys.stderr)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    t1 = time.perf_counter()

    # Plain index creation does not touch the R-tree triggers, so the stdlib
    # sqlite3 module (no SpatiaLite needed) is enough here.
    con = sqlite3.connect(out_path)
    try:
        con.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{LAYER}_id_uq" ON "{LAYER}" ("id")')
        con.commit()
        n = con.execute(f'SELECT COUNT(*) FROM "{LAYER}"').fetchone()[0]
        n_rtree = con.execute(f'SELECT COUNT(*) FROM "rtree_{LAYER}_geom"').fetchone()[0]
        srs = con.execute(
            "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (LAYER,)
        ).fetchone()[0]
    finally:
        con.close()
    t2 = time.perf_counter()
    if n_rtree != n:
        raise SystemExit(f"spatial index has {n_rtree} entries for {n} features")
    size_mb = os.path.getsize(out_path) / 1e6
    print(
        f"built {out_path}: layer {LAYER}, {n} features, EPSG:{srs}, rtree ok, "
        f"{size_mb:.1f} MB; ogr2ogr {t1 - t0:.1f}s, id index {t2 - t1:.1f}s",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--csv", required=True, help="input CSV (id,name,lon,lat,municipality,industry_code)"
    )
    ap.add_argument("--out", required=True, help="output .gpkg (overwritten)")
    args = ap.parse_args(argv)
    build(args.csv, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
