"""CQL2-filtered viewport queries: what a filter adds to a bbox request, on SQLite and DynamoDB.

For each collection size (default 100,000 and 1,000,000 synthetic businesses, `synthetic_dk.py`):
  1. load a SQLite store through the Store port (cached in the work folder between runs),
  2. pick the viewports of the plain bbox benchmark (`bbox_queries.py`): ~100 and ~1,000 features,
  3. ask each viewport plain and with three CQL2 text filters (a selective section, a date,
     a LIKE and an IN), plus one filter without a bbox (a municipality and a date),
  4. time the OGC service's `items` in-process and over HTTP against `mikrokort serve`, and
     in-process on a DynamoDB store in a local dynalite (sizes `--dynamodb-sizes`), where the
     filter is tested on each candidate the index reads: items read per item returned shown.
`--dynamodb-subset`: for those DynamoDB sizes, load only the businesses of the N-business set
that the measured requests' Query calls can read (see `subset_for`), and assert that every
measured request answers on that table what the SQLite store of all N answers.
`--gdal`: GDAL's ogr2ogr exporting the demo's businesses to a GeoPackage over OAPIF, timed,
with its HTTP requests counted. Prints figures; asserts only the subset check above.

    .venv/bin/python bench/cql_viewports.py [--sizes 100000 1000000] [--dynamodb-sizes 100000]
        [--dynamodb-subset 1000000] [--requests 200] [--workdir /tmp/mikrokort-bench-cql]
        [--gdal] [--gdal-only]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bbox_queries as BQ  # noqa: E402
import dynamodb_viewports as DV  # noqa: E402

from chalicelib.features.service import FeaturesService  # noqa: E402
from chalicelib.store import open_store  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

MIKROKORT = str(ROOT / ".venv" / "bin" / "mikrokort")
OGR2OGR = "/usr/bin/ogr2ogr"
LIMIT = 10_000  # the whole viewport in one page, as in bbox_queries.py
CASES: list[tuple[str, str | None]] = [
    ("plain bbox", None),
    ("bbox + industry_section = 'F'", "industry_section = 'F'"),
    ("bbox + founded >= DATE('2020-01-01')", "founded >= DATE('2020-01-01')"),
    (
        "bbox + industry_code LIKE '4%' AND employees IN ('1','2-4')",
        "industry_code LIKE '4%' AND employees IN ('1','2-4')",
    ),
]
NO_BBOX = (
    "no bbox: municipality = '0376' AND founded >= DATE('2020-01-01')",
    "municipality = '0376' AND founded >= DATE('2020-01-01')",
)


def param_sets(boxes, cql: str | None) -> list[dict[str, str]]:
    out = []
    for box in boxes or [None]:
        p = {"limit": str(LIMIT)}
        if box is not None:
            p["bbox"] = ",".join(f"{v:.6f}" for v in box)
        if cql is not None:
            p["filter"] = cql
            p["filter-lang"] = "cql2-text"
        out.append(p)
    return out


def summary(times: list[float], returned: list[int], **extra) -> dict:
    return {
        "median_ms": statistics.median(times),
        "p95_ms": BQ.pct(times, 95),
        "features_median": statistics.median(returned),
        "features_min": min(returned),
        "features_max": max(returned),
        "requests": len(times),
        **extra,
    }


def time_in_process(service: FeaturesService, sets: list[dict[str, str]], n: int) -> dict:
    """`n` calls of the service's items, cycling through the parameter sets; on DynamoDB also
    the Query calls and the items read (ScannedCount) per item returned."""
    store = service.store
    counted = hasattr(store, "calls")
    times, returned, calls, scanned, short = [], [], [], [], 0
    for i in range(n):
        p = sets[i % len(sets)]
        req = HttpRequest(
            path="/collections/businesses/items",
            params={k: [v] for k, v in p.items()},
            headers={},
            base_url="http://127.0.0.1",
        )
        if counted:
            store.calls.clear()
        t = time.perf_counter()
        resp = service.items(req, "businesses")
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200, resp.body[:300]
        doc = orjson.loads(resp.body)
        returned.append(len(doc["features"]))
        short += any(link["rel"] == "next" for link in doc["links"])
        if counted:
            calls.append(store.calls["query"])
            scanned.append(store.calls["scanned"])
    extra: dict = {"pages_with_next": short}
    if counted:
        extra["query_calls_median"] = statistics.median(calls)
        extra["query_calls_max"] = max(calls)
        extra["read_per_returned"] = sum(scanned) / max(1, sum(returned))
    return summary(times, returned, **extra)


def time_http(url: str, sets: list[dict[str, str]], n: int) -> dict:
    """Over one keep-alive connection with the stdlib client, to the last byte."""
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    times, returned, short = [], [], 0
    for i in range(n):
        path = "/collections/businesses/items?" + urlencode(sets[i % len(sets)])
        t = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200, body[:300]
        doc = orjson.loads(body)
        returned.append(len(doc["features"]))
        short += any(link["rel"] == "next" for link in doc["links"])
    conn.close()
    return summary(times, returned, pages_with_next=short)


def sqlite_store(work: Path, n: int, fresh: bool) -> tuple[Path, float | None]:
    """The cached store of `n` businesses (a marker file says the load finished)."""
    db, done = work / f"bench-{n}.db", work / f"bench-{n}.done"
    if fresh or not done.exists():
        for f in work.glob(f"bench-{n}.db*"):
            f.unlink()
        done.unlink(missing_ok=True)
        took = BQ.load_store(db, n)
        done.write_text(f"{took:.1f}\n")
        return db, took
    return db, None


def dynamodb_service(n: int, subset: list | None = None) -> tuple[FeaturesService, float]:
    """The same businesses (seed 1, as load_store) in a fresh table on the running dynalite,
    or only `subset` of them (see subset_for)."""
    from synthetic_dk import businesses

    store = open_store(f"dynamodb://bench-cql-{n}{'-subset' if subset is not None else ''}")
    store.create_table()
    rate = DV.load(store, subset if subset is not None else list(businesses(n)))
    return FeaturesService(store), rate


def request_bbox(p: dict[str, str]) -> tuple[float, float, float, float]:
    """The bbox as the service parses it from the request (6 decimals)."""
    minx, miny, maxx, maxy = (float(v) for v in p["bbox"].split(","))
    return minx, miny, maxx, maxy


def subset_for(n: int, db: Path, boxes: dict[int, list]) -> tuple[list, dict]:
    """The businesses of the n-business set (seed 1) that the measured requests can read.

    Each viewport is planned with keys.viewport_plan (the store's own plan): one sort-key range
    Query per strip at one level. A business is kept if, at that level, its strip row lies in
    the rows read (one row of margin each side) and its x code in the ranges' x codes (two
    codes of margin): a superset of every item those Queries read on a table of all n. The
    points are the stored ones (the store moves a business onto its address point, so the
    generator's location is not the indexed one), read from the SQLite store of the same n
    businesses: its lon/lat columns and its public feature's coordinates, which the DynamoDB
    store indexes. The municipality case Queries the by_municipality partition: all of that
    municipality's businesses are kept. No measured Query reads any other item, so each reads
    on this table exactly the items it reads on a table of all n."""
    from synthetic_dk import businesses

    from chalicelib.store.dynamodb.keys import strip_row, viewport_plan, x_code

    windows = []  # (level, first row, last row, first x code, last x code)
    for bxs in boxes.values():
        for p in param_sets(bxs, None):
            level, ranges = viewport_plan(request_bbox(p))
            rows = [r.row for r in ranges]
            xlo = min(int(r.sk_low.split("#")[0]) for r in ranges)
            xhi = max(int(r.sk_high.split("#")[0]) for r in ranges)
            windows.append((level, min(rows) - 1, max(rows) + 1, xlo - 2, xhi + 2))

    def in_window(lon: float, lat: float) -> bool:
        x = x_code(lon)
        return any(
            x0 <= x <= x1 and r0 <= strip_row(lat, level) <= r1 for level, r0, r1, x0, x1 in windows
        )

    municipality = NO_BBOX[1].split("'")[1].lstrip("0")
    keep: set[str] = set()
    by_reason = {"viewports": 0, "municipality": 0}
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT cvr, lon, lat, municipality, feature FROM businesses")
        for cvr, lon, lat, muni, feature in rows:
            hit_v = lon is not None and in_window(lon, lat)
            if not hit_v and feature is not None:
                geom = orjson.loads(feature).get("geometry")
                hit_v = geom is not None and in_window(*geom["coordinates"][:2])
            hit_m = (muni or "").lstrip("0") == municipality
            if hit_v or hit_m:
                keep.add(str(cvr))
                by_reason["viewports"] += hit_v
                by_reason["municipality"] += hit_m
    kept = [b for b in businesses(n) if b.id in keep]
    assert len(kept) == len(keep)
    return kept, {"windows": len(windows), "kept": len(kept), "of": n, **by_reason}


def answer(service: FeaturesService, p: dict[str, str]) -> tuple[list[str], int | None, bool]:
    req = HttpRequest(
        path="/collections/businesses/items",
        params={k: [v] for k, v in p.items()},
        headers={},
        base_url="http://127.0.0.1",
    )
    resp = service.items(req, "businesses")
    assert resp.status == 200, resp.body[:300]
    doc = orjson.loads(resp.body)
    ids = sorted(str(f["id"]) for f in doc["features"])
    return ids, doc.get("numberMatched"), any(x["rel"] == "next" for x in doc["links"])


def check_subset(dyn: FeaturesService, sql: FeaturesService, boxes: dict[int, list]) -> int:
    """Every measured request: ids and numberMatched on the subset table = SQLite on all n."""
    sets = [p for bxs in boxes.values() for _, cql in CASES for p in param_sets(bxs, cql)]
    sets += param_sets(None, NO_BBOX[1])
    for p in sets:
        d_ids, d_matched, d_next = answer(dyn, p)
        s_ids, s_matched, s_next = answer(sql, p)
        assert not d_next and not s_next, f"a short page, cannot compare: {p}"
        assert d_ids == s_ids, f"subset answers {len(d_ids)} ids, SQLite {len(s_ids)}: {p}"
        assert d_matched == s_matched, f"numberMatched {d_matched} != {s_matched}: {p}"
    return len(sets)


def run_cases(name: str, fn, boxes: dict[int, list], n_requests: int, row: dict) -> None:
    for target, bxs in boxes.items():
        for label, cql in CASES:
            key = f"{name}|{target}|{label}"
            row[key] = fn(param_sets(bxs, cql), n_requests)
            show(row, key)
    key = f"{name}|-|{NO_BBOX[0]}"
    row[key] = fn(param_sets(None, NO_BBOX[1]), n_requests)
    show(row, key)


def show(row: dict, key: str) -> None:
    r = row[key]
    extra = ""
    if "read_per_returned" in r:
        extra = (
            f", Query calls {r['query_calls_median']:.0f}/{r['query_calls_max']}, "
            f"read/returned {r['read_per_returned']:.2f}"
        )
    print(
        f"  {key}: {r['median_ms']:.2f} / {r['p95_ms']:.2f} ms, features {r['features_median']:.0f}"
        f" ({r['features_min']}-{r['features_max']}), next links {r['pages_with_next']}{extra}",
        flush=True,
    )


def table(results: dict) -> str:
    """One markdown row per size, viewport and case: every path side by side."""
    head = (
        "| businesses | viewport | query | features returned (median) "
        "| SQLite in-process ms median / p95 | SQLite HTTP ms median / p95 "
        "| DynamoDB in-process ms median / p95 | DynamoDB Query calls median / max "
        "| DynamoDB items read per item returned |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for n, row in results["sizes"].items():
        targets = [(str(t), label) for t in (100, 1000) for label, _ in CASES]
        for target, label in [*targets, ("-", NO_BBOX[0])]:
            sq, sh, dy = (
                row.get(f"{name}|{target}|{label}")
                for name in ("sqlite_inproc", "sqlite_http", "dynamodb_inproc")
            )
            feats = f"{sq['features_median']:,.0f}" if sq else "-"
            if dy and sq and dy["features_median"] != sq["features_median"]:
                feats += f" (DynamoDB {dy['features_median']:,.0f})"
            view = {"100": "~100", "1000": "~1,000", "-": "none"}[target]

            def ms(r: dict | None) -> str:
                return f"{r['median_ms']:.1f} / {r['p95_ms']:.1f}" if r else "-"

            lines.append(
                "| "
                + " | ".join(
                    [
                        f"{int(n):,}",
                        view,
                        f"`{label}`" if label.startswith("no bbox") else label,
                        feats,
                        ms(sq),
                        ms(sh),
                        ms(dy),
                        f"{dy['query_calls_median']:.0f} / {dy['query_calls_max']}" if dy else "-",
                        f"{dy['read_per_returned']:.2f}" if dy else "-",
                    ]
                )
                + " |"
            )
    return head + "\n".join(lines)


# -- GDAL ----------------------------------------------------------------------------------------


def gdal_export(folder: Path = Path("/tmp/benchgdal"), repeats: int = 3) -> dict:
    """ogr2ogr from the demo store's OAPIF to a GeoPackage: wall time and HTTP requests."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{folder / 'm.db'}"}
    t = time.perf_counter()
    subprocess.run([MIKROKORT, "seed", "--demo"], env=env, check=True, capture_output=True)
    out: dict = {"seed_s": time.perf_counter() - t}
    version = subprocess.run([OGR2OGR, "--version"], capture_output=True, text=True).stdout
    out["gdal"] = version.strip()
    port = BQ.free_port()
    server, url = BQ.start([MIKROKORT, "serve", "--port", str(port), "--quiet"], env, "serving on")
    try:
        for label, opts in [
            ("default options", []),
            ("-oo PAGE_SIZE=1000", ["-oo", "PAGE_SIZE=1000"]),
        ]:
            gpkg = folder / "out.gpkg"
            cmd = [OGR2OGR, "-f", "GPKG", str(gpkg), f"OAPIF:{url}/", "businesses", *opts]
            walls = []
            for _ in range(repeats):  # timed without --debug (its logging costs time too)
                gpkg.unlink(missing_ok=True)
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                walls.append(time.perf_counter() - t)
            gpkg.unlink(missing_ok=True)
            proc = subprocess.run([*cmd, "--debug", "on"], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr[-2000:]
            fetches = [ln for ln in proc.stderr.splitlines() if "HTTP: Fetch(" in ln]
            with sqlite3.connect(gpkg) as conn:
                features = conn.execute("SELECT count(*) FROM businesses").fetchone()[0]
            out[label] = {
                "command": " ".join(cmd).replace(str(folder) + "/", "").replace(url, "<server>"),
                "wall_s_median": statistics.median(walls),
                "wall_s_all": [round(w, 2) for w in walls],
                "http_requests": len(fetches),
                "items_requests": sum("/items" in ln for ln in fetches),
                "features": features,
            }
            r = out[label]
            print(
                f"ogr2ogr {label}: {r['wall_s_median']:.2f} s median of {r['wall_s_all']}, "
                f"{r['http_requests']} HTTP requests ({r['items_requests']} of items), "
                f"{r['features']} features",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--dynamodb-sizes",
        type=int,
        nargs="*",
        default=[100_000],
        help="sizes also loaded into dynalite (about 500 items/s: 1,000,000 takes over 30 min)",
    )
    ap.add_argument(
        "--dynamodb-subset",
        type=int,
        nargs="*",
        default=[],
        help="DynamoDB sizes loaded as the subset the measured requests read (implies the size "
        "in --dynamodb-sizes); each request's answer is asserted equal to SQLite's on all N",
    )
    ap.add_argument("--requests", type=int, default=200, help="requests per case and path")
    ap.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "mikrokort-bench-cql"
    )
    ap.add_argument("--fresh", action="store_true", help="reload the cached SQLite stores")
    ap.add_argument("--gdal", action="store_true", help="also time ogr2ogr on the demo store")
    ap.add_argument("--gdal-only", action="store_true", help="only the ogr2ogr export")
    args = ap.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        "requests_per_case": args.requests,
        "sizes": {},
    }
    if args.gdal or args.gdal_only:
        results["gdal"] = gdal_export()
    if args.gdal_only:
        print(json.dumps(results, indent=2))
        return 0
    dynalite = None
    args.dynamodb_sizes = [*args.dynamodb_sizes, *args.dynamodb_subset]
    if any(n in args.dynamodb_sizes for n in args.sizes):
        DV.DYNALITE_DIR = ROOT / "tests" / ".dynalite"  # the test suite's install
        dynalite, dyn_url = DV.start_dynalite()
        os.environ.update(
            AWS_ENDPOINT_URL_DYNAMODB=dyn_url,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="eu-north-1",
        )
    try:
        for n in args.sizes:
            row: dict = {}
            db, took = sqlite_store(work, n, args.fresh)
            if took is not None:
                row["sqlite_load_s"] = took
                print(f"[{n}] SQLite loaded in {took:.1f} s", flush=True)
            boxes = {t: BQ.pick_bboxes(db, t, 10, seed=t) for t in (100, 1000)}
            row["boxes"] = {str(t): b for t, b in boxes.items()}
            print(f"[{n}] viewports: {', '.join(f'{len(b)} of ~{t}' for t, b in boxes.items())}")
            sql = FeaturesService(open_store(f"sqlite:///{db}"))
            run_cases("sqlite_inproc", partial(time_in_process, sql), boxes, args.requests, row)
            env = {**os.environ, "MIKROKORT_STORE": f"sqlite:///{db}"}
            server, url = BQ.start(
                [MIKROKORT, "serve", "--port", "0", "--quiet"], env, "serving on"
            )
            try:
                time_http(url, param_sets(None, None), 3)  # warm the server's connections
                run_cases("sqlite_http", partial(time_http, url), boxes, args.requests, row)
            finally:
                server.terminate()
                server.wait()
            if n in args.dynamodb_sizes:
                subset = None
                if n in args.dynamodb_subset:
                    t = time.perf_counter()
                    subset, info = subset_for(n, db, boxes)
                    row["dynamodb_subset"] = {**info, "select_s": time.perf_counter() - t}
                    print(f"[{n}] DynamoDB subset: {row['dynamodb_subset']}", flush=True)
                t = time.perf_counter()
                dyn, rate = dynamodb_service(n, subset)
                row["dynamodb_load_s"] = time.perf_counter() - t
                row["dynamodb_load_items_per_s"] = rate
                print(f"[{n}] dynalite loaded in {row['dynamodb_load_s']:.0f} s ({rate:.0f}/s)")
                if subset is not None:
                    checked = check_subset(dyn, sql, boxes)
                    row["dynamodb_subset"]["requests_checked"] = checked
                    print(f"[{n}] subset answers = SQLite's on all {n:,}: {checked} requests")
                run_cases(
                    "dynamodb_inproc",
                    partial(time_in_process, dyn),
                    boxes,
                    args.requests,
                    row,
                )
            results["sizes"][str(n)] = row
            (work / "cql_viewports.json").write_text(json.dumps(results, indent=2))
    finally:
        if dynalite is not None:
            dynalite.terminate()
            dynalite.wait()
    print()
    print(results["machine"], f"; {args.requests} requests per case and path")
    print(table(results))
    print(f"\nfigures: {work / 'cql_viewports.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
