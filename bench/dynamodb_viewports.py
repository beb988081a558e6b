"""Viewport queries on the DynamoDB store: Query calls, read amplification, handler time.

200,000 synthetic businesses spread like Denmark's towns are loaded through the Store port
into a local DynamoDB wire-protocol server (dynalite, from npm: it indexes GSIs, so a Query
costs what it reads, unlike moto which walks the whole table) and into SQLite. Then 300 random
viewports, from a city block to a whole municipality, are asked on both. For comparison the
same viewports are answered by a naive design: one partition per municipality (the
`by_municipality` index) with the bbox as a filter. Prints figures; asserts nothing.

    .venv/bin/python bench/dynamodb_viewports.py [--n 200000] [--viewports 300]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chalicelib.features.service import FeaturesService  # noqa: E402
from chalicelib.store import FeatureQuery, open_store  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

DYNALITE_DIR = ROOT / "bench" / ".dynalite"
CLASSES = [
    ("block", 0.0, 0.01),
    ("neighbourhood", 0.01, 0.05),
    ("town", 0.05, 0.2),
    ("municipality", 0.2, 9.0),
]


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))] if v else float("nan")


def start_dynalite() -> tuple[subprocess.Popen, str]:
    exe = DYNALITE_DIR / "node_modules" / ".bin" / "dynalite"
    if not exe.exists():
        DYNALITE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(DYNALITE_DIR),
                "dynalite@4.0.0",
            ],
            check=True,
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(exe), "--port", str(port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc, f"http://127.0.0.1:{port}"


def load(store, businesses, workers: int = 4) -> float:
    chunks = [businesses[i : i + 1000] for i in range(0, len(businesses), 1000)]
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(store.upsert_businesses, chunks))
    return len(businesses) / (time.perf_counter() - t)


def viewports(businesses, count: int, seed: int = 42) -> list[tuple[float, float, float, float]]:
    """Centred on random businesses; heights log-uniform from ~200 m to ~60 km."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        b = rng.choice(businesses)
        assert b.location is not None
        h = math.exp(rng.uniform(math.log(0.002), math.log(0.55)))
        w = h * 1.7  # a map view is wider than tall; 1.7 x keeps it roughly square on the ground
        out.append(
            (
                b.location.lon - w / 2,
                b.location.lat - h / 2,
                b.location.lon + w / 2,
                b.location.lat + h / 2,
            )
        )
    return out


def naive(store, bbox, municipalities: dict[str, tuple[float, float, float, float]], limit: int):
    """One partition per municipality, the bbox as a FilterExpression."""
    calls = scanned = returned = 0
    for code, mb in municipalities.items():
        if mb[0] > bbox[2] or mb[2] < bbox[0] or mb[1] > bbox[3] or mb[3] < bbox[1]:
            continue
        kwargs = {
            "TableName": store.table,
            "IndexName": "by_municipality",
            "KeyConditionExpression": "mpk = :m",
            "FilterExpression": "lon BETWEEN :x0 AND :x1 AND lat BETWEEN :y0 AND :y1",
            "ExpressionAttributeValues": {
                ":m": {"S": code},
                ":x0": {"N": repr(bbox[0])},
                ":x1": {"N": repr(bbox[2])},
                ":y0": {"N": repr(bbox[1])},
                ":y1": {"N": repr(bbox[3])},
            },
            "ProjectionExpression": "feature",
        }
        while returned < limit:
            resp = store.client.query(**kwargs)
            calls += 1
            scanned += resp["ScannedCount"]
            returned += resp["Count"]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return calls, scanned, returned


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--viewports", type=int, default=300)
    ap.add_argument("--limit", type=int, default=1000)
    args = ap.parse_args()
    from synthetic_dk import businesses as synthetic

    from chalicelib.domain.geo import geometry_bounds
    from chalicelib.domain.reference import load_municipalities, municipality_codes

    data = list(synthetic(args.n, seed=5))
    proc, url = start_dynalite()
    os.environ.update(
        AWS_ENDPOINT_URL_DYNAMODB=url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-north-1",
    )
    work = Path(tempfile.mkdtemp(prefix="mikrokort-dyn-"))
    try:
        dyn = open_store("dynamodb://bench")
        dyn.create_table()
        rate_dyn = load(dyn, data)
        print(
            f"bulk load into DynamoDB (dynalite, 4 writer threads): {rate_dyn:,.0f} items/s",
            flush=True,
        )
        sql = open_store(f"sqlite:///{work / 'bench.db'}")
        rate_sql = load(sql, data, workers=1)
        print(f"bulk load into SQLite: {rate_sql:,.0f} items/s", flush=True)
        munis = {
            m.kommunekode: geometry_bounds(m.boundary)
            for m in load_municipalities(municipality_codes())
        }
        services = {"dynamodb": FeaturesService(dyn), "sqlite": FeaturesService(sql)}
        rows = []
        for box in viewports(data, args.viewports):
            # walk every page of the viewport: amplification over all of it, calls per page
            q = FeatureQuery(bbox=box, limit=args.limit)
            calls, scanned, returned, pages = 0, 0, 0, 0
            while True:
                dyn.calls.clear()
                page = dyn.query("businesses", q)
                calls = max(calls, dyn.calls["query"])
                scanned += dyn.calls["scanned"]
                returned += len(page.features)
                pages += 1
                if page.next_after is None:
                    break
                q = q.model_copy(update={"after": page.next_after})
            times = {}
            for name, svc in services.items():
                req = HttpRequest(
                    path="/",
                    params={"bbox": [",".join(map(repr, box))], "limit": [str(args.limit)]},
                    headers={},
                    base_url="http://127.0.0.1",
                )
                t = time.perf_counter()
                assert svc.items(req, "businesses").status == 200
                times[name] = (time.perf_counter() - t) * 1000
            n_calls, n_scanned, n_returned = naive(dyn, box, munis, 10**9)
            rows.append(
                {
                    "height": box[3] - box[1],
                    "calls": calls,
                    "pages": pages,
                    "scanned": scanned,
                    "returned": returned,
                    "naive_calls": n_calls,
                    "naive_scanned": n_scanned,
                    "naive_returned": n_returned,
                    **times,
                }
            )
        print(
            f"\n{args.n:,} businesses, {len(rows)} viewports, page limit {args.limit}, "
            f"{sum(r['pages'] for r in rows)} pages walked\n"
        )
        print(
            "| viewport height | viewports | features (median) "
            "| Query calls per page median / max "
            "| read amplification (all pages) median / p95 (>=50 features) "
            "| naive amplification median | naive / ours "
            "| first-page handler ms DynamoDB median / p95 "
            "| first-page handler ms SQLite median / p95 |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, lo, hi in [*CLASSES, ("all", 0.0, 9.0)]:
            sel = [r for r in rows if lo <= r["height"] < hi]
            if not sel:
                continue
            big = [r for r in sel if r["returned"] >= 50]
            amp = [r["scanned"] / r["returned"] for r in big]
            namp = [r["naive_scanned"] / max(1, r["naive_returned"]) for r in big]
            ratio = statistics.median(namp) / statistics.median(amp) if amp else float("nan")
            med = statistics.median
            dyn_ms = [r["dynamodb"] for r in sel]
            sql_ms = [r["sqlite"] for r in sel]
            cells = [
                f"{name} ({lo}-{hi} deg)",
                str(len(sel)),
                f"{med(r['returned'] for r in sel):.0f}",
                f"{med(r['calls'] for r in sel):.0f} / {max(r['calls'] for r in sel)}",
                f"{med(amp) if amp else float('nan'):.2f} / {pct(amp, 95):.2f}",
                f"{med(namp) if namp else float('nan'):.1f}",
                f"{ratio:.0f}x",
                f"{med(dyn_ms):.1f} / {pct(dyn_ms, 95):.1f}",
                f"{med(sql_ms):.1f} / {pct(sql_ms, 95):.1f}",
            ]
            print("| " + " | ".join(cells) + " |")
        print(
            f"\nmax Query calls for one page: {max(r['calls'] for r in rows)}; "
            f"Scan calls: {dyn.calls.get('scan', 0)}"
        )
    finally:
        proc.terminate()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
