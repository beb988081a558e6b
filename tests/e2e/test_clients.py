"""Real clients read the service: GDAL's OAPIF driver, OWSLib, and the ogctests suite."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: `make test-e2e` installs Debian's gdal-bin")
    return path


def test_ogrinfo_reports_count_and_fields(server: str, http: requests.Session) -> None:
    out = subprocess.run(
        [_need("ogrinfo"), f"OAPIF:{server}/", "businesses", "-so"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    matched = http.get(server + "/collections/businesses/items?limit=1").json()["numberMatched"]
    assert f"Feature Count: {matched}" in out
    for field in (
        "name: String",
        "industry_code: String",
        "employees: String",
        "founded: Date",
        "location_precision: String",
        "municipality: String",
    ):
        assert field in out
    assert "Geometry: Point" in out


def test_ogr2ogr_exports_every_feature_across_pages(
    server: str, http: requests.Session, tmp_path: Path
) -> None:
    gpkg = tmp_path / "out.gpkg"
    matched = http.get(server + "/collections/businesses/items?limit=1").json()["numberMatched"]
    page_size = min(1000, matched // 3)
    done = subprocess.run(
        [
            _need("ogr2ogr"),
            "-f",
            "GPKG",
            str(gpkg),
            f"OAPIF:{server}/",
            "businesses",
            "-oo",
            f"PAGE_SIZE={page_size}",
            "--debug",
            "on",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pages = set(re.findall(r"Fetch\((\S*/collections/businesses/items\S*)\)", done.stderr))
    assert len(pages) >= 3, pages
    with sqlite3.connect(gpkg) as db:
        count, distinct = db.execute(
            "SELECT count(*), count(DISTINCT id) FROM businesses"
        ).fetchone()
    matched = http.get(server + "/collections/businesses/items?limit=1").json()["numberMatched"]
    assert count == distinct == matched


def test_owslib_lists_collections_and_reads_items(server: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server + "/")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == {"businesses", "networks", "network-meeting-places", "municipalities"}
    items = api.collection_items("businesses", limit=25, municipality="390")
    assert len(items["features"]) == 25
    assert all(f["properties"]["municipality"] == "0390" for f in items["features"])
    nets = api.collection_items("networks")
    places = api.collection_items("network-meeting-places")
    assert nets["numberMatched"] == len(nets["features"]) >= 15
    assert places["numberMatched"] == len(places["features"]) >= 15
    assert all(f["geometry"]["type"] == "Point" for f in places["features"])
    one = api.collection_item("municipalities", "376")
    assert one["properties"]["name"] == "Guldborgsund"
    assert api.conformance()["conformsTo"]


def test_ogctests_features_core_passes_every_test(server: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ogctests", "features/core", "-i", server],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    tail = done.stdout[-3000:]
    assert done.returncode == 0, tail
    summary = re.search(r"=+ (.*) in [0-9.]+s", done.stdout)
    assert summary is not None, tail
    assert "failed" not in summary.group(1) and "error" not in summary.group(1), tail
    assert "skipped" not in summary.group(1), tail
    assert int(re.search(r"(\d+) passed", summary.group(1)).group(1)) >= 29
