"""What a month of Mikrokort costs on AWS: one municipality, and all 98 (in one stack or in 98).

    .venv/bin/python bench/aws_cost.py [--markdown] [--businesses 10000] [--page-views 20000]

Computed, not guessed at the end: from stated assumptions (requests per month per route, the
refresh's nightly changes, the snapshot, downloads) and from item sizes measured on items the
store's own code builds (`business_item` on synthetic businesses: the table item, and the
entry each of the 9 indexes keeps of it, with DynamoDB's size rules and 100 bytes of
overhead per stored item). DynamoDB reads are billed per 4 KB read (half a unit when
eventually consistent, which every index query is), writes per 1 KB written, and an update
writes every index entry again.

Prices: AWS list prices of us-east-1 in USD, as published in January 2025 (after DynamoDB's
on-demand price cut of November 2024), without free tiers, taxes or support plans. They were
not re-checked for this estimate. The EU regions a municipality would choose (eu-north-1,
eu-central-1, eu-west-1) list most of these services 0-20 % higher: `--region-factor 1.2`
gives the upper end. Check the current figures in the AWS Pricing Calculator before a budget
is set. Figures are in docs/OPERATIONS.md.
"""

from __future__ import annotations

import argparse
import base64
import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRICES_AS_OF = "January 2025"
PRICES_REGION = "us-east-1"

# USD; per the unit named
PRICE = {
    "apigw_request": 3.50 / 1e6,  # REST API, first 333 million a month
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s": 0.0000166667,  # x86
    "ddb_rru": 0.125 / 1e6,  # on-demand read request unit
    "ddb_wru": 0.625 / 1e6,  # on-demand write request unit
    "ddb_gb_month": 0.25,  # standard table class
    "ddb_pitr_gb_month": 0.20,  # continuous backups (point-in-time recovery)
    "s3_gb_month": 0.023,  # Standard
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "transfer_out_gb": 0.09,  # to the internet, first 10 TB a month
    "logs_ingest_gb": 0.50,
    "logs_store_gb_month": 0.03,
    "alarm_metric": 0.10,  # per metric of a standard-resolution alarm, a month
    "custom_metric": 0.30,  # the metric filter's count, a month
    "secret_month": 0.40,
    "waf_acl_month": 5.00,
    "waf_rule_month": 1.00,
    "waf_request": 0.60 / 1e6,
    "sqs_request": 0.40 / 1e6,
}

GB = 1024**3
DAYS = 30.4  # days in an average month


@dataclass(frozen=True)
class Route:
    """A month of one route: how often, how long the function runs, what it reads and sends."""

    name: str
    requests: float
    seconds: float  # the API function's duration at 1024 MB
    index_items_read: float = 0  # index entries read per request (Query)
    table_items_read: float = 0  # table items read per request (GetItem, BatchGetItem)
    small_reads: float = 0  # reads of small items (under 4 KB: counters, records) per request
    writes_wru: float = 0  # write units per request (admin and self-registration)
    bytes_out: float = 0  # response bytes per request, gzipped, on average
    s3_gets: float = 0


@dataclass(frozen=True)
class Workload:
    """The assumptions. Defaults: an average municipality (1,000,000 registered businesses in
    Denmark's 98 municipalities, as in bench/synthetic_dk.py) with a map widget on the
    municipality's business pages."""

    businesses: int = 10_000
    municipalities: int = 1
    page_views: int = 20_000  # widget page views a month, each municipality
    changed_per_night: float = 0.01  # share of a municipality's businesses changed each night
    # the incremental query reads the whole country's changes (a company that moved out must
    # be seen): register documents read by each nightly run
    register_docs_per_night: int = 10_000
    refresh_docs_per_second: float = 800  # bench: 795/s on DynamoDB (docs/BENCHMARKS.md)
    hourly_runs: int = 6  # 00:15-05:15; the runs after the night's finished one rest (~1 s)
    published_share: float = 0.65  # active and not reklamebeskyttet (bench/snapshot.py)
    snapshot_bytes_per_business: float = 961  # 486 MB of files for 505,617 (BENCHMARKS.md)
    snapshot_years_kept: int = 3
    downloads: int = 100  # whole snapshot downloads a month, each municipality
    log_bytes_per_request: float = 650  # Lambda's START/END/REPORT lines and an access log line
    region_factor: float = 1.0
    stacks: int = 1
    routes: tuple[Route, ...] = field(default=())


@dataclass(frozen=True)
class Sizes:
    """Measured on items built by the store's own code."""

    table_item: float  # bytes of a business item as DynamoDB counts them (for reads)
    index_entry: float  # bytes of one index entry (keys and projected attributes)
    map_data_gz_per_business: float = 25  # 123 KB gzipped for 5,000 (BENCHMARKS.md)
    feature_gz: float = 180  # one feature in a GeoJSON page, gzipped


def _value_size(value: dict) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "B":
        return len(v) if isinstance(v, bytes) else len(base64.b64decode(v))
    if kind == "N":
        digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "BOOL":
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    raise ValueError(kind)


def _size(item: dict[str, dict]) -> int:
    """DynamoDB's size of an item: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(v) for name, v in item.items())


def measure_sizes(sample: int = 400) -> Sizes:
    """Mean sizes of the table item and an index entry of synthetic businesses."""
    from chalicelib.demo.generate import generate_businesses
    from chalicelib.store.dynamodb.items import business_item
    from chalicelib.store.dynamodb.schema import INDEXES, PROJECTED

    table, entries = [], []
    for b in generate_businesses(sample, seed=2025):
        item = business_item(b, 1)
        table.append(_size(item))
        for pk, sk in INDEXES.values():
            if pk not in item:
                continue
            keep = {"pk", "sk", pk, sk, *PROJECTED}
            entries.append(_size({k: v for k, v in item.items() if k in keep}))
    return Sizes(table_item=sum(table) / len(table), index_entry=sum(entries) / len(entries))


def default_routes(w: Workload, s: Sizes) -> tuple[Route, ...]:
    """Requests a month for one municipality, from its widget page views."""
    v, n = w.page_views, w.businesses
    return (
        # every map-data request reads all the municipality's active businesses from the
        # index (a 304 too: its ETag comes from the pages); browsers keep it 5 minutes
        Route(
            "map data",
            v,
            seconds=0.1 + 0.05 * n / 5000,
            index_items_read=n * 0.9,
            small_reads=2,
            bytes_out=n * s.map_data_gz_per_business * 0.6,
        ),
        Route("widget script and style", 2 * v, seconds=0.01, bytes_out=30_000 * 0.5),
        Route(
            "items pages (list view, GIS clients)",
            v / 2,
            seconds=0.15,
            index_items_read=110,
            small_reads=1,
            bytes_out=100 * s.feature_gz,
        ),
        Route("single items", v / 2, seconds=0.03, table_items_read=1, bytes_out=1_000),
        Route("search", v / 5, seconds=0.1, index_items_read=60, bytes_out=20 * s.feature_gz),
        Route("matches", v / 20, seconds=0.2, index_items_read=400, bytes_out=6_000),
        Route("landing, collections, OpenAPI", v / 4, seconds=0.02, small_reads=1, bytes_out=8_000),
        Route("barometer, snapshot list", v / 20, seconds=0.05, s3_gets=2, bytes_out=10_000),
        Route("admin API, self-registration", 300, seconds=0.05, small_reads=3, writes_wru=6),
    )


@dataclass
class Line:
    service: str
    what: str
    quantity: float
    unit: str
    usd: float


def _rru(items: float, size: float) -> float:
    """Read units of reading `items` items of `size` bytes in pages (eventually consistent)."""
    return items * size / 4096 * 0.5


def monthly(w: Workload, s: Sizes) -> list[Line]:
    """The month's cost lines of `w.stacks` stacks covering `w.municipalities` in all."""
    p = {k: v * w.region_factor for k, v in PRICE.items()}
    routes = w.routes or default_routes(w, s)
    m, stacks = w.municipalities, w.stacks
    lines: list[Line] = []

    def add(service: str, what: str, quantity: float, unit: str, price: float) -> None:
        lines.append(Line(service, what, quantity, unit, quantity * price))

    requests = sum(r.requests for r in routes) * m
    add("API Gateway", "REST requests", requests, "requests", p["apigw_request"])
    gb_out = sum(r.requests * r.bytes_out for r in routes) * m / GB
    add("API Gateway", "data out", gb_out, "GB", p["transfer_out_gb"])
    add("AWS WAF", "web ACL", stacks, "web ACLs", p["waf_acl_month"])
    add("AWS WAF", "rate rule", stacks, "rules", p["waf_rule_month"])
    add("AWS WAF", "requests inspected", requests, "requests", p["waf_request"])

    # the refresh: each stack reads the night's national changes; each municipality's
    # changed businesses are written with every index entry
    night_seconds = w.register_docs_per_night / w.refresh_docs_per_second + w.hourly_runs
    job_gb_s = night_seconds * DAYS * stacks
    snapshot_seconds = w.businesses * m / 5000  # bench: 10,000 per second on S3, halved
    job_gb_s += snapshot_seconds / 12
    api_gb_s = sum(r.requests * r.seconds for r in routes) * m
    invocations = requests + (w.hourly_runs * DAYS * stacks)
    add("Lambda", "invocations", invocations, "requests", p["lambda_request"])
    add("Lambda", "API function, 1 GB", api_gb_s, "GB-s", p["lambda_gb_s"])
    add("Lambda", "refresh and snapshot, 1 GB", job_gb_s, "GB-s", p["lambda_gb_s"])

    reads = sum(
        r.requests
        * (
            _rru(r.index_items_read, s.index_entry)
            + r.table_items_read * 0.5 * math.ceil(s.table_item / 4096)
            + r.small_reads * 0.5
        )
        for r in routes
    )
    reads *= m
    changed = w.businesses * w.changed_per_night * m * DAYS
    # the refresh reads the stored item of each register document in its area, 100 at a time
    in_area = w.register_docs_per_night * DAYS * (m * w.businesses / 1_000_000)
    reads += in_area * 0.5 * math.ceil(s.table_item / 4096)
    reads += _rru(w.businesses * m, s.table_item) / 12  # the yearly snapshot's full read
    add("DynamoDB", "reads (on demand)", reads, "RRU", p["ddb_rru"])
    entries = len(_index_names())
    wru_per_change = math.ceil(s.table_item / 1024) + entries * math.ceil(s.index_entry / 1024)
    writes = changed * wru_per_change + sum(r.requests * r.writes_wru for r in routes) * m
    writes += DAYS * 30 * stacks  # checkpoints, run reports, geocoder cache entries
    add("DynamoDB", "writes (on demand)", writes, "WRU", p["ddb_wru"])
    table_gb = w.businesses * m * (s.table_item + 100) / GB
    index_gb = w.businesses * m * entries * (s.index_entry + 100) / GB
    add("DynamoDB", "storage, table and indexes", table_gb + index_gb, "GB", p["ddb_gb_month"])
    add("DynamoDB", "point-in-time recovery", table_gb, "GB", p["ddb_pitr_gb_month"])

    year_gb = w.businesses * m * w.published_share * w.snapshot_bytes_per_business / GB
    add(
        "S3",
        "snapshots kept (all versions)",
        year_gb * w.snapshot_years_kept,
        "GB",
        p["s3_gb_month"],
    )
    # each municipality's files are downloaded whole `downloads` times
    add("S3", "snapshot downloads", w.downloads * year_gb, "GB", p["transfer_out_gb"])
    gets = sum(r.requests * r.s3_gets for r in routes) * m + w.downloads * m * 17
    add("S3", "GET requests", gets, "requests", p["s3_get"])
    puts = (17 + year_gb * GB / (8 * 1024**2)) / 12 + gets / 100  # snapshot parts, access logs
    add("S3", "PUT requests (snapshot, access logs)", puts, "requests", p["s3_put"])

    log_gb = invocations * w.log_bytes_per_request / GB
    add("CloudWatch", "log ingestion", log_gb, "GB", p["logs_ingest_gb"])
    add("CloudWatch", "log storage (90 days)", log_gb * 3, "GB", p["logs_store_gb_month"])
    add("CloudWatch", "alarms (9 metrics)", 9 * stacks, "alarm metrics", p["alarm_metric"])
    add("CloudWatch", "throttled-requests metric", stacks, "metrics", p["custom_metric"])
    add("Secrets Manager", "3 secrets", 3 * stacks, "secrets", p["secret_month"])
    add("SQS, SNS", "dead letters, alarm mails", 0, "", 0.0)
    return lines


def _index_names() -> list[str]:
    from chalicelib.store.dynamodb.schema import INDEXES

    return list(INDEXES)


SCENARIOS = {
    "one municipality": {"municipalities": 1, "stacks": 1},
    "all 98, one stack": {"municipalities": 98, "stacks": 1},
    "all 98, a stack each": {"municipalities": 98, "stacks": 98},
}


def _fmt(x: float) -> str:
    if x == 0:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def render(w: Workload, s: Sizes, *, markdown: bool) -> str:
    out = [
        f"Prices: {PRICES_REGION} list prices, {PRICES_AS_OF}, USD, x{w.region_factor} "
        "(no free tier, no tax)",
        f"Measured: business item {s.table_item:,.0f} B, index entry {s.index_entry:,.0f} B "
        f"({len(_index_names())} indexes)",
        f"Assumed: {w.businesses:,} businesses and {w.page_views:,} widget page views a month "
        f"per municipality; {w.changed_per_night:.0%} changed a night; "
        f"{w.register_docs_per_night:,} register documents read a night per stack",
        "",
    ]
    results = {}
    for name, overrides in SCENARIOS.items():
        results[name] = monthly(replace(w, **overrides), s)
    first = results["one municipality"]
    header = ["service", "what", *SCENARIOS]
    rows = []
    for i, line in enumerate(first):
        rows.append([line.service, line.what, *(_fmt(r[i].usd) for r in results.values())])
    totals = {name: sum(line.usd for line in r) for name, r in results.items()}
    rows.append(["total", "USD a month", *(f"{t:,.2f}" for t in totals.values())])
    per = [f"{totals[n] / SCENARIOS[n]['municipalities']:,.2f}" for n in SCENARIOS]
    rows.append(["", "per municipality", *per])
    if markdown:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            out.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="a table for docs/OPERATIONS.md")
    parser.add_argument("--businesses", type=int, default=Workload.businesses)
    parser.add_argument("--page-views", type=int, default=Workload.page_views)
    parser.add_argument("--region-factor", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.businesses < 1 or args.page_views < 0 or args.region_factor <= 0:
        parser.error("--businesses and --region-factor must be positive, --page-views not negative")
    w = Workload(
        businesses=args.businesses, page_views=args.page_views, region_factor=args.region_factor
    )
    print(render(w, measure_sizes(), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
