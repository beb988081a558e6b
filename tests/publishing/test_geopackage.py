"""The snapshot's GeoPackage as GDAL reads it (Debian's gdal-bin): both layers in EPSG:4326 with
every feature of the GeoJSON files and the same values, the standard's own checks passed, and
the file listed in the manifest, the data package and DCAT like the others."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.domain.public import PublicBusinessProperties, PublicNetworkProperties
from chalicelib.publishing.geopackage import geometry_blob
from tests.publishing.conftest import AWKWARD

OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
# GDAL's validator of the GeoPackage standard's requirements, shipped with python3-gdal
VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


def _run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _layer(gpkg: Path, name: str) -> dict[str, Any]:
    """The layer as GDAL reads it, converted to GeoJSON by ogr2ogr."""
    return orjson.loads(_run(OGR2OGR, "-f", "GeoJSON", "/vsistdout/", str(gpkg), name))


@pytest.fixture(scope="module")
def gpkg(snapshot_folder: Path) -> Path:
    return snapshot_folder / "businesses.gpkg"


def _geojson(folder: Path, name: str) -> list[dict[str, Any]]:
    return orjson.loads((folder / name).read_bytes())["features"]


def test_gdal_opens_both_layers_with_every_feature(gpkg: Path, snapshot_folder: Path) -> None:
    info = _run(OGRINFO, "-so", "-al", str(gpkg))
    assert "using driver `GPKG' successful" in info
    counts = dict(re.findall(r"Layer name: (\w+).*?Feature Count: (\d+)", info, re.S))
    businesses = _geojson(snapshot_folder, "businesses.geojson")
    networks = _geojson(snapshot_folder, "networks.geojson")
    assert counts == {"businesses": str(len(businesses)), "networks": str(len(networks))}
    assert len(businesses) > 100 and len(networks) > 5
    assert info.count('ID["EPSG",4326]') == 2
    assert "Geometry: Point" in info


def test_the_standards_requirements_hold(gpkg: Path) -> None:
    done = subprocess.run(
        ["/usr/bin/python3", str(VALIDATOR), str(gpkg)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        done.stdout + done.stderr
    )
    with sqlite3.connect(gpkg) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (0x47504B47,)
        assert db.execute("PRAGMA user_version").fetchone() == (10300,)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return value == (";".join(expected) if expected else "")
    if isinstance(expected, bool):
        return value is expected
    return value == expected


def test_businesses_carry_the_geojsons_values(gpkg: Path, snapshot_folder: Path) -> None:
    read = {f["properties"]["id"]: f for f in _layer(gpkg, "businesses")["features"]}
    for feature in _geojson(snapshot_folder, "businesses.geojson"):
        got = read[feature["id"]]
        assert got["geometry"]["coordinates"] == feature["geometry"]["coordinates"]
        props = got["properties"]
        for key, value in feature["properties"].items():
            if key == "updated_at":  # GeoPackage's DATETIME: UTC with milliseconds and a Z
                assert props[key].startswith(value.removesuffix("+00:00")), key
            else:
                assert _same(props[key], value), (feature["id"], key, props[key], value)
        assert set(props) == {"id", *PublicBusinessProperties.model_fields}
    awkward = read[AWKWARD[0].id]["properties"]  # codes keep their zeros, groups their dash
    assert (awkward["industry_code"], awkward["employees"]) == ("011100", "2-4")
    assert awkward["networks"] == "ager-og-eng"


def test_networks_carry_their_areas_meeting_places_and_members(
    gpkg: Path, snapshot_folder: Path
) -> None:
    read = {f["properties"]["id"]: f for f in _layer(gpkg, "networks")["features"]}
    for feature in _geojson(snapshot_folder, "networks.geojson"):
        got = read[feature["id"]]
        if feature["geometry"] is None:  # a network without an area: its meeting place only
            assert got["geometry"] is None
            assert feature["properties"]["meeting_place_lon"] is not None
        else:
            assert got["geometry"]["type"] == feature["geometry"]["type"]
            assert got["geometry"]["coordinates"] == feature["geometry"]["coordinates"]
        p, props = feature["properties"], got["properties"]
        for key in (
            "name",
            "description",
            "website",
            "founded",
            "meeting_place_name",
            "meeting_place_lon",
            "meeting_place_lat",
            "municipalities",
            "tags",
            "member_count",
        ):
            assert props[key] == p[key], key
    assert set(props) >= {"id", *PublicNetworkProperties.model_fields}
    assert read["ager-og-eng"]["properties"]["member_count"] == len(AWKWARD)


def test_the_geopackage_is_listed_like_every_other_file(snapshot_folder: Path) -> None:
    data = (snapshot_folder / "businesses.gpkg").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    manifest = orjson.loads((snapshot_folder / "manifest.json").read_bytes())
    [entry] = [f for f in manifest["files"] if f["name"] == "businesses.gpkg"]
    assert entry == {
        "name": "businesses.gpkg",
        "size": len(data),
        "sha256": digest,
        "media_type": "application/geopackage+sqlite3",
    }
    assert f"{digest}  businesses.gpkg\n" in (snapshot_folder / "SHA256SUMS").read_text()
    package = orjson.loads((snapshot_folder / "datapackage.json").read_bytes())
    [resource] = [r for r in package["resources"] if r["path"] == "businesses.gpkg"]
    assert resource["hash"] == f"sha256:{digest}" and resource["format"] == "gpkg"
    assert resource["mediatype"] == "application/geopackage+sqlite3"
    dcat = orjson.loads((snapshot_folder / "dcat.jsonld").read_bytes())
    [dist] = [
        d
        for d in dcat["dcat:distribution"]
        if d["dcat:downloadURL"]["@id"].endswith("/" + entry["name"])
    ]
    assert dist["dcat:mediaType"]["@id"] == (
        "https://www.iana.org/assignments/media-types/application/geopackage+sqlite3"
    )


@pytest.mark.parametrize(
    ("geometry", "flags", "size"),
    [
        ({"type": "Point", "coordinates": [11.5, 54.75]}, 0x01, 8 + 21),
        (
            {"type": "Polygon", "coordinates": [[[11, 54], [12, 54], [12, 55], [11, 54]]]},
            0x03,
            8 + 32 + 9 + 4 + 4 * 16,
        ),
    ],
)
def test_geometry_header(geometry: dict[str, Any], flags: int, size: int) -> None:
    """The standard's binary header: GP, version 0, flags (little-endian; an envelope of
    minx, maxx, miny, maxy for shapes other than points), the SRS id, then WKB."""
    blob, bounds = geometry_blob(geometry)
    assert blob is not None and blob[:3] == b"GP\x00" and blob[3] == flags
    assert int.from_bytes(blob[4:8], "little") == 4326 and len(blob) == size
    assert geometry_blob(None) == (None, ())
    assert bounds[0] <= bounds[2] and bounds[1] <= bounds[3]
