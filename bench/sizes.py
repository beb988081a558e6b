"""The map's size filter on the embedded store: what counting sizes in the cluster pyramid costs.

Schema 7 keys the pyramid (business_cells) by the size group of employees too, so a cluster tile
of the map's default, the micro-businesses (`size=micro,unknown`), is still one key prefix. For
a collection size (default 100,000 businesses spread like Denmark's towns, bench/synthetic_dk.py,
whose size groups are spread evenly over 0, 1, 2-4, 5-9 and 10-19: more groups per cell than
real data, where most firms are in two or three), this script:
  1. loads the businesses into a fresh SQLite store through the Store port,
  2. reports the pyramid's rows and pages, and the rows it would have without the size (the
     distinct keys less the size: schema 6's pyramid of the same data),
  3. times Store.cluster_cells in-process for every tile that covers 101 København at zoom 8,
     10 and 12 and Denmark at zoom 6: the map's filters (municipality, status) alone, with
     the micro-businesses' sizes, and with those of 10 or more.
Figures only; nothing is asserted.

    .venv/bin/python bench/sizes.py [--sizes 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bbox_queries import load_store  # noqa: E402
from tiles import DENMARK, tile_range  # noqa: E402

from chalicelib.domain.models import SIZE_CHOICES  # noqa: E402
from chalicelib.store import FeatureQuery, open_store  # noqa: E402

KBH = (12.45, 55.61, 12.65, 55.73)  # 101 København


def _pyramid(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*) FROM business_cells").fetchone()[0]
        without = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT level, ty, tx, cell, municipality, status, "
            "section FROM business_cells)"
        ).fetchone()[0]
        try:
            pages = conn.execute(
                "SELECT count(*) FROM dbstat WHERE name = 'business_cells'"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # an SQLite built without the dbstat table
            pages = -1
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return {"rows": rows, "rows_without_size": without, "pages": pages, "page_size": page_size}


def _time(store, q: FeatureQuery, tiles: list[tuple[int, int, int]]) -> tuple[float, float, int]:
    """Median and p95 ms per tile over three passes, and the businesses the tiles count."""
    took: list[float] = []
    counted = 0
    for attempt in range(3):
        for z, y, x in tiles:
            t = time.perf_counter()
            cells = store.cluster_cells(q, z, y, x)
            took.append((time.perf_counter() - t) * 1000)
            if attempt == 0:
                counted += sum(c.count for c in cells)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1], counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mk-sizes-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")  # fmt: skip
    for n in args.sizes:
        db = work / f"sizes-{n}.db"
        db.unlink(missing_ok=True)
        loaded = load_store(db, n)
        p = _pyramid(db)
        print(f"\n## {n:,} businesses (loaded in {loaded:.1f} s)")
        print(
            f"pyramid: {p['rows']:,} rows ({p['pages']:,} pages of {p['page_size']} B); "
            f"without the size {p['rows_without_size']:,} rows "
            f"(x{p['rows'] / p['rows_without_size']:.2f})"
        )
        store = open_store(f"sqlite:///{db}")
        print("\n| tiles | filters | median ms | p95 ms | businesses counted |")
        print("|---|---|---|---|---|")
        for label, box, z, municipality in (
            ("Denmark z6", DENMARK, 6, None),
            ("101 z8", KBH, 8, "101"),
            ("101 z10", KBH, 10, "101"),
            ("101 z12", KBH, 12, "101"),
        ):
            tiles = tile_range(box, z)
            for name, sizes in (
                ("the map's (municipality, status)", None),
                ("+ micro-businesses", SIZE_CHOICES["micro"]),
                ("+ 10 or more", SIZE_CHOICES["larger"]),
            ):
                q = FeatureQuery(municipality=municipality, status="active", sizes=sizes)
                assert store.counts_cells_cheaply(q, z)
                median, p95, counted = _time(store, q, tiles)
                print(
                    f"| {label} ({len(tiles)}) | {name} | {median:.2f} | {p95:.2f} | {counted:,} |"
                )
        store.close()


if __name__ == "__main__":
    main()
