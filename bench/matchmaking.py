"""Supplier search and matches on 100,000 businesses: latency on SQLite and on DynamoDB.

100,000 synthetic businesses spread like Denmark's population (`bench/synthetic_dk.py`) and a
network per large town are loaded through the Store port into SQLite and into DynamoDB
(dynalite from npm, a local wire-protocol server; see bench/dynamodb_viewports.py). Then:
- 200 searches around random businesses: a radius from 2 to 20 km (log-uniform), one DB07
  section, and for half of them a word from a business name;
- 100 matches of random businesses (the default 15 km radius).
Each is timed in-process (the service function: parse, store queries, ranking, JSON), so the
figures are the product's, without HTTP. Prints median and 95th percentile; asserts nothing.

    .venv/bin/python bench/matchmaking.py [--n 100000] [--searches 200] [--matches 100]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dynamodb_viewports import load, start_dynalite  # noqa: E402

from chalicelib.domain.errors import NotFound  # noqa: E402
from chalicelib.domain.models import Network, Point  # noqa: E402
from chalicelib.matchmaking.matches import matches  # noqa: E402
from chalicelib.matchmaking.search import search  # noqa: E402
from chalicelib.store import open_store  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

SECTIONS = ["F", "G", "I", "M", "C", "N", "S", "Q"]


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))]


def networks_for(businesses, towns) -> list[Network]:
    out = []
    rng = random.Random(3)
    for name, lon, lat, _ in towns[:30]:
        near = [b for b in businesses[:20000] if b.location and abs(b.location.lon - lon) < 0.05
                and abs(b.location.lat - lat) < 0.03]  # fmt: skip
        folded = name.lower().translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"}))
        slug = "".join(c for c in folded if c.isascii() and c.isalnum())[:30] or "by"
        out.append(
            Network(
                id=f"net-{slug}",
                name=f"Erhvervsnetværk {name}",
                meeting_place=Point(lon=lon, lat=lat),
                members=[b.id for b in rng.sample(near, min(40, len(near)))],
            )
        )
    return out


def workload(businesses, searches: int, matches_n: int, seed: int = 9):
    rng = random.Random(seed)
    located = [b for b in businesses if b.location and b.status == "active"]
    s = []
    for _ in range(searches):
        b = rng.choice(located)
        params = {
            "point": f"{b.location.lon},{b.location.lat}",
            "radius": f"{math.exp(rng.uniform(math.log(2), math.log(20))):.2f}",
            "industry": rng.choice(SECTIONS),
        }
        if rng.random() < 0.5:
            params["q"] = rng.choice(b.name.split())[:12]
        s.append(params)
    m = [rng.choice(located).id for _ in range(matches_n)]
    return s, m


def run(store, searches, match_ids) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"search": [], "matches": []}
    counts = []
    for params in searches:
        req = HttpRequest("/search", {k: [v] for k, v in params.items()}, {}, "http://bench")
        t = time.perf_counter()
        resp = search(store, req)
        times["search"].append((time.perf_counter() - t) * 1000)
        counts.append(int(resp.body.split(b'"numberMatched":', 1)[1].split(b",", 1)[0]))
    for cvr in match_ids:
        req = HttpRequest(f"/businesses/{cvr}/matches", {}, {}, "http://bench")
        t = time.perf_counter()
        try:
            matches(store, req, cvr)
        except NotFound:  # a hidden business has no matches; not timed
            continue
        times["matches"].append((time.perf_counter() - t) * 1000)
    times["matched"] = counts
    return times


def report(label: str, times: dict[str, list[float]]) -> None:
    for kind in ("search", "matches"):
        v = times[kind]
        print(
            f"| {label} | {kind} | {len(v)} | {statistics.median(v):.1f} ms | "
            f"{pct(v, 95):.1f} ms | {max(v):.1f} ms |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--matches", type=int, default=100)
    parser.add_argument("--no-dynamodb", action="store_true")
    args = parser.parse_args()
    from synthetic_dk import TOWNS, businesses

    data = list(businesses(args.n))
    nets = networks_for(data, TOWNS)
    searches, match_ids = workload(data, args.searches, args.matches)
    results = {}

    db = Path(tempfile.mkdtemp()) / "bench.db"
    sqlite = open_store(f"sqlite:///{db}")
    rate = load(sqlite, data, workers=1)
    sqlite.upsert_networks(nets)
    print(f"sqlite: loaded {args.n:,} at {rate:,.0f}/s")
    results["SQLite"] = run(sqlite, searches, match_ids)

    if not args.no_dynamodb:
        proc, url = start_dynalite()
        try:
            os.environ.update(
                AWS_ENDPOINT_URL_DYNAMODB=url,
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                AWS_DEFAULT_REGION="eu-north-1",
            )
            dynamo = open_store("dynamodb://mikrokort-bench-match")
            dynamo.create_table()
            rate = load(dynamo, data)
            dynamo.upsert_networks(nets)
            print(f"dynamodb (dynalite): loaded {args.n:,} at {rate:,.0f}/s")
            dynamo.calls.clear()  # type: ignore[attr-defined]
            results["DynamoDB (dynalite)"] = run(dynamo, searches, match_ids)
            calls = dynamo.calls  # type: ignore[attr-defined]
            total = len(searches) + len(results["DynamoDB (dynalite)"]["matches"])
            print(f"dynamodb: {calls['query'] / total:.1f} Query calls per request on average")
        finally:
            proc.terminate()

    matched = results["SQLite"]["matched"]
    print(f"\nsearch results (numberMatched): median {statistics.median(matched):.0f}, "
          f"p95 {pct(matched, 95):.0f}")  # fmt: skip
    print("| store | request | n | median | p95 | max |")
    print("|---|---|---|---|---|---|")
    for label, times in results.items():
        report(label, times)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
