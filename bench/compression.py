"""Answer sizes with and without compression, and what a full answer and a 304 cost.

    .venv/bin/python bench/compression.py              # the run of docs/BENCHMARKS.md
    .venv/bin/python bench/compression.py --repeat 20  # a quicker look

1. Builds the demo deployment as a user does (`mikrokort init`, `mikrokort seed --demo`: 5,000
   businesses, 31 networks, SQLite in a temporary folder) and starts the real `mikrokort serve`.
2. Sizes: every route a widget or a client uses, asked over HTTP (stdlib `http.client`, so the
   bytes are the ones on the wire) with no Accept-Encoding, with `gzip` and with `br`; each
   divided by the number of features in the answer.
3. Costs: the same WSGI app called in-process (no sockets), each request `--repeat` times,
   median wall and CPU time: a full answer (identity and gzip) and a revalidation with the ETag
   of the answer before (304). The code measured is the one beside this file (`chalicelib/` of
   its checkout): a copy of the script in an older checkout measures that one.

Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Server, demo_env  # noqa: E402


def _count(path: str, body: bytes) -> int | None:
    """Features in an answer: GeoJSON features, map-data rows, search hits, feed entries."""
    if path.startswith("/widget/"):
        return None
    if b"<feed" in body[:300]:
        return body.count(b"<entry>") + body.count(b"<entry ")
    doc = orjson.loads(body)
    if isinstance(doc.get("businesses"), dict):  # matches: suggested businesses and networks
        return len(doc["businesses"]["features"]) + len(doc.get("networks") or [])
    for key in ("features", "businesses"):
        if isinstance(doc.get(key), list):
            return len(doc[key])
    return 1 if doc.get("type") == "Feature" else None


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


def routes(port: int) -> list[tuple[str, str]]:
    """(who uses it, path) for every route a widget or client reads, on the demo's data."""
    _, _, body = _get(port, "/collections/businesses/items?municipality=376&limit=1", {})
    cvr = orjson.loads(body)["features"][0]["id"]
    since = (date.today() - timedelta(days=365)).isoformat()
    return [
        ("widget", "/widget/mikrokort.js"),
        ("widget", "/widget/mikrokort.css"),
        ("widget", "/municipalities/376/map-data"),
        ("widget", "/municipalities/390/map-data"),
        ("client", "/collections/businesses/items?limit=1000"),
        ("client", "/collections/businesses/items?limit=100&bbox=11.80,54.70,11.95,54.80"),
        ("client", "/collections/businesses/items?limit=10"),
        ("client", f"/collections/businesses/items/{cvr}"),
        ("client", "/collections/networks/items"),
        ("client", "/collections/municipalities/items"),
        ("client", "/collections"),
        ("client", "/api"),
        ("client", "/search?municipality=376&industry=F&limit=100"),
        ("client", f"/businesses/{cvr}/matches"),
        ("client", f"/municipalities/376/new-businesses?limit=100&since={since}"),
        ("client", f"/municipalities/376/new-businesses?limit=100&since={since}&f=atom"),
    ]


def sizes(port: int) -> None:
    print("\n| used by | route | features | identity | gzip | br | per feature (id. / gzip / br) |")
    print("|---|---|---|---|---|---|---|")
    for who, path in routes(port):
        status, _, plain = _get(port, path, {})
        if status != 200:
            print(f"| {who} | `{path}` | {status} | | | | |")
            continue
        got = {}
        for coding in ("gzip", "br"):
            _, headers, body = _get(port, path, {"Accept-Encoding": coding})
            sent = headers.get("content-encoding", "identity")
            got[coding] = f"{len(body) / 1024:,.1f} KB" + ("" if sent == coding else " (as is)")
            got[coding + "_n"] = len(body)
        n = _count(path, plain)
        per = (
            f"{len(plain) / n:,.0f} / {got['gzip_n'] / n:,.0f} / {got['br_n'] / n:,.0f} B"
            if n
            else ""
        )
        print(
            f"| {who} | `{path}` | {n if n is not None else ''} | {len(plain) / 1024:,.1f} KB "
            f"| {got['gzip']} | {got['br']} | {per} |"
        )


def _call(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    route, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    out: dict[str, Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
        out["status"] = int(status.split()[0])
        out["headers"] = dict(hdrs)

    body = b"".join(app(environ, start_response))
    return out["status"], out["headers"], body


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `repeat` calls, after one warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def costs(env: dict[str, str], repeat: int) -> None:
    os.environ.update(env)
    from chalicelib.config import Settings
    from chalicelib.routes import ROUTES
    from chalicelib.services import Services
    from chalicelib.web.wsgi import WsgiApp

    app = WsgiApp(ROUTES, Services(Settings.from_env()))
    _, _, body = _call(app, "/collections/businesses/items", {})
    cvr = orjson.loads(body)["features"][0]["id"]
    print(f"\nIn-process, median of {repeat} (wall ms / CPU ms):\n")
    print("| request | 200 identity | 200 gzip | 304 |")
    print("|---|---|---|---|")
    for path in (
        "/municipalities/376/map-data",
        "/collections/businesses/items?limit=1000",
        "/collections/businesses/items?limit=100&bbox=11.80,54.70,11.95,54.80",
        f"/collections/businesses/items/{cvr}",
        "/collections/networks/items",
        "/collections",
    ):
        status, headers, _ = _call(app, path, {})
        etag = headers.get("ETag", "")
        cells = []
        for h in ({}, {"Accept-Encoding": "gzip"}, {"If-None-Match": etag}):
            wall, cpu = _median_ms(lambda h=h, path=path: _call(app, path, h), repeat)
            cells.append(f"{wall:.2f} / {cpu:.2f}")
        check = _call(app, path, {"If-None-Match": etag})[0]
        print(f"| `{path}` ({status}, revalidated: {check}) | " + " | ".join(cells) + " |")
    from chalicelib.mapwidget import widget

    def rebuilt(h: dict[str, str]) -> object:
        widget._built.clear()  # as after a write: read and built again
        return _call(app, "/municipalities/376/map-data", h)

    cells = []
    for h in ({}, {"Accept-Encoding": "gzip"}):
        wall, cpu = _median_ms(lambda h=h: rebuilt(h), repeat)
        cells.append(f"{wall:.2f} / {cpu:.2f}")
    print(
        "| `/municipalities/376/map-data` built anew (after a write) | "
        + " | ".join(cells)
        + " | |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="demo businesses")
    parser.add_argument("--repeat", type=int, default=50, help="calls per in-process figure")
    parser.add_argument("--costs-only", action="store_true", help="skip the sizes over HTTP")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        env = demo_env(Path(tmp), args.count, None)
        print(f"demo store: {args.count} businesses seeded in {time.perf_counter() - t:.1f} s")
        if not args.costs_only:
            server = Server(env, threads=4)
            try:
                sizes(server.port)
            finally:
                server.stop()
        costs(env, args.repeat)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
