"""Load on the embedded server: throughput and latency under concurrent clients, slow clients,
an oversized body, and what each does to the server's memory.

    .venv/bin/python bench/load.py                 # the run of docs/BENCHMARKS.md
    .venv/bin/python bench/load.py --requests 300  # a quicker look

It builds a demo store the way a user does (`mikrokort init`, `mikrokort seed --demo`, SQLite in
a temporary folder), starts the real `mikrokort serve` on 127.0.0.1 with port 0, and drives it
from this process over loopback only. Every loop is bounded: a fixed number of requests per
concurrency level (and a time cap), a fixed number of slow connections for a fixed time.

Also, in-process and without HTTP, the CPU cost of the requests whose work used to be unbounded
(`--costs`): the welcome feed at its largest page, and map data answered 200 and 304.

Figures only; nothing is asserted. The server's RSS is read from /proc/<pid>/status.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


# -- the server ----------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _mikrokort(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(BIN / "mikrokort"), *args], env=env, check=True, cwd=ROOT, capture_output=True
    )


def demo_env(folder: Path, count: int, rate_limit: int | None) -> dict[str, str]:
    """The demo deployment's environment. Every client of the run comes from 127.0.0.1, so the
    per-address limit on the expensive routes would answer most of them 429: it is lifted
    unless `rate_limit` is given (then 429s are counted apart from errors)."""
    limit = str(rate_limit) if rate_limit is not None else "100000000"
    env = {
        **os.environ,
        "MIKROKORT_STORE": f"sqlite:///{folder / 'demo.db'}",
        "MIKROKORT_BLOBS": f"file:///{folder / 'blobs'}",
        "MIKROKORT_RATE_LIMIT": limit,
        "MIKROKORT_RATE_BURST": str(max(1, int(limit) // 2)),
    }
    _mikrokort(env, "init")
    _mikrokort(env, "seed", "--demo", "--count", str(count), "--no-snapshot")
    return env


class Server:
    """`mikrokort serve` as a child process on a free loopback port."""

    def __init__(self, env: dict[str, str], threads: int) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "mikrokort"), "serve", "--port", "0", "--quiet", "--threads", str(threads)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            self.stop()
            raise SystemExit(f"the server did not start: {line!r}")
        self.port = int(found.group(1))

    @property
    def rss(self) -> float:
        return rss_mib(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the mix -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    expect: tuple[int, ...] = (200,)


def _get_json(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    headers_ = {k.lower(): v for k, v in r.getheaders()}
    return r.status, headers_, orjson.loads(body) if body else {}


def build_mix(port: int, rng: random.Random) -> list[Call]:
    """About 1,000 calls in the proportions of a map-heavy day."""
    _, _, page = _get_json(port, "/collections/businesses/items?limit=10000")
    points = [f["geometry"]["coordinates"] for f in page["features"] if f.get("geometry")]
    ids = [f["id"] for f in page["features"]]
    etags = {}
    for code in ("376", "390"):
        _, headers, _ = _get_json(port, f"/municipalities/{code}/map-data")
        etags[code] = headers["etag"]
    since = (datetime.now(UTC).date() - timedelta(days=365)).isoformat()
    calls: list[Call] = []
    for _ in range(1000):
        roll = rng.random()
        if roll < 0.30:  # a viewport: a box of about 100 features around a business
            lon, lat = rng.choice(points)
            d = 0.02
            bbox = f"{lon - d:.5f},{lat - d / 2:.5f},{lon + d:.5f},{lat + d / 2:.5f}"
            calls.append(Call("items bbox", f"/collections/businesses/items?bbox={bbox}&limit=100"))
        elif roll < 0.55:
            calls.append(Call("item", f"/collections/businesses/items/{rng.choice(ids)}"))
        elif roll < 0.65:
            calls.append(Call("collections", "/collections"))
        elif roll < 0.75:
            code = rng.choice(("376", "390"))
            calls.append(Call("map-data 200", f"/municipalities/{code}/map-data"))
        elif roll < 0.90:
            code = rng.choice(("376", "390"))
            calls.append(
                Call(
                    "map-data 304",
                    f"/municipalities/{code}/map-data",
                    (("If-None-Match", etags[code]),),
                    (304,),
                )
            )
        else:
            code = rng.choice(("376", "390"))
            calls.append(
                Call("welcome", f"/municipalities/{code}/new-businesses?since={since}&limit=100")
            )
    return calls


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    limited: int = 0  # 429: the per-address limit of the expensive routes answered
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, ok: bool, what: str = "") -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if what == "429":
                self.limited += 1
            elif not ok:
                self.errors += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(f"{kind}: {what}")

    def all(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _client(
    port: int, calls: list[Call], todo: Callable[[], int | None], tally: Tally, deadline: float
) -> None:
    """One keep-alive client: takes the next call number until the run's budget is spent."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    while time.monotonic() < deadline:
        n = todo()
        if n is None:
            break
        call = calls[n % len(calls)]
        start = time.perf_counter()
        try:
            conn.request("GET", call.path, headers=dict(call.headers))
            r = conn.getresponse()
            r.read()
            ok = r.status in call.expect
            tally.add(call.kind, time.perf_counter() - start, ok, str(r.status))
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
        except (OSError, http.client.HTTPException) as exc:
            tally.add(call.kind, time.perf_counter() - start, False, repr(exc))
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.close()


def run_level(
    server: Server, calls: list[Call], clients: int, requests: int, cap_s: float
) -> dict[str, object]:
    counter = iter(range(requests))
    lock = threading.Lock()

    def todo() -> int | None:
        with lock:
            return next(counter, None)

    tally = Tally()
    rss_before = server.rss
    deadline = time.monotonic() + cap_s
    threads = [
        threading.Thread(target=_client, args=(server.port, calls, todo, tally, deadline))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    peak = rss_before
    while any(t.is_alive() for t in threads):
        peak = max(peak, server.rss)
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    done = tally.all()
    return {
        "clients": clients,
        "requests": len(done),
        "seconds": elapsed,
        "throughput": len(done) / elapsed,
        "p50": _pct(done, 0.50),
        "p99": _pct(done, 0.99),
        "errors": tally.errors,
        "limited": tally.limited,
        "error_samples": tally.error_samples,
        "rss_before": rss_before,
        "rss_peak": peak,
        "rss_after": server.rss,
        "by_kind": {k: (len(v), _pct(v, 0.5), _pct(v, 0.99)) for k, v in tally.latencies.items()},
    }


# -- hostile clients -----------------------------------------------------------------------------


def _watch(port: int, stop: threading.Event, out: list[tuple[float, bool]]) -> None:
    """A well-behaved client asking for /collections every 0.2 s on fresh connections."""
    while not stop.is_set():
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=15)
            conn.request("GET", "/collections")
            r = conn.getresponse()
            r.read()
            conn.close()
            out.append((time.perf_counter() - start, r.status == 200))
        except (OSError, http.client.HTTPException):
            out.append((time.perf_counter() - start, False))
        stop.wait(0.2)


def _watch_summary(seen: list[tuple[float, bool]]) -> str:
    good = [t for t, ok in seen if ok]
    return (
        f"{len(good)}/{len(seen)} answered, median {_pct(good, 0.5):.1f} ms, "
        f"max {max(good, default=float('nan')) * 1000:.1f} ms"
    )


def slow_clients(server: Server, connections: int, seconds: int) -> dict[str, object]:
    """`connections` clients sending a request's headers one byte per second."""
    request = b"GET /collections HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    rss_before = server.rss
    socks = []
    refused = 0
    for _ in range(connections):
        try:
            socks.append(socket.create_connection((HOST, server.port), timeout=5))
        except OSError:
            refused += 1
    stop = threading.Event()
    seen: list[tuple[float, bool]] = []
    watcher = threading.Thread(target=_watch, args=(server.port, stop, seen))
    watcher.start()
    peak = rss_before
    dropped = 0
    for i in range(seconds):
        for s in list(socks):
            try:
                s.send(request[i : i + 1])
            except OSError:
                dropped += 1
                socks.remove(s)
        peak = max(peak, server.rss)
        time.sleep(1)
    stop.set()
    watcher.join()
    for s in socks:
        s.close()
    return {
        "connections": connections,
        "seconds": seconds,
        "refused": refused,
        "dropped_by_server": dropped,
        "rss_before": rss_before,
        "rss_peak": peak,
        "rss_after": server.rss,
        "others": _watch_summary(seen),
    }


def oversized_body(server: Server, send_mib: int) -> dict[str, object]:
    """A POST announcing 2,000,000,000 bytes, then as much body as the server will take."""
    rss_before = server.rss
    stop = threading.Event()
    seen: list[tuple[float, bool]] = []
    watcher = threading.Thread(target=_watch, args=(server.port, stop, seen))
    watcher.start()
    s = socket.create_connection((HOST, server.port), timeout=10)
    s.sendall(
        b"POST /admin/networks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n"
    )
    chunk = b"x" * (1 << 20)
    sent = 0
    start = time.perf_counter()
    peak = rss_before
    try:
        s.settimeout(2)
        while sent < send_mib:
            s.sendall(chunk)
            sent += 1
            if sent % 16 == 0:
                peak = max(peak, server.rss)
    except OSError:
        pass
    answer = b""
    try:
        s.settimeout(5)
        answer = s.recv(4096)
    except OSError:
        pass
    elapsed = time.perf_counter() - start
    s.close()
    time.sleep(1)
    stop.set()
    watcher.join()
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") if answer else "(no answer)"
    return {
        "sent_mib": sent,
        "seconds": elapsed,
        "answer": status,
        "rss_before": rss_before,
        "rss_peak": max(peak, server.rss),
        "rss_after": server.rss,
        "others": _watch_summary(seen),
    }


# -- in-process costs ----------------------------------------------------------------------------


def costs(env: dict[str, str], repeat: int) -> None:
    """CPU time of the requests whose work grew with the data, called in-process."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from chalicelib.config import Settings
    from chalicelib.domain.errors import MikrokortError
    from chalicelib.mapwidget.widget import map_data
    from chalicelib.matchmaking.welcome import earliest_since, new_businesses
    from chalicelib.store import open_store
    from chalicelib.web.http import HttpRequest

    store = open_store(Settings.from_env().store_url)

    def req(params: dict[str, str], headers: dict[str, str] | None = None) -> HttpRequest:
        return HttpRequest(
            path="/", params={k: [v] for k, v in params.items()}, headers=headers or {}, base_url=""
        )

    def cpu_ms(fn: Callable[[], object]) -> list[float]:
        out = []
        for _ in range(repeat):
            t = time.process_time()
            fn()
            out.append((time.process_time() - t) * 1000)
        return out

    try:
        new_businesses(store, req({"since": "1900-01-01", "limit": "1000"}), "376")
        print("welcome since=1900-01-01: answered (no window cap)")
    except MikrokortError as exc:
        print(f"welcome since=1900-01-01: {exc.status} {exc.body().get('parameter')}")
    since = earliest_since(datetime.now(UTC).date()).isoformat()
    big = req({"since": since, "limit": "1000"})
    r = new_businesses(store, big, "376")
    print(f"welcome since={since} limit=1000: {r.status}, {len(r.body):,} bytes")
    t = cpu_ms(lambda: new_businesses(store, big, "376"))
    print(f"  CPU ms: first {t[0]:.0f}, median {statistics.median(t):.0f}")
    etag = r.headers["ETag"]
    held = req({"since": since, "limit": "1000"}, {"if-none-match": etag})
    t = cpu_ms(lambda: new_businesses(store, held, "376"))
    print(f"  304 CPU ms median {statistics.median(t):.1f}")
    r = map_data(store, req({}), "376")
    t = cpu_ms(lambda: map_data(store, req({}), "376"))
    print(f"map-data 376 200: {len(r.body):,} bytes, CPU ms median {statistics.median(t):.1f}")
    inm = {"if-none-match": r.headers["ETag"]}
    t = cpu_ms(lambda: map_data(store, req({}, inm), "376"))
    print(f"map-data 376 304: CPU ms median {statistics.median(t):.1f}")
    store.close()


# -- main ----------------------------------------------------------------------------------------


def _mib(x: object) -> str:
    return f"{x:.0f}" if isinstance(x, float) else str(x)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="demo businesses")
    parser.add_argument("--levels", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--requests", type=int, default=2000, help="requests per level")
    parser.add_argument("--cap", type=float, default=120, help="seconds per level at most")
    parser.add_argument("--threads", type=int, default=8, help="the server's threads")
    parser.add_argument("--slow", type=int, default=200, help="slow connections")
    parser.add_argument("--slow-seconds", type=int, default=10)
    parser.add_argument("--body-mib", type=int, default=64, help="body sent after 2 GB announced")
    parser.add_argument(
        "--rate-limit", type=int, help="keep the per-address limit at this many a minute"
    )
    parser.add_argument("--costs", action="store_true", help="the in-process CPU costs only")
    parser.add_argument("--only", help="one kind of the mix alone, e.g. 'items bbox'")
    parser.add_argument("--repeat", type=int, default=10, help="repeats of each cost")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mikrokort-load-"))
    try:
        t = time.perf_counter()
        env = demo_env(folder, args.count, args.rate_limit)
        print(f"demo store: {args.count} businesses seeded in {time.perf_counter() - t:.1f} s")
        if args.costs:
            costs(env, args.repeat)
            return 0
        server = Server(env, args.threads)
        try:
            print(f"server: pid {server.proc.pid}, port {server.port}, {args.threads} threads")
            print(f"server RSS at start: {server.rss:.0f} MiB")
            calls = build_mix(server.port, random.Random(7))
            if args.only:  # one kind of request alone, e.g. the 100-feature pages
                calls = [c for c in calls if c.kind == args.only]
            print(f"server RSS after warm-up: {server.rss:.0f} MiB")
            print()
            print(
                "| clients | requests | req/s | p50 ms | p99 ms | errors | 429 "
                "| RSS before / peak / after MiB |"
            )
            print("|---|---|---|---|---|---|---|---|")
            kinds: dict[int, dict] = {}
            for level in args.levels:
                r = run_level(server, calls, level, args.requests, args.cap)
                kinds[level] = r["by_kind"]  # type: ignore[assignment]
                print(
                    f"| {level} | {r['requests']} | {r['throughput']:.0f} | {r['p50']:.1f} | "
                    f"{r['p99']:.1f} | {r['errors']} | {r['limited']} | {_mib(r['rss_before'])} / "
                    f"{_mib(r['rss_peak'])} / {_mib(r['rss_after'])} |",
                    flush=True,
                )
                if r["error_samples"]:
                    print(f"  errors, first: {r['error_samples']}")
            print()
            print(
                "| request | " + " | ".join(f"{c} clients p50 / p99 ms" for c in args.levels) + " |"
            )
            print("|---|" + "---|" * len(args.levels))
            for kind in sorted({k for v in kinds.values() for k in v}):
                cells = []
                for level in args.levels:
                    n, p50, p99 = kinds[level].get(kind, (0, float("nan"), float("nan")))
                    cells.append(f"{p50:.1f} / {p99:.1f} ({n})")
                print(f"| {kind} | " + " | ".join(cells) + " |")
            print()
            s = slow_clients(server, args.slow, args.slow_seconds)
            print(
                f"slow clients: {s['connections']} connections sending headers a byte a second "
                f"for {s['seconds']} s: {s['refused']} refused, {s['dropped_by_server']} dropped "
                f"by the server; RSS {_mib(s['rss_before'])} -> peak {_mib(s['rss_peak'])} -> "
                f"{_mib(s['rss_after'])} MiB; other clients meanwhile: {s['others']}"
            )
            o = oversized_body(server, args.body_mib)
            print(
                f"oversized body (Content-Length: 2000000000): {o['sent_mib']} MiB sent in "
                f"{o['seconds']:.1f} s, answer {o['answer']!r}; RSS {_mib(o['rss_before'])} -> "
                f"peak {_mib(o['rss_peak'])} -> {_mib(o['rss_after'])} MiB; other clients "
                f"meanwhile: {o['others']}"
            )
            print(f"server RSS at the end: {server.rss:.0f} MiB")
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
