#!/usr/bin/env python3
"""Quick end-to-end check and timing of a running peer server (or any OGC API - Features server).

Sizes square bboxes from the CSV's point density so that each returns about --targets features,
sends --requests GETs per target (fresh connection each, like urllib), checks every response's
feature count and ids against a brute-force filter of the CSV, and prints median / p90 ms.

Stdlib only:

    python3 bench/peer/smoke_timing.py --url http://127.0.0.1:5001 --csv /tmp/peer/p100k.csv
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import random
import statistics
import sys
import time
import urllib.parse


def load_points(path: str) -> list[tuple[str, float, float]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [(r["id"], float(r["lon"]), float(r["lat"])) for r in csv.DictReader(fh)]


def get(url: str, timeout: float = 120.0) -> tuple[int, bytes, float]:
    u = urllib.parse.urlsplit(url)
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    conn.request("GET", u.path + ("?" + u.query if u.query else ""))
    resp = conn.getresponse()
    body = resp.read()
    dt = (time.perf_counter() - t0) * 1000.0
    conn.close()
    return resp.status, body, dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:5001")
    ap.add_argument("--csv", required=True, help="the CSV the server's data was built from")
    ap.add_argument("--collection", default="businesses")
    ap.add_argument("--targets", default="100,1000", help="features per bbox to aim for")
    ap.add_argument("--requests", type=int, default=20, help="requests per target")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    pts = load_points(args.csv)
    minx = min(p[1] for p in pts)
    maxx = max(p[1] for p in pts)
    miny = min(p[2] for p in pts)
    maxy = max(p[2] for p in pts)
    density = len(pts) / ((maxx - minx) * (maxy - miny))  # points per square degree
    print(f"{len(pts)} points, extent {minx:.2f},{miny:.2f},{maxx:.2f},{maxy:.2f}", file=sys.stderr)

    base = args.url.rstrip("/")
    items = f"{base}/collections/{args.collection}/items"
    status, _, _ = get(f"{items}?limit=1&f=json")  # warm-up
    if status != 200:
        raise SystemExit(f"warm-up request failed: HTTP {status}")

    rng = random.Random(args.seed)
    ok = True
    for target in (int(t) for t in args.targets.split(",")):
        side = math.sqrt(target / density)
        times, counts = [], []
        for _ in range(args.requests):
            x0 = rng.uniform(minx, maxx - side)
            y0 = rng.uniform(miny, maxy - side)
            bbox = (x0, y0, x0 + side, y0 + side)
            q = ",".join(f"{v:.6f}" for v in bbox)
            status, body, dt = get(f"{items}?bbox={q}&limit={args.limit}&f=json")
            if status != 200:
                raise SystemExit(f"HTTP {status} for bbox {q}: {body[:300]!r}")
            fc = json.loads(body)
            got = {str(f["id"]) for f in fc["features"]}
            bx0, by0, bx1, by1 = (float(v) for v in q.split(","))
            want = {i for i, x, y in pts if bx0 <= x <= bx1 and by0 <= y <= by1}
            if len(want) <= args.limit and got != want:
                ok = False
                print(f"MISMATCH bbox {q}: got {len(got)} want {len(want)}", file=sys.stderr)
            elif len(want) > args.limit and (len(got) != args.limit or not got <= want):
                ok = False
                print(
                    f"MISMATCH bbox {q}: got {len(got)} of {len(want)} (limit {args.limit})",
                    file=sys.stderr,
                )
            times.append(dt)
            counts.append(len(got))
        times.sort()
        p90 = times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)]
        print(
            f"target~{target}: features median {statistics.median(counts):.0f} "
            f"(min {min(counts)}, max {max(counts)}); "
            f"ms median {statistics.median(times):.1f}, p90 {p90:.1f}, "
            f"min {times[0]:.1f}, max {times[-1]:.1f}"
        )
    print("results match the CSV" if ok else "RESULTS DIFFER FROM THE CSV")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
