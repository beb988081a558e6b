"""The HTML pages in Debian's headless chromium: first render of the items page and of one
business's and one network's page, for a municipality of 5,000 and of 20,000 businesses.

For each size:
  1. seed a fresh SQLite store (bench/widget.py's seed: every business in Guldborgsund, 376),
  2. serve it with `mikrokort serve`,
  3. open each page in a fresh browser context (cold cache) several times and read the
     Navigation Timing and Paint Timing entries: the answer's first byte, first contentful
     paint, and the load event; and the server's own time for the same page over HTTP,
  4. count the page's bytes, raw and gzipped.
Prints figures; asserts nothing.

    .venv/bin/python bench/pages.py [--sizes 5000 20000] [--runs 7]
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

from bench.widget import seed  # noqa: E402
from tests.conftest import start_server  # noqa: E402
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {ttfb: nav.responseStart, fcp: paint ? paint.startTime : null, load: nav.loadEventEnd,
          rows: document.querySelectorAll('tbody tr').length};
}"""


def _pages(site: str) -> dict[str, str]:
    features = requests.get(
        f"{site}/collections/businesses/items", params={"limit": 1, "municipality": "376"}
    ).json()["features"]
    networks = requests.get(f"{site}/collections/networks/items", params={"limit": 1}).json()
    return {
        "items page (100 businesses, map and table)": (
            f"{site}/collections/businesses/items?municipality=376&f=html"
        ),
        "items page, construction (F)": (
            f"{site}/collections/businesses/items?municipality=376&industry=F&f=html"
        ),
        "one business": f"{site}/collections/businesses/items/{features[0]['id']}?f=html",
        "one network (members listed)": (
            f"{site}/collections/networks/items/{networks['features'][0]['id']}?f=html"
        ),
        "landing page": f"{site}/?f=html",
    }


def measure(size: int, runs: int, browser) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        seed(db, size)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
        env.update(MIKROKORT_STORE=f"sqlite:///{db}", MIKROKORT_BLOBS=f"file:///{tmp}/blobs")
        proc, site = start_server(env)
        try:
            out = {}
            for name, url in _pages(site).items():
                server = []
                for _ in range(runs):
                    t = time.perf_counter()
                    body = requests.get(url, timeout=60).content
                    server.append((time.perf_counter() - t) * 1000)
                loads = []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    page.goto(url, wait_until="load")
                    page.wait_for_function(
                        "() => performance.getEntriesByName('first-contentful-paint').length",
                        timeout=10_000,
                    )
                    loads.append(page.evaluate(TIMINGS))
                    context.close()
                out[name] = {
                    "server_ms": statistics.median(server),
                    "ttfb": statistics.median(x["ttfb"] for x in loads),
                    "fcp": statistics.median(x["fcp"] for x in loads),
                    "load": statistics.median(x["load"] for x in loads),
                    "rows": loads[0]["rows"],
                    "bytes": (len(body), len(gzip.compress(body, 6))),
                }
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"chromium {browser.version}")
        for size in args.sizes:
            print(f"\n== 376 with {size:,} businesses: medians of {args.runs} cold loads ==")
            for name, r in measure(size, args.runs, browser).items():
                raw, packed = r["bytes"]
                print(
                    f"  {name:44s} server {r['server_ms']:6.1f} ms · first byte "
                    f"{r['ttfb']:5.0f} ms · first paint {r['fcp']:5.0f} ms · load "
                    f"{r['load']:5.0f} ms · {raw / 1000:6.1f} KB ({packed / 1000:.1f} KB gzipped)"
                )
        browser.close()


if __name__ == "__main__":
    main()
