"""The yearly snapshot of 1,000,000 businesses: features per second and peak memory, written
to a local folder and to S3 (moto's S3 server on 127.0.0.1, a separate process).

The store is SQLite, loaded once with synthetic businesses spread over all of Denmark
(`bench/synthetic_dk.py`) and cached in `bench/.cache/`. Each snapshot runs as the real command
(`mikrokort snapshot --year 2025`) in its own process under `/usr/bin/time`, so the figures
are the process's own (what a Lambda would need). Every municipality is covered, so all
businesses are read; those active on 31 December 2025 and not `reklamebeskyttet` are written.
Prints figures; asserts nothing.

    .venv/bin/python bench/snapshot.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chalicelib.domain.reference import load_municipalities, municipality_codes  # noqa: E402
from chalicelib.store import open_store  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
BIN = ROOT / ".venv" / "bin"


def build_store(n: int) -> Path:
    db = CACHE / f"snapshot-{n}.db"
    if db.exists():
        return db
    from synthetic_dk import businesses

    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = db.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{tmp}")
    store.upsert_municipalities(load_municipalities(municipality_codes()))
    t = time.perf_counter()
    batch = []
    for b in businesses(n):
        batch.append(b)
        if len(batch) == 10_000:
            store.upsert_businesses(batch)
            batch = []
    if batch:
        store.upsert_businesses(batch)
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(db)
    print(f"loaded {n:,} businesses in {time.perf_counter() - t:.0f} s into {db}")
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_snapshot(env: dict[str, str], label: str) -> dict[str, float]:
    out = Path(tempfile.mkdtemp()) / "time.txt"
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(out), str(BIN / "mikrokort"), "snapshot",
           "--year", "2025", "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{label}: snapshot failed: {done.stderr}")
    wall, rss_kb = out.read_text().split()
    print(f"{label}: {done.stdout.strip()}")
    return {"wall_s": float(wall), "peak_rss_mb": int(rss_kb) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    db = build_store(args.n)
    store = open_store(f"sqlite:///{db}")
    from chalicelib.publishing.snapshot import public_business_pages

    active = written = 0
    for page in public_business_pages(store):
        for f in page:
            p = f["properties"]
            if p["ceased"] is None or p["ceased"] > "2025-12-31":
                active += 1
                written += 0 if p["reklamebeskyttet"] else 1
    store.close()
    base = {
        **os.environ,
        "MIKROKORT_STORE": f"sqlite:///{db}",
        "MIKROKORT_MUNICIPALITIES": ",".join(municipality_codes()),
    }
    results = {}
    folder = Path(tempfile.mkdtemp(prefix="mikrokort-snapshot-"))
    results["folder"] = run_snapshot({**base, "MIKROKORT_BLOBS": f"file:///{folder}"}, "folder")
    sizes = {p.name: p.stat().st_size for p in (folder / "snapshots" / "2025").iterdir()}
    shutil.rmtree(folder)

    port = free_port()
    moto = subprocess.Popen(
        [str(BIN / "python"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        s3 = {
            **base,
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-north-1",
            "MIKROKORT_BLOBS": "s3://mikrokort-bench/open-data",
        }
        os.environ.update({k: v for k, v in s3.items() if k.startswith("AWS_")})
        from chalicelib.blobs.s3 import S3Blobs

        S3Blobs("mikrokort-bench", "open-data").create_bucket()
        results["s3"] = run_snapshot(s3, "s3")
    finally:
        moto.terminate()
        moto.wait(30)

    print(f"\n{args.n:,} businesses read; {active:,} active on 2025-12-31; {written:,} written")
    print(f"businesses.geojson {sizes['businesses.geojson'] / 1e6:.0f} MB, businesses.csv "
          f"{sizes['businesses.csv'] / 1e6:.0f} MB, all files "
          f"{sum(sizes.values()) / 1e6:.0f} MB")  # fmt: skip
    print("| target | wall time | businesses read / s | features written / s | peak RSS |")
    print("|---|---|---|---|---|")
    for target, r in results.items():
        print(
            f"| {target} | {r['wall_s']:.1f} s | {args.n / r['wall_s']:,.0f} | "
            f"{written / r['wall_s']:,.0f} | {r['peak_rss_mb']:.0f} MB |"
        )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
