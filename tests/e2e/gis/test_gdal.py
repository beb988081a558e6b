"""GDAL 3.6's command-line tools (Debian's gdal-bin) read the service through the OAPIF driver.

What GDAL 3.6's OAPIF driver does, seen on the wire (`--debug on`, `HTTP: Fetch(url)`):

* page size: 10 unless the PAGE_SIZE open option says otherwise; 3.6 does not read the
  OpenAPI `limit` for it (it asks for /api only to translate a filter), but it follows each
  page's `next` link as written, and the service writes 1000 there for a GDAL before 3.8
  (3.6 sends no User-Agent) that asked for 10 (chalicelib/features/paging.py); the tests
  that are not about page size pass PAGE_SIZE=1000 all the same, so that the first pages
  are large too;
* `-where`: when /conformance lists filtering (GDAL 3.6 looks for the draft Part 3 classes)
  and /api documents `filter`, the translatable terms are sent as
  `filter=...&filter-lang=cql-text` (GDAL's draft dialect: dates as `'2020-01-01T'`,
  `LIKE`, comparisons; not `IN`, which GDAL evaluates itself); without it, a comparison of
  any Date field becomes `datetime` (`2020-01-01T/..`, `../2024-01-01T`), whatever date
  field it names, and everything else is evaluated by GDAL on every page it downloads;
* `-spat` becomes `bbox=` in CRS84.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.e2e.gis import expected
from tests.e2e.gis.conftest import GdalRun, run_gdal
from tests.e2e.gis.expected import BBOX, COLLECTIONS, FILTER_NAMES

FAST = ("-oo", "PAGE_SIZE=1000")  # not the default: see the module's docstring


def _filters(http: requests.Session, server: str) -> dict[str, expected.Filter]:
    feats = expected.features(http, server, "businesses")
    return {**expected.business_filters(feats), **expected.bbox_filters(feats)}


def _feature_count(run: GdalRun) -> int:
    found = re.search(r"Feature Count: (-?\d+)", run.stdout)
    assert found, run.stdout[-2000:] + run.stderr[-2000:]
    return int(found.group(1))


@pytest.mark.parametrize("name", FILTER_NAMES)
def test_ogrinfo_where_counts_what_the_data_says(
    server: str, http: requests.Session, name: str
) -> None:
    """`ogrinfo -where EXPR -so` reports as many features as the data has for EXPR."""
    flt = _filters(http, server)[name]
    want = len(flt.select(expected.features(http, server, "businesses")))
    assert want, f"the demo data has no business for {flt.expression}"
    source = f"OAPIF:{server}/"
    run = run_gdal("ogrinfo", source, "businesses", "-so", "-where", flt.expression, *FAST)
    assert run.returncode == 0, run.explain()
    assert _feature_count(run) == want, f"{flt.expression}: want {want}\n" + run.explain()
    assert "ERROR" not in run.stderr, run.explain()


@pytest.mark.parametrize("name", ["bbox-industry-code-like", "bbox-founded-since-2020"])
def test_ogrinfo_spat_and_where(server: str, http: requests.Session, name: str) -> None:
    """`-spat` (sent as bbox) with `-where`: the count of the box and the filter together."""
    flt = _filters(http, server)[name]
    want = len(flt.select(expected.features(http, server, "businesses")))
    assert want, f"the demo data has no business in {BBOX} for {flt.expression}"
    spat = [str(v) for v in BBOX]
    run = run_gdal(
        "ogrinfo",
        f"OAPIF:{server}/",
        "businesses",
        "-so",
        "-spat",
        *spat,
        "-where",
        flt.expression,
        *FAST,
    )
    assert run.returncode == 0, run.explain()
    assert any("bbox=" in u for u in run.item_urls), run.explain()
    assert _feature_count(run) == want, f"{flt.expression} in {BBOX}: want {want}\n" + run.explain()


def test_gdal_picks_pages_of_at_least_1000(
    server: str, http: requests.Session, tmp_path: Path
) -> None:
    """ogr2ogr without PAGE_SIZE: after the 10 it always asks for first, the `next` links it
    follows ask for 1000, so the demo's businesses take a handful of requests, not 500."""
    out = str(tmp_path / "b.gpkg")
    run = run_gdal("ogr2ogr", "-f", "GPKG", out, f"OAPIF:{server}/", "businesses")
    assert run.returncode == 0, run.explain()
    limits = [int(m) for u in run.item_urls for m in re.findall(r"[?&]limit=(\d+)", u)]
    assert limits[:1] == [10], run.explain()  # its built-in size, on the first page
    onward = [n for u in run.item_urls if "cursor=" in u for n in re.findall(r"limit=(\d+)", u)]
    assert onward and {int(n) for n in onward} == {1000}, run.explain()
    total = expected.number_matched(http, server, "businesses")
    assert len(run.item_urls) <= 3 + total // 1000, run.explain()
    written = run_gdal("ogrinfo", "-so", out, "businesses")
    assert _feature_count(written) == total, written.stdout[-2000:]


# -- exports --------------------------------------------------------------------------------

FORMATS = {"GPKG": "gpkg", "ESRI Shapefile": "shp", "CSV": "csv"}
_FIELD = re.compile(
    r"^(\S+): (Integer64|Integer|Real|String|Date|DateTime|Time|Binary|"
    r"IntegerList|Integer64List|RealList|StringList)(\(\w+\))? \("
)


def _source_fields(server: str, collection: str) -> list[str]:
    """The OAPIF layer's fields in GDAL's order (the order ogr2ogr writes them in)."""
    run = run_gdal("ogrinfo", f"OAPIF:{server}/", collection, "-so", *FAST)
    assert run.returncode == 0, run.explain()
    return [m.group(1) for line in run.stdout.splitlines() if (m := _FIELD.match(line.strip()))]


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("collection", COLLECTIONS)
def test_ogr2ogr_exports_every_feature_value_by_value(
    server: str, http: requests.Session, tmp_path: Path, collection: str, fmt: str
) -> None:
    """ogr2ogr to GPKG, Shapefile and CSV (geometry as WKT), read back: every feature, every
    value, as the API serves it."""
    out = tmp_path / f"{collection}.{FORMATS[fmt]}"
    extra = ["-lco", "GEOMETRY=AS_WKT"] if fmt == "CSV" else []
    if fmt == "ESRI Shapefile" and collection in ("networks", "municipalities"):
        extra += ["-nlt", "PROMOTE_TO_MULTI"]  # a shapefile holds one kind of shape
    run = run_gdal("ogr2ogr", "-f", fmt, str(out), f"OAPIF:{server}/", collection, *FAST, *extra)
    assert run.returncode == 0, run.explain()
    feats = expected.features(http, server, collection)
    fields = _source_fields(server, collection)
    assert fields and fields[0] == "id", fields
    problems = expected.compare_file(out, fmt, collection, feats, fields)
    assert not problems, "\n".join(problems[:30])
