"""The map widget in Debian's headless chromium: time to first clusters, re-clustering, bytes.

For each size (default 5,000 and 20,000 active businesses in one municipality):
  1. seed a fresh SQLite store with synthetic businesses (all placed in Guldborgsund, 376),
  2. serve it with `mikrokort serve`, tiles from a local stub, and a host page on another origin
     embedding the widget with the two documented lines,
  3. load the page in a fresh browser context (cold cache) several times and read the
     widget's performance marks: from the script's request to the first rendered clusters,
     and from the script's evaluation to them; the map data's download and the server's time,
  4. time re-clustering after an industry filter, and back to all businesses, and the list
     view's first rows after the click,
  5. count the bytes of script, style and data, raw and gzipped (what API Gateway or a
     reverse proxy sends).
A municipality of more than 10,000 active businesses is drawn from tiles and listed from the
items (the map data then holds counts, not rows). `--store` measures an existing store instead
of seeding one, e.g. 101 København in bench/tiles.py's store of 1,000,000.
Prints figures; asserts nothing.

    .venv/bin/python bench/widget.py [--sizes 5000 20000] [--runs 7]
    .venv/bin/python bench/widget.py --store /tmp/mk-bench/bench-1000000.db --municipality 101
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import start_server  # noqa: E402
from tests.e2e.browser import CHROMIUM, Stub  # noqa: E402

HOST = """<!doctype html><html lang="da"><head><meta charset="utf-8"><title>bench</title></head>
<body><h1>Kommune</h1>
<div data-mikrokort data-municipality="{code}" data-lang="da"></div>
<script src="{site}/widget/mikrokort.js" defer></script>
</body></html>"""

TIMINGS = """() => {
  const mark = name => performance.getEntriesByName(name, 'mark')[0].startTime;
  const res = part => performance.getEntriesByType('resource').find(r => r.name.includes(part));
  const script = res('/widget/mikrokort.js'), data = res('/map-data'), css = res('mikrokort.css');
  const ready = mark('mikrokort:clusters');
  const host = document.querySelector('[data-mikrokort]');
  return {
    fromScriptRequest: ready - script.startTime,
    fromScriptEval: ready - mark('mikrokort:script'),
    fromNavigation: ready,
    dataDownload: data.responseEnd - data.startTime,
    styleDownload: css.responseEnd - css.startTime,
    shown: Number(host.shadowRoot.querySelector('.mk-status').dataset.shown),
    clusters: Number(host.shadowRoot.querySelector('.mk-map').dataset.clusters),
  };
}"""

FILTER = """([host, value]) => new Promise(resolve => {
  const select = host.shadowRoot.querySelector('select');
  const t0 = performance.now();
  host.addEventListener('mikrokort:render', e => resolve({ms: performance.now() - t0,
    shown: e.detail.shown}), {once: true});
  select.value = value;
  select.dispatchEvent(new Event('change'));
})"""


LIST = """host => new Promise(resolve => {
  const r = host.shadowRoot, t0 = performance.now();
  const done = () => r.querySelector('.mk-businesses li')
    ? resolve({ms: performance.now() - t0, heading: r.querySelector('.mk-h').textContent})
    : requestAnimationFrame(done);
  r.querySelectorAll('.mk-views button')[1].click();
  done();
})"""


def seed(db: Path, n: int) -> None:
    """n active public businesses, all in Guldborgsund, plus the demo networks."""
    from chalicelib.demo.generate import generate_businesses, generate_networks
    from chalicelib.domain.reference import load_municipalities
    from chalicelib.store import open_store

    store = open_store(f"sqlite:///{db}")
    store.create_table()
    store.upsert_municipalities(load_municipalities(["376", "390"]))
    pool = [b for b in generate_businesses(int(n * 1.6)) if b.status == "active"]
    pool = [b for b in pool if not b.curated.hidden][:n]
    assert len(pool) == n, f"only {len(pool)} active businesses generated"
    chosen = [b.model_copy(update={"municipality": "376"}) for b in pool]
    for i in range(0, n, 2000):
        store.upsert_businesses(chosen[i : i + 2000])
    store.upsert_networks(generate_networks(chosen))
    store.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(
    size: int, runs: int, browser, stub: Stub, store: Path | None = None, code: str = "376"
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = store or Path(tmp) / "bench.db"
        t = time.perf_counter()
        if store is None:
            seed(db, size)
        seeded = time.perf_counter() - t
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
        env.update(
            MIKROKORT_STORE=f"sqlite:///{db}",
            MIKROKORT_BLOBS=f"file:///{tmp}/blobs",
            MIKROKORT_TILE_URL=f"{stub.url}/tiles/{{z}}/{{x}}/{{y}}.png",
        )
        proc, site = start_server(env)
        try:
            stub.pages["/bench.html"] = HOST.format(site=site, code=code)
            server_ms = []
            for _ in range(4):
                t = time.perf_counter()
                data = requests.get(f"{site}/municipalities/{code}/map-data", timeout=60)
                server_ms.append((time.perf_counter() - t) * 1000)
            tiled = data.json().get("tiled")
            if store is not None:
                size = tiled["count"] if tiled else len(data.json()["businesses"])
            script = requests.get(f"{site}/widget/mikrokort.js", timeout=10).content
            style = requests.get(f"{site}/widget/mikrokort.css", timeout=10).content
            loads, filters, unfilters, lists = [], [], [], []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1100, "height": 800})
                page = context.new_page()
                page.goto(stub.url + "/bench.html")
                page.wait_for_function(
                    "() => performance.getEntriesByName('mikrokort:clusters', 'mark').length",
                    timeout=60_000,
                )
                loads.append(page.evaluate(TIMINGS))
                host = page.locator("[data-mikrokort]").element_handle()
                filters.append(page.evaluate(FILTER, [host, "F"]))
                unfilters.append(page.evaluate(FILTER, [host, ""]))
                lists.append(page.evaluate(LIST, host))
                context.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert all(r["shown"] == size for r in loads), [r["shown"] for r in loads]
    return {
        "size": size,
        "municipality": code,
        "tiled": tiled is not None,
        "list_ms": median([x["ms"] for x in lists]),
        "seeded_s": seeded,
        "server_cold_ms": server_ms[0],  # builds the document
        "server_ms": median(server_ms[1:]),  # unchanged data: the built document again
        "loads": loads,
        "filter_ms": median([f["ms"] for f in filters]),
        "filter_shown": filters[0]["shown"],
        "unfilter_ms": median([f["ms"] for f in unfilters]),
        "bytes": {
            "script": (len(script), len(gzip.compress(script, 6))),
            "style": (len(style), len(gzip.compress(style, 6))),
            "data": (len(data.content), len(gzip.compress(data.content, 6))),
        },
    }


def report(r: dict) -> None:
    loads = r["loads"]

    def m(key: str) -> str:
        values = [x[key] for x in loads]
        return f"{median(values):7.0f} ms (min {min(values):.0f}, max {max(values):.0f})"

    mode = "tiles and items" if r["tiled"] else "rows"
    print(
        f"\n== {r['municipality']}: {r['size']:,} businesses, drawn from {mode} "
        f"(seeded in {r['seeded_s']:.1f} s) =="
    )
    print(f"  first clusters, from the script's request : {m('fromScriptRequest')}")
    print(f"  first clusters, from the script's eval    : {m('fromScriptEval')}")
    print(f"  first clusters, from navigation start     : {m('fromNavigation')}")
    print(f"  map data download (in the browser)        : {m('dataDownload')}")
    print(f"  map data, server, first request (builds)  : {r['server_cold_ms']:7.0f} ms")
    print(f"  map data, server, unchanged data again    : {r['server_ms']:7.0f} ms")
    print(f"  clusters drawn at first view              : {loads[0]['clusters']}")
    print(
        f"  re-cluster after an industry filter       : {r['filter_ms']:7.1f} ms "
        f"({r['filter_shown']:,} shown)"
    )
    print(f"  re-cluster back to all businesses         : {r['unfilter_ms']:7.1f} ms")
    print(f"  list view, first rows after the click     : {r['list_ms']:7.1f} ms")
    total_raw = total_gz = 0
    for name, (raw, gz) in r["bytes"].items():
        total_raw += raw
        total_gz += gz
        print(f"  {name:<7} {raw / 1024:8.1f} KB raw {gz / 1024:8.1f} KB gzipped")
    s_gz = r["bytes"]["script"][1]
    c_gz = r["bytes"]["style"][1]
    print(f"  script + style gzipped                    : {(s_gz + c_gz) / 1024:7.1f} KB")
    print(f"  everything gzipped (no tiles)             : {total_gz / 1024:7.1f} KB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--store", type=Path, help="an existing SQLite store (e.g. bench/tiles.py's) instead"
    )
    ap.add_argument("--municipality", default="376", help="with --store: whose map (e.g. 101)")
    args = ap.parse_args()
    if not (ROOT / "widget" / "dist" / "mikrokort.js").exists():
        sys.exit("build the widget first: make widget")
    from playwright.sync_api import sync_playwright

    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    stub = Stub()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            print(f"browser: chromium {browser.version} (headless), {args.runs} cold loads each")
            if args.store is not None:
                report(measure(0, args.runs, browser, stub, args.store, args.municipality))
            for size in [] if args.store is not None else args.sizes:
                report(measure(size, args.runs, browser, stub))
            browser.close()
    finally:
        stub.close()


if __name__ == "__main__":
    main()
