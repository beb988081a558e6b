"""The nightly CVR refresh end to end: documents/s, peak memory and geocoder calls saved.

100,000 synthetic businesses in the covered municipalities (376 Guldborgsund, 390 Vordingborg;
`chalicelib.demo.generate`) are turned into register documents (`tests/standins/cvr_documents`)
loaded five minutes ago. About 10 % share the address of another business (same text, same DAR
id), so the geocoding cache has something to save even on a first run, and about 0.5 % have no
name, so they are quarantined. The register stand-in (`tests.standins.cvr_server`) and the
address service stand-in (`GsearchStandIn`, every address) run as separate processes; so does
the refresh itself, the real command `mikrokort refresh --quiet --page-size 1000`, whose wall
time, CPU time and peak RSS (by GNU time: its own and nobody else's) are measured.

Per store (SQLite file; DynamoDB on dynalite, a wire-protocol server from npm, after
`mikrokort init`):
  1. first run: a full load of both municipalities;
  2. second run right after: incremental, but every document is re-read (all loaded recently);
  3. (--down) a full load into a fresh store with the address service down: postcode points;
  4. (--down) the service back up, an incremental run: the postcode points are improved.
Calls saved = the lookups a refresh without the cache and the carry-over of unchanged
addresses would have made (one per document with a street address) minus the requests the
stand-in received. Then one page of 1,000 documents is profiled in-process (SQLite) and the
DynamoDB calls of one page are counted. Prints figures; asserts nothing.

    .venv/bin/python bench/cvr_refresh.py [--n 100000] [--dynamo-n N] [--stores sqlite dynamodb]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

USER, PASSWORD, TOKEN = "mikrokort", "bench-secret", "gs-bench"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REPORT = re.compile(
    r"(?P<mode>\w+) run \S+: (?P<status>\w+); (?P<documents>[\d,]+) documents, "
    r"(?P<new>[\d,]+) new, (?P<updated>[\d,]+) updated, (?P<unchanged>[\d,]+) unchanged, "
    r"(?P<ceased>[\d,]+) ceased, (?P<moved_out>[\d,]+) moved out, "
    r"(?P<quarantined>[\d,]+) quarantined; geocoder: (?P<calls>[\d,]+) calls, "
    r"(?P<cache>[\d,]+) from cache, (?P<failed>[\d,]+) failed"
)


# -- data ----------------------------------------------------------------------------------------


@dataclass
class Data:
    documents: list[dict[str, Any]]
    addresses: list[list[Any]]  # add_address arguments, one per distinct address
    lookups: list[bool]  # per document: valid with a street address (a lookup without cache)
    shared: list[bool]  # per document: at the address of another business
    malformed: list[bool]


def make_data(n: int, seed: int, share: float = 0.10, bad: float = 0.005) -> Data:
    """Register documents for n synthetic businesses; every house number gets a letter so the
    stand-in's prefix search ("1A" is no prefix of "12A") finds each address exactly."""
    from chalicelib.demo.generate import generate_businesses
    from tests.standins.cvr_documents import address_id_of, company_document

    rng = random.Random(seed)
    loaded = datetime.now(UTC) - timedelta(minutes=5)
    taken: set[tuple[str, str]] = set()
    owners = []  # businesses with an address of their own
    data = Data([], [], [], [], [])
    for b in generate_businesses(n, seed):
        has_address = bool(b.address and b.postcode)
        shared = has_address and bool(owners) and rng.random() < share
        if shared:
            owner = rng.choice(owners)
            b = b.model_copy(
                update={
                    k: getattr(owner, k)
                    for k in ("address", "postcode", "city", "municipality", "location")
                }
            )
            doc = company_document(b, loaded=loaded)
            doc["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]["adresseId"] = address_id_of(
                owner
            )
        else:
            if has_address:
                assert b.address and b.postcode and b.location
                street, _, number = b.address.rpartition(" ")
                address = f"{street} {number}{rng.choice(LETTERS)}"
                while (address, b.postcode) in taken:
                    address = f"{street} {rng.randint(1, 120)}{rng.choice(LETTERS)}"
                taken.add((address, b.postcode))
                b = b.model_copy(update={"address": address})
                owners.append(b)
                data.addresses.append(
                    [
                        address_id_of(b),
                        street,
                        address.rpartition(" ")[2],
                        b.postcode,
                        b.city,
                        "0" + (b.municipality or ""),
                        b.location.lon,
                        b.location.lat,
                    ]
                )
            doc = company_document(b, loaded=loaded)
        malformed = rng.random() < bad
        if malformed:
            doc["virksomhedMetadata"]["nyesteNavn"] = None  # -> quarantined: "no name"
        data.documents.append(doc)
        data.lookups.append(has_address and not malformed)
        data.shared.append(shared)
        data.malformed.append(malformed)
    return data


def write_jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")


# -- the stand-in servers, each in its own process -----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_register(jsonl: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.standins.cvr_server",
            "--port",
            str(port),
            "--jsonl",
            str(jsonl),
            "--user",
            USER,
            "--password",
            PASSWORD,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    print(f"  register stand-in: {proc.stdout.readline().strip()}", flush=True)
    return proc, f"http://127.0.0.1:{port}"


class Gsearch:
    """The address service stand-in in a child process, driven by lines on its stdin."""

    def __init__(self, jsonl: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-gsearch", str(jsonl)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._read()

    def _read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    @property
    def requests(self) -> int:
        return int(self.ask("requests"))

    def close(self) -> None:
        self.ask("quit")
        self.proc.wait(timeout=10)


def serve_gsearch(jsonl: str) -> int:
    from tests.standins.gsearch_server import GsearchStandIn

    standin = GsearchStandIn(token=TOKEN)
    with open(jsonl, "rb") as fh:
        for line in fh:
            standin.add_address(*orjson.loads(line))
    print(standin.start(), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "requests":
            print(standin.requests, flush=True)
        elif command == "down":
            standin.down()
            print("down", flush=True)
        elif command == "up":
            standin.up()
            print("up", flush=True)
        elif command == "quit":
            standin.stop()
            print("bye", flush=True)
            break
    return 0


# -- one measured refresh ------------------------------------------------------------------------


@dataclass
class Run:
    store: str
    name: str
    usage: Usage
    requests: int
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    wall: float
    cpu: float
    rss_mb: float  # peak resident set size, as the kernel counts it (GNU time)
    anon_mb: float  # peak anonymous memory (heap: Python objects), sampled every 0.1 s


def mikrokort(args: list[str], env: dict[str, str], work: Path) -> tuple[str, Usage]:
    """Runs the command in its own process and measures it.

    Peak RSS comes from GNU time, which forks the command from its own small process: the
    rusage of a child forked straight from this (large) process would report this process's
    RSS, which Linux carries over into the child's maximum across fork and exec. The peak of
    anonymous memory is sampled from /proc: with SQLite, RSS also counts the pages of the
    database file it has memory-mapped (up to the store's mmap_size, 256 MB), which the kernel
    can drop at any time; the anonymous part is what the process itself holds."""
    exe = ROOT / ".venv" / "bin" / "mikrokort"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "chalicelib.cli"]
    out, err, timing = work / "stdout.txt", work / "stderr.txt", work / "time.txt"
    timer = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(timing)]
    if not Path(timer[0]).exists():
        timer = []
    peak = {"VmHWM": 0, "RssAnon": 0}
    with out.open("w") as o, err.open("w") as e:
        started = time.perf_counter()
        proc = subprocess.Popen([*timer, *command, *args], env=env, stdout=o, stderr=e, cwd=ROOT)
        while proc.poll() is None:
            pid = _child_of(proc.pid) if timer else proc.pid
            if pid:
                for key, kb in _memory_kb(pid).items():
                    peak[key] = max(peak[key], kb)
            time.sleep(0.1)
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"mikrokort {' '.join(args)} failed: {err.read_text()[-2000:]}")
    anon = peak["RssAnon"] / 1024
    if timer:
        elapsed, user, system, rss = timing.read_text().split()[-4:]
        usage = Usage(float(elapsed), float(user) + float(system), int(rss) / 1024, anon)
    else:  # without GNU time: the sampled high-water mark, and no CPU time
        usage = Usage(wall, float("nan"), peak["VmHWM"] / 1024, anon)
    return out.read_text(), usage


def _child_of(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _memory_kb(pid: int) -> dict[str, int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    found = re.findall(r"^(VmHWM|RssAnon):\s+(\d+) kB", status, re.M)
    return {key: int(kb) for key, kb in found}


def refresh(store: str, name: str, env: dict[str, str], gs: Gsearch, work: Path, page: int) -> Run:
    before = gs.requests
    text, use = mikrokort(["refresh", "--quiet", "--page-size", str(page)], env, work)
    match = REPORT.search(text)
    if match is None:
        raise RuntimeError(f"no report in: {text!r}")
    report = {
        k: v if k in ("mode", "status") else int(v.replace(",", ""))
        for k, v in match.groupdict().items()
    }
    run = Run(store, name, use, gs.requests - before, report)
    print(
        f"  {store} {name}: {report['documents']:,} documents in {use.wall:.1f} s "
        f"({report['documents'] / use.wall:,.0f}/s), CPU {use.cpu:.1f} s, peak RSS "
        f"{use.rss_mb:.0f} MB (anonymous {use.anon_mb:.0f} MB), {run.requests:,} geocoder "
        f"requests; {text.strip()}",
        flush=True,
    )
    return run


# -- per store -----------------------------------------------------------------------------------


def bench_store(
    store: str,
    data: Data,
    n: int,
    gs: Gsearch,
    work: Path,
    args: argparse.Namespace,
    dynalite_url: str | None,
) -> list[Run]:
    jsonl = work / f"documents-{n}.jsonl"
    if not jsonl.exists():
        write_jsonl(jsonl, data.documents[:n])
    register, register_url = start_register(jsonl)
    base = {
        **os.environ,
        "MIKROKORT_CVR_URL": register_url,
        "MIKROKORT_CVR_USER": USER,
        "MIKROKORT_CVR_PASSWORD": PASSWORD,
        "MIKROKORT_GEOCODER_URL": gs.url,
        "MIKROKORT_GEOCODER_TOKEN": TOKEN,
        "MIKROKORT_MUNICIPALITIES": "376,390",
    }
    if dynalite_url:
        base.update(
            AWS_ENDPOINT_URL_DYNAMODB=dynalite_url,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="eu-north-1",
        )

    def env_for(name: str) -> dict[str, str]:
        url = f"dynamodb://{name}" if store == "dynamodb" else f"sqlite:///{work / name}.db"
        env = {**base, "MIKROKORT_STORE": url}
        if store == "dynamodb":
            print("  " + mikrokort(["init"], env, work)[0].strip(), flush=True)
        return env

    runs = []
    try:
        env = env_for(f"cvr-{store}-{n}")
        runs.append(refresh(store, "1 first (full load)", env, gs, work, args.page_size))
        runs.append(refresh(store, "2 second (incremental)", env, gs, work, args.page_size))
        if store in args.down:
            env = env_for(f"cvr-{store}-{n}-down")
            gs.ask("down")
            try:
                runs.append(refresh(store, "3 full load, geocoder down", env, gs, work, 1000))
            finally:
                gs.ask("up")
            runs.append(refresh(store, "4 incremental, geocoder back", env, gs, work, 1000))
    finally:
        register.terminate()
        register.wait(timeout=10)
    return runs


# -- one page in-process: where the time goes, what DynamoDB is asked --------------------------


def one_page(data: Data, gs: Gsearch, work: Path, dynalite_url: str | None) -> None:
    from chalicelib.intake.cvr.refresh import Refresh, RunReport
    from chalicelib.intake.geocode.gsearch import GsearchGeocoder
    from chalicelib.intake.geocode.locate import AddressLocator
    from chalicelib.store import open_store
    from tests.standins.cvr_documents import hit

    # a page as the client hands it over: the last 1,000 documents, through JSON and back
    hits = orjson.loads(orjson.dumps([hit(d) for d in data.documents[-1000:]]))

    def job(store_url: str) -> tuple[Any, Refresh]:
        s = open_store(store_url)
        s.create_table()
        service = GsearchGeocoder(gs.url, TOKEN, timeout=5.0, retries=1)
        return s, Refresh(s, AddressLocator(s, service), ["376", "390"])

    store, job_ = job(f"sqlite:///{work / 'profile.db'}")
    for label in ("first", "second"):
        report = RunReport(run_id="profile", mode="full", started=datetime.now(UTC).isoformat())
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        job_.process(hits, report)
        profile.disable()
        took = time.perf_counter() - started
        print(
            f"\none page of 1,000 in-process, SQLite, {label} pass: {took * 1000:.0f} ms "
            f"({report.new} new, {report.unchanged} unchanged, "
            f"{report.geocoder_calls} geocoder calls); top functions by own time:"
        )
        stream = io.StringIO()
        pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(14)
        lines = stream.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print("\n".join(lines[start : start + 15]))
    store.close()
    if dynalite_url:
        os.environ.update(
            AWS_ENDPOINT_URL_DYNAMODB=dynalite_url,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="eu-north-1",
        )
        store, job_ = job("dynamodb://cvr-profile")
        for label in ("first", "second"):
            report = RunReport(run_id="p", mode="full", started=datetime.now(UTC).isoformat())
            store.calls.clear()
            started = time.perf_counter()
            job_.process(hits, report)
            took = time.perf_counter() - started
            calls = ", ".join(f"{k} {v}" for k, v in sorted(store.calls.items()))
            print(
                f"\none page of 1,000 in-process, DynamoDB (dynalite), {label} pass: "
                f"{took * 1000:.0f} ms; calls: {calls}"
            )


# -- main ----------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="documents (SQLite)")
    ap.add_argument("--dynamo-n", type=int, help="documents for DynamoDB (default: --n)")
    ap.add_argument("--stores", nargs="+", default=["sqlite", "dynamodb"])
    ap.add_argument("--down", nargs="*", default=["sqlite", "dynamodb"], help="runs 3-4 on")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--serve-gsearch", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_gsearch:
        return serve_gsearch(args.serve_gsearch)
    dynamo_n = min(args.dynamo_n or args.n, args.n)

    started = time.perf_counter()
    data = make_data(args.n, args.seed)
    print(
        f"{args.n:,} documents made in {time.perf_counter() - started:.0f} s: "
        f"{len(data.addresses):,} distinct addresses, {sum(data.shared):,} at another "
        f"business's address, {sum(data.malformed):,} malformed",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="mikrokort-cvr-"))
    dynalite = None
    gs = None
    runs: list[Run] = []
    try:
        write_jsonl(work / "addresses.jsonl", data.addresses)
        gs = Gsearch(work / "addresses.jsonl")
        print(f"address stand-in: {len(data.addresses):,} addresses on {gs.url}", flush=True)
        dynalite_url = None
        if "dynamodb" in args.stores:
            from dynamodb_viewports import start_dynalite

            dynalite, dynalite_url = start_dynalite()
        for store in args.stores:
            n = dynamo_n if store == "dynamodb" else args.n
            print(f"\n{store}, {n:,} documents:", flush=True)
            runs += bench_store(store, data, n, gs, work, args, dynalite_url)
        print_table(runs, data)
        if not args.no_profile:
            one_page(data, gs, work, dynalite_url)
    finally:
        if gs is not None:
            gs.close()
        if dynalite is not None:
            dynalite.terminate()
            dynalite.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} cores")
    return 0


def print_table(runs: list[Run], data: Data) -> None:
    print(
        "\n| store | run | documents | wall s | documents/s | CPU s (refresh) "
        "| peak RSS MB (anonymous) "
        "| new / updated / unchanged / quarantined | geocoder requests | from cache "
        "| lookups without cache | calls saved |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        docs = r.report["documents"]
        naive = sum(data.lookups[:docs])
        saved = f"{naive - r.requests:,}" if r.report["failed"] == 0 else "-"
        cells = [
            r.store,
            r.name,
            f"{docs:,}",
            f"{r.usage.wall:.1f}",
            f"{docs / r.usage.wall:,.0f}",
            f"{r.usage.cpu:.1f}",
            f"{r.usage.rss_mb:.0f} ({r.usage.anon_mb:.0f})",
            f"{r.report['new']:,} / {r.report['updated']:,} / {r.report['unchanged']:,} / "
            f"{r.report['quarantined']:,}",
            f"{r.requests:,}",
            f"{r.report['cache']:,}",
            f"{naive:,}",
            saved,
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
