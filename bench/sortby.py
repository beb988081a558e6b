"""`sortby`: what ordering a selection costs, on SQLite and DynamoDB, next to the same
selection unsorted.

A sorted page is made by reading the whole selection in the store's own order, sorting it and
cutting the page (chalicelib/domain/sorting.py), so its cost grows with the selection, not with
the page. For each selection (a municipality of the synthetic country, a ~1,000-feature
viewport) this times the first page and the sixth (five `next` links on) of 100 features,
sorted by `name` and by `-founded,name`, and unsorted, in-process through the OGC service.

    .venv/bin/python bench/sortby.py [--size 100000] [--dynamodb-size 20000] [--repeats 5]
        [--workdir /tmp/mikrokort-bench-cql]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bbox_queries as BQ  # noqa: E402
import cql_viewports as CV  # noqa: E402
import dynamodb_viewports as DV  # noqa: E402

from chalicelib.features.service import FeaturesService  # noqa: E402
from chalicelib.store import open_store  # noqa: E402
from chalicelib.web.http import HttpRequest  # noqa: E402

ORDERS = [("unsorted", None), ("sortby=name", "name"), ("sortby=-founded,name", "-founded,name")]


def _get(service: FeaturesService, params: dict[str, str]) -> tuple[float, dict]:
    req = HttpRequest(
        path="/collections/businesses/items",
        params={k: [v] for k, v in params.items()},
        headers={"user-agent": "bench"},
        base_url="http://127.0.0.1",
    )
    t = time.perf_counter()
    resp = service.items(req, "businesses")
    took = (time.perf_counter() - t) * 1000
    assert resp.status == 200, resp.body[:300]
    return took, orjson.loads(resp.body)


def _next_params(doc: dict) -> dict[str, str] | None:
    hrefs = [link["href"] for link in doc["links"] if link["rel"] == "next"]
    if not hrefs:
        return None
    return {k: v[0] for k, v in parse_qs(urlsplit(hrefs[0]).query).items()}


def time_selection(service: FeaturesService, selection: dict[str, str], repeats: int) -> dict:
    rows = {}
    for label, sortby in ORDERS:
        params = {**selection, "limit": "100", **({"sortby": sortby} if sortby else {})}
        first, sixth, matched = [], [], None
        for _ in range(repeats):
            took, doc = _get(service, params)
            first.append(took)
            matched = doc.get("numberMatched")
            p: dict[str, str] | None = params
            for _ in range(5):
                p = _next_params(doc)
                if p is None:
                    break
                took, doc = _get(service, p)
            if p is not None:
                sixth.append(took)
        rows[label] = {
            "matched": matched,
            "first_ms": statistics.median(first),
            "sixth_ms": statistics.median(sixth) if sixth else None,
        }
    return rows


def show(store_name: str, name: str, rows: dict) -> None:
    for label, r in rows.items():
        sixth = f"{r['sixth_ms']:.1f}" if r["sixth_ms"] is not None else "-"
        print(
            f"| {store_name} | {name} ({r['matched']:,}) | {label} | "
            f"{r['first_ms']:.1f} | {sixth} |"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--dynamodb-size", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/mikrokort-bench-cql"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print("| store | selection (features) | order | first page, ms | sixth page, ms |")
    print("|---|---|---|---|---|")
    db, _ = CV.sqlite_store(args.workdir, args.size, fresh=False)
    box = BQ.pick_bboxes(db, 1000, 1, seed=7)[0]
    selections = {
        "municipality 0101": {"municipality": "0101"},
        "municipality 0376": {"municipality": "0376"},
        "~1,000-feature bbox": {"bbox": ",".join(f"{v:.6f}" for v in box)},
    }
    sqlite = FeaturesService(open_store(f"sqlite:///{db}"))
    for name, selection in selections.items():
        show(f"SQLite {args.size:,}", name, time_selection(sqlite, selection, args.repeats))
    if args.dynamodb_size:
        DV.DYNALITE_DIR = ROOT / "tests" / ".dynalite"
        dynalite, url = DV.start_dynalite()
        try:
            os.environ.update(
                AWS_ENDPOINT_URL_DYNAMODB=url,
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                AWS_DEFAULT_REGION="eu-north-1",
            )
            service, _ = CV.dynamodb_service(args.dynamodb_size)
            for name, selection in selections.items():
                rows = time_selection(service, selection, args.repeats)
                show(f"DynamoDB (dynalite) {args.dynamodb_size:,}", name, rows)
        finally:
            dynalite.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
