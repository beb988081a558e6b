"""Map tiles (OGC API - Tiles, Mapbox Vector Tiles): Mikrokort's embedded store vs tipg on PostGIS.

For each collection size (default 100,000 and 1,000,000 businesses spread like Denmark's towns):
  1. load the businesses into a fresh SQLite store through the Store port (the real write path;
     the store of bench/bbox_queries.py is reused when the same --workdir holds it),
  2. export the same public points to PostGIS and serve them with tipg (bench/peer/tipg),
  3. ask every tile that covers 101 København at zoom 8, 10, 12 and 14, those of its inner
     city at zoom 16, and every tile that covers Denmark at zoom 6 and 7, over HTTP on
     127.0.0.1 from both servers (requests interleaved, one keep-alive connection each, time
     to the last byte), and in-process from the tile service (no HTTP), also filtered by a
     section, by the municipality (the map's filters) and by a 6-digit industry code,
  4. report per zoom: median and p95 time per tile, the largest tile plain and gzipped, the
     features per tile, and for Mikrokort whether the zoom-6 cluster counts add up to the
     placed public businesses (every business in exactly one tile).
Figures only; nothing is asserted.

    .venv/bin/python bench/tiles.py [--sizes 100000 1000000] [--no-peer] [--workdir DIR] [--cache]

Without --cache every request draws its tile (MIKROKORT_TILE_CACHE=off), as tipg does; with
it, the timed requests after the first pass are hits of the tile cache.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mapbox_vector_tile
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bbox_queries import export_csv, free_port, load_store, pct, start  # noqa: E402

from chalicelib.blobs.local import LocalBlobs  # noqa: E402
from chalicelib.store import open_store  # noqa: E402
from chalicelib.tiles.cache import TileCache  # noqa: E402
from chalicelib.tiles.service import TilesService  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

TIPG = ROOT / "bench" / "peer" / "tipg"
OURS = "/collections/businesses/tiles/WebMercatorQuad/{z}/{y}/{x}"
DENMARK = (8.0, 54.55, 15.2, 57.76)  # lon/lat box of the country, Bornholm included
KBH_CENTRE = (12.55, 55.67, 12.59, 55.69)  # Indre By, about 2.5 x 2 km
MIN_REQUESTS = 24  # each zoom is asked at least this often (tiles repeated round-robin)


def tile_range(box: tuple[float, ...], z: int) -> list[tuple[int, int, int]]:
    """Every (z, y, x) tile of WebMercatorQuad that a lon/lat box touches."""

    def col(lon: float) -> int:
        return math.floor((lon + 180.0) / 360.0 * (1 << z))

    def row(lat: float) -> int:
        s = math.sin(math.radians(lat))
        return math.floor((0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * (1 << z))

    west, south, east, north = box
    return [
        (z, y, x)
        for y in range(row(north), row(south) + 1)
        for x in range(col(west), col(east) + 1)
    ]


def municipality_box(kommunekode: str) -> tuple[float, float, float, float]:
    from shapely.geometry import shape

    doc = orjson.loads((ROOT / "chalicelib/data/dk_kommuner_dagi2014_wgs84.geojson").read_bytes())
    for f in doc["features"]:
        if f["properties"].get("kommunekode") == kommunekode:
            return shape(f["geometry"]).bounds
    raise SystemExit(f"no municipality {kommunekode} in the boundaries")


def tile_sets() -> dict[str, list[tuple[int, int, int]]]:
    kbh = municipality_box("0101")
    sets = {f"101 København, zoom {z}": tile_range(kbh, z) for z in (8, 10, 12, 14)}
    # the inner city at street zoom, where tiles turn from clusters to points
    sets["101 København centre, zoom 16"] = tile_range(KBH_CENTRE, 16)
    sets.update({f"Denmark, zoom {z}": tile_range(DENMARK, z) for z in (6, 7)})
    return sets


def features_in(body: bytes) -> tuple[int, int]:
    """(MVT features, businesses they stand for: a cluster's `count`, or 1 a point)."""
    layers = mapbox_vector_tile.decode(body) if body else {}
    n = businesses = 0
    for layer in layers.values():
        for f in layer["features"]:
            n += 1
            businesses += int(f["properties"].get("count", 1))
    return n, businesses


class Client:
    """One keep-alive connection; `get` returns (ms to the last byte, status, body)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        self.prefix = parts.path.rstrip("/")

    def get(self, path: str, gzip_ok: bool = False) -> tuple[float, int, bytes]:
        headers = {"Accept-Encoding": "gzip" if gzip_ok else "identity"}
        t = time.perf_counter()
        try:
            self.conn.request("GET", self.prefix + path, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # an idle keep-alive connection the server closed (uvicorn after 5 s): once more
            self.conn.close()
            t = time.perf_counter()
            self.conn.request("GET", self.prefix + path, headers=headers)
            resp = self.conn.getresponse()
        body = resp.read()
        return (time.perf_counter() - t) * 1000, resp.status, body

    def close(self) -> None:
        self.conn.close()


def schedule(tiles: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    rounds = max(1, math.ceil(MIN_REQUESTS / len(tiles)))
    return [t for _ in range(rounds) for t in tiles]


def summary(times: list[float], sizes: list[int], gz: list[int], counts: list[int]) -> dict:
    return {
        "tiles": len(sizes),
        "requests": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "max_kb": max(sizes) / 1000,
        "median_kb": statistics.median(sizes) / 1000,
        "max_gzip_kb": max(gz) / 1000,
        "features_per_tile_max": max(counts),
    }


def first_pass(
    client: Client, template: str, tiles: list[tuple[int, int, int]]
) -> tuple[dict[tuple[int, int, int], bytes], list[int]]:
    """Each tile once plain and once gzipped: the bodies, and the gzip sizes on the wire."""
    bodies: dict[tuple[int, int, int], bytes] = {}
    gz_sizes: list[int] = []
    for z, y, x in tiles:
        _, status, body = client.get(template.format(z=z, y=y, x=x))
        if status not in (200, 204):
            raise RuntimeError(f"{template} {z}/{y}/{x}: {status} {body[:200]!r}")
        bodies[(z, y, x)] = body if status == 200 else b""
        _, _, coded = client.get(template.format(z=z, y=y, x=x), gzip_ok=True)
        gz_sizes.append(len(coded))
    return bodies, gz_sizes


def measure_http(
    clients: dict[str, tuple[Client, str]], tiles: list[tuple[int, int, int]]
) -> tuple[dict[str, dict], dict[str, dict[tuple[int, int, int], bytes]]]:
    """Every server's tiles, the timed requests interleaved: tile by tile, server by server,
    so that whatever else the machine does falls on both alike."""
    passes = {who: first_pass(c, t, tiles) for who, (c, t) in clients.items()}
    times: dict[str, list[float]] = {who: [] for who in clients}
    for z, y, x in schedule(tiles):
        for who, (client, template) in clients.items():
            ms, _, _ = client.get(template.format(z=z, y=y, x=x))
            times[who].append(ms)
    out = {}
    for who, (bodies, gz_sizes) in passes.items():
        counts = [features_in(b)[0] for b in bodies.values()]
        sizes = [len(b) for b in bodies.values()]
        out[who] = summary(times[who], sizes, gz_sizes, counts)
    return out, {who: bodies for who, (bodies, _) in passes.items()}


def measure_in_process(
    service: TilesService,
    tiles: list[tuple[int, int, int]],
    params: dict[str, list[str]] | None = None,
) -> dict:
    times = []
    # with a cache, a first pass fills it, as the HTTP measure's first pass does
    warm = [(t, False) for t in tiles] if service.cache is not None else []
    for (z, y, x), timed in [*warm, *((t, True) for t in schedule(tiles))]:
        req = HttpRequest(
            path="/tile", params=params or {}, headers={}, base_url="http://127.0.0.1"
        )
        t = time.perf_counter()
        resp = service.tile(req, "businesses", "WebMercatorQuad", str(z), str(y), str(x))
        if timed:
            times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200
    return {"median_ms": statistics.median(times), "p95_ms": pct(times, 95)}


def load_tipg() -> Any:
    spec = importlib.util.spec_from_file_location("tipg_peer", TIPG / "peer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TipgPeer


def placed_public(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM businesses WHERE hidden = 0 AND lon IS NOT NULL"
        ).fetchone()[0]


def run_size(n: int, work: Path, use_peer: bool, cache: bool) -> dict:
    db = work / f"bench-{n}.db"
    row: dict[str, Any] = {}
    if not db.exists():
        row["load_s"] = load_store(db, n)
        print(f"[{n}] loaded in {row['load_s']:.1f} s", flush=True)
    row["placed_public"] = placed_public(db)
    # drawn tiles (the cache off: every request draws its tile, as tipg does), or with the tile
    # cache in a fresh folder: after the first pass every timed request is a cache hit
    blobs = Path(tempfile.mkdtemp(prefix="mikrokort-tile-cache-"))
    env = {
        **os.environ,
        "MIKROKORT_STORE": f"sqlite:///{db}",
        "MIKROKORT_TILE_CACHE": "on" if cache else "off",
        "MIKROKORT_BLOBS": str(blobs),
    }
    ours, url = start(
        [str(ROOT / ".venv/bin/mikrokort"), "serve", "--port", "0", "--quiet"], env, "serving on"
    )
    peer = None
    try:
        clients = {"mikrokort": (Client(url), OURS)}
        if use_peer:
            csv_path = work / f"bench-{n}.csv"
            if not csv_path.exists():
                export_csv(db, csv_path)
            peer = load_tipg()(work / f"tipg-{n}", csv_path, port=free_port())
            peer_url = peer.start()
            row["tipg_load_s"] = peer.load_seconds
            template = peer.tile_url_template.replace(peer_url, "")
            clients["tipg"] = (Client(peer_url), template)
        service = TilesService(
            open_store(f"sqlite:///{db}"),
            TileCache(LocalBlobs(str(blobs / "in-process"))) if cache else None,
        )
        for name, tiles in tile_sets().items():
            entry: dict[str, Any]
            entry, bodies = measure_http(clients, tiles)
            if name.startswith("Denmark, zoom 6"):
                for who, mine in bodies.items():
                    entry[who]["businesses_in_tiles"] = sum(
                        features_in(b)[1] for b in mine.values()
                    )
            entry["mikrokort_in_process"] = measure_in_process(service, tiles)
            # the map's own filters (a section, a municipality) are read from the pyramid; a
            # 6-digit code is counted from the selection's rows in the tile
            for key, params in (
                ("industry_F", {"industry": ["F"]}),
                ("municipality_101", {"municipality": ["101"]}),
                ("industry_433200", {"industry": ["433200"]}),
            ):
                entry[f"mikrokort_in_process_{key}"] = measure_in_process(service, tiles, params)
            row[name] = entry
            print(f"[{n}] {name}: {json.dumps(entry)}", flush=True)
        for client, _ in clients.values():
            client.close()
    finally:
        ours.terminate()
        if peer is not None:
            peer.stop()
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--no-peer", action="store_true", help="skip tipg")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--cache", action="store_true", help="with the tile cache on (timed requests are hits)"
    )
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mikrokort-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_peer and not (TIPG / ".venv" / "bin" / "python").exists():
        import subprocess

        subprocess.run(["bash", str(TIPG / "setup.sh")], check=True)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "tile_cache": args.cache,
        "sizes": {str(n): run_size(n, work, not args.no_peer, args.cache) for n in args.sizes},
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = "tiles-cached.json" if args.cache else "tiles.json"
    (out / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
