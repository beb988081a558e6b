"""Viewport (bbox) query latency: Mikrokort's embedded store vs pygeoapi on a GeoPackage.

For each collection size (default 100,000 and 1,000,000 businesses spread like Denmark's towns):
  1. load the businesses into a fresh SQLite store through the Store port (the real write path),
  2. export the same public points to a GeoPackage and serve it with pygeoapi (bench/peer),
  3. pick bboxes that return about 100 and about 1,000 features,
  4. time the same requests over HTTP on 127.0.0.1 against `mikrokort serve` and pygeoapi,
     and in-process against the OGC service (no HTTP).
Also: the import time of app.py in a fresh interpreter. Prints figures; asserts nothing.

    .venv/bin/python bench/bbox_queries.py [--sizes 100000 1000000] [--no-peer]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chalicelib.features.service import FeaturesService  # noqa: E402
from chalicelib.store import FeatureQuery, open_store  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

PEER = ROOT / "bench" / "peer"
REPEATS = 30


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def load_store(db: Path, n: int) -> float:
    from synthetic_dk import businesses

    store = open_store(f"sqlite:///{db}")
    t = time.perf_counter()
    batch = []
    for b in businesses(n):
        batch.append(b)
        if len(batch) == 10_000:
            store.upsert_businesses(batch)
            batch = []
    if batch:
        store.upsert_businesses(batch)
    took = time.perf_counter() - t
    store.close()
    return took


def export_csv(db: Path, out: Path) -> None:
    """The public points and a few fields, as the peer's build_gpkg.py expects."""
    import sqlite3

    with sqlite3.connect(db) as conn, out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lon", "lat", "municipality", "industry_code"])
        for cvr, feature in conn.execute("SELECT cvr, feature FROM businesses WHERE hidden = 0"):
            f = orjson.loads(feature)
            x, y = f["geometry"]["coordinates"]
            p = f["properties"]
            w.writerow([f"{cvr:08d}", p["name"], x, y, p["municipality"], p["industry_code"]])


def pick_bboxes(db: Path, target: int, count: int, seed: int) -> list[tuple[float, ...]]:
    """Square-ish viewports around random businesses, sized to hold about `target` features."""
    store = open_store(f"sqlite:///{db}")
    rng = random.Random(seed)
    import sqlite3

    with sqlite3.connect(db) as conn:
        n = conn.execute("SELECT count(*) FROM businesses").fetchone()[0]
        centres = [
            conn.execute(
                "SELECT lon, lat FROM businesses LIMIT 1 OFFSET ?", (rng.randrange(n),)
            ).fetchone()
            for _ in range(count * 3)
        ]
    out = []
    for lon, lat in centres:
        lo, hi = 0.0005, 1.5
        for _ in range(30):
            half = (lo + hi) / 2
            box = (lon - half * 1.8, lat - half, lon + half * 1.8, lat + half)
            got = store.query("businesses", FeatureQuery(bbox=box, limit=1), count=True)
            matched = got.number_matched or 0
            if abs(matched - target) <= target * 0.1:
                out.append(box)
                break
            if matched > target:
                hi = half
            else:
                lo = half
        if len(out) == count:
            break
    store.close()
    return out


def time_http(url: str, boxes, limit: int, extra: str = "") -> dict:
    """Requests over one keep-alive connection with the stdlib client (little client overhead)."""
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    times, returned = [], []
    for _ in range(max(1, REPEATS // len(boxes))):
        for box in boxes:
            bbox = ",".join(f"{v:.6f}" for v in box)
            t = time.perf_counter()
            conn.request("GET", f"/collections/businesses/items?bbox={bbox}&limit={limit}{extra}")
            resp = conn.getresponse()
            body = resp.read()
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status == 200, body[:300]
            returned.append(len(orjson.loads(body)["features"]))
    conn.close()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "features_median": statistics.median(returned),
        "requests": len(times),
    }


def time_in_process(db: Path, boxes, limit: int) -> dict:
    service = FeaturesService(open_store(f"sqlite:///{db}"))
    times = []
    for _ in range(max(1, REPEATS // len(boxes))):
        for box in boxes:
            req = HttpRequest(
                path="/collections/businesses/items",
                params={"bbox": [",".join(map(str, box))], "limit": [str(limit)]},
                headers={},
                base_url="http://127.0.0.1",
            )
            t = time.perf_counter()
            resp = service.items(req, "businesses")
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status == 200
    return {"median_ms": statistics.median(times), "p95_ms": pct(times, 95)}


def start(cmd: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if ready in line:
            url = next(w for w in line.split() if w.startswith("http://")).rstrip("/")
            return proc, url
    raise RuntimeError(f"{cmd[0]} did not start")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def import_time() -> dict:
    code = "import time; t=time.perf_counter(); import app; print((time.perf_counter()-t)*1000)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(7)
    ]
    return {"median_ms": statistics.median(runs), "min_ms": min(runs), "max_ms": max(runs)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--no-peer", action="store_true", help="skip pygeoapi")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mikrokort-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    peer_python = PEER / ".venv" / "bin" / "python"
    use_peer = not args.no_peer
    if use_peer and not peer_python.exists():
        subprocess.run(["bash", str(PEER / "setup.sh")], check=True)
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "app_import": import_time(),
        "sizes": {},
    }
    print(f"app.py import: {results['app_import']['median_ms']:.0f} ms median", flush=True)
    for n in args.sizes:
        db = work / f"bench-{n}.db"
        row: dict = {}
        if not db.exists():
            row["load_s"] = load_store(db, n)
            print(f"[{n}] loaded in {row['load_s']:.1f} s", flush=True)
        boxes = {t: pick_bboxes(db, t, 10, seed=t) for t in (100, 1000)}
        env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{db}"}
        ours, url = start(
            [str(ROOT / ".venv/bin/mikrokort"), "serve", "--port", "0", "--quiet"],
            env,
            "serving on",
        )
        peer = None
        try:
            requests.get(url + "/collections/businesses/items?limit=1").raise_for_status()
            for target, bxs in boxes.items():
                row[f"mikrokort_http_{target}"] = time_http(url, bxs, 10_000)
                row[f"mikrokort_inproc_{target}"] = time_in_process(db, bxs, 10_000)
            if use_peer:
                csv_path, gpkg = work / f"bench-{n}.csv", work / f"bench-{n}.gpkg"
                if not gpkg.exists():
                    export_csv(db, csv_path)
                    subprocess.run(
                        [
                            sys.executable,
                            str(PEER / "build_gpkg.py"),
                            "--csv",
                            str(csv_path),
                            "--out",
                            str(gpkg),
                        ],
                        check=True,
                        capture_output=True,
                    )
                peer, purl = start(
                    [
                        str(peer_python),
                        str(PEER / "serve.py"),
                        "--gpkg",
                        str(gpkg),
                        "--port",
                        str(free_port()),
                    ],
                    dict(os.environ),
                    "PEER READY",
                )
                for target, bxs in boxes.items():
                    row[f"pygeoapi_http_{target}"] = time_http(purl, bxs, 10_000, "&f=json")
        finally:
            ours.terminate()
            if peer:
                peer.terminate()
        results["sizes"][str(n)] = row
        for key, val in row.items():
            if isinstance(val, dict):
                print(
                    f"[{n}] {key}: "
                    + ", ".join(
                        f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in val.items()
                    ),
                    flush=True,
                )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "bbox_queries.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
