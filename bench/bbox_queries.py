"""Viewport (bbox) query latency: Mikrokort's embedded store vs pygeoapi and tipg, same points.

For each collection size (default 100,000 and 1,000,000 businesses spread like Denmark's towns):
  1. load the businesses into a fresh SQLite store through the Store port (the real write path),
  2. export the same public points to a GeoPackage served by pygeoapi (bench/peer) and to
     PostGIS served by tipg (bench/peer/tipg),
  3. pick bboxes that return about 100 and about 1,000 features,
  4. time the same requests over HTTP on 127.0.0.1 against `mikrokort serve` and the peers
     (interleaved, request by request),
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
from typing import Any
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


ITEMS = "/collections/businesses/items"


def time_http(servers: dict[str, tuple[str, str]], boxes, limit: int) -> dict[str, dict]:
    """The same requests to every server (name -> (base URL, items path with any fixed query)),
    interleaved box by box so that what else the machine does falls on all alike; one
    keep-alive connection each, the stdlib client (little client overhead)."""
    conns = {}
    for who, (url, _) in servers.items():
        parsed = urlsplit(url)
        conns[who] = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
    times: dict[str, list[float]] = {who: [] for who in servers}
    returned: dict[str, list[int]] = {who: [] for who in servers}
    for _ in range(max(1, REPEATS // len(boxes))):
        for box in boxes:
            bbox = ",".join(f"{v:.6f}" for v in box)
            for who, (_, path) in servers.items():
                sep = "&" if "?" in path else "?"
                t = time.perf_counter()
                conns[who].request("GET", f"{path}{sep}bbox={bbox}&limit={limit}")
                resp = conns[who].getresponse()
                body = resp.read()
                times[who].append((time.perf_counter() - t) * 1000)
                assert resp.status == 200, (who, body[:300])
                returned[who].append(len(orjson.loads(body)["features"]))
    for conn in conns.values():
        conn.close()
    return {
        who: {
            "median_ms": statistics.median(times[who]),
            "p95_ms": pct(times[who], 95),
            "features_median": statistics.median(returned[who]),
            "requests": len(times[who]),
        }
        for who in servers
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


def start_pygeoapi(work: Path, db: Path, n: int, peer_python: Path) -> tuple:
    """pygeoapi on a GeoPackage of the store's public points (built once per size)."""
    csv_path, gpkg = work / f"bench-{n}.csv", work / f"bench-{n}.gpkg"
    if not csv_path.exists():
        export_csv(db, csv_path)
    if not gpkg.exists():
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
    return start(
        [str(peer_python), str(PEER / "serve.py"), "--gpkg", str(gpkg), "--port", str(free_port())],
        dict(os.environ),
        "PEER READY",
    )


def start_tipg(work: Path, db: Path, n: int) -> Any:
    """tipg on PostGIS with the same public points (bench/peer/tipg; loaded once per size)."""
    import importlib.util

    csv_path = work / f"bench-{n}.csv"
    if not csv_path.exists():
        export_csv(db, csv_path)
    spec = importlib.util.spec_from_file_location("tipg_peer", PEER / "tipg" / "peer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TipgPeer(work / f"tipg-{n}", csv_path, port=free_port())


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
    ap.add_argument("--no-peer", action="store_true", help="skip pygeoapi and tipg")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mikrokort-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    peer_python = PEER / ".venv" / "bin" / "python"
    use_peer = not args.no_peer
    if use_peer and not peer_python.exists():
        subprocess.run(["bash", str(PEER / "setup.sh")], check=True)
    if use_peer and not (PEER / "tipg" / ".venv" / "bin" / "python").exists():
        subprocess.run(["bash", str(PEER / "tipg" / "setup.sh")], check=True)
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
        peers: list = []
        try:
            requests.get(url + ITEMS + "?limit=1").raise_for_status()
            servers = {"mikrokort": (url, ITEMS)}
            if use_peer:
                purl = start_pygeoapi(work, db, n, peer_python)
                peers.append(purl[0])
                servers["pygeoapi"] = (purl[1], ITEMS + "?f=json")
                tipg = start_tipg(work, db, n)
                peers.append(tipg)
                tipg_url = tipg.start()
                servers["tipg"] = (tipg_url, tipg.features_url.replace(tipg_url, ""))
                row["tipg_load_s"] = tipg.load_seconds
            for target, bxs in boxes.items():
                for who, figures in time_http(servers, bxs, 10_000).items():
                    row[f"{who}_http_{target}"] = figures
                row[f"mikrokort_inproc_{target}"] = time_in_process(db, bxs, 10_000)
        finally:
            ours.terminate()
            for peer in peers:
                peer.stop() if hasattr(peer, "stop") else peer.terminate()
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
