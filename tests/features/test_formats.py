"""The JSON-FG and CSV encodings of a page of features.

JSON-FG answers are validated against the official JSON-FG 1.0 schemas (tests/fixtures/json-fg,
resolved locally, no network) and checked for the standard's rules a schema cannot state: place
null in CRS84 and a different geometry in any other CRS, geometry in longitude/latitude. CSV is
read back by Python's csv module and by GDAL's CSV driver (Debian's gdal-bin, as QGIS reads it),
every value and every coordinate compared with the features written.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from shapely.geometry import mapping, shape

from chalicelib.domain.geo import CRS84, EPSG4326
from chalicelib.domain.utm import wgs84_to_utm32
from chalicelib.features.formats import (
    CONFORMS_TO,
    JSONFG_CORE,
    JSONFG_TYPES_SCHEMAS,
    PROFILE_JSONFG,
    PROFILE_JSONFG_PLUS,
    csv_collection,
    jsonfg_collection,
    jsonfg_feature,
)
from tests.conftest import FIXTURES

EPSG25832 = "http://www.opengis.net/def/crs/EPSG/0/25832"
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
SCHEMAS = FIXTURES / "json-fg"
ROOT_SCHEMA = "https://schemas.opengis.net/json-fg/jsonfg-root-object.json"
LINKS = [{"href": "https://example.org/collections/x/items", "rel": "self", "type": "x"}]


# -- the official schemas, as a local registry ------------------------------------------------


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)  # no `retrieve`: a missing schema fails


REGISTRY = _registry()
VALIDATOR = Draft202012Validator(
    REGISTRY.contents(ROOT_SCHEMA),
    registry=REGISTRY,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


def _positions(coords: Any) -> list[tuple[float, ...]]:
    if coords and isinstance(coords[0], (int, float)):
        return [tuple(coords)]
    return [p for c in coords for p in _positions(c)]


def _valid(body: bytes) -> dict[str, Any]:
    """The document, once it validates against the schema and keeps the rules of
    /req/core/place-geometries, /req/core/fallback, /req/core/geometry-wgs84 and
    /req/types-schemas/metadata and geometry-dimension."""
    doc = orjson.loads(body)
    VALIDATOR.validate(doc)
    assert JSONFG_CORE in doc["conformsTo"] and JSONFG_TYPES_SCHEMAS in doc["conformsTo"]
    features = doc["features"] if doc["type"] == "FeatureCollection" else [doc]
    crs84 = doc["coordRefSys"] in (CRS84, "http://www.opengis.net/def/crs/OGC/0/CRS84")
    dimensions = set()
    for f in features:
        if crs84:
            assert f["place"] is None
        elif f["place"] is not None and f["geometry"] is not None:
            assert f["place"] != f["geometry"]
        for lon, lat in _positions((f["geometry"] or {}).get("coordinates", [])):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
        primary = f["place"] or f["geometry"]
        if primary:
            dimensions.add({"Point": 0, "Polygon": 2, "MultiPolygon": 2}[primary["type"]])
    if "geometryDimension" in doc:
        assert dimensions == {doc["geometryDimension"]}
    return doc


# -- features as the collections have them ------------------------------------------------------


def _business(fid: str, lon: float, lat: float, founded: str, ceased: str | None) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "name": 'Æblegårdens Øko-bageri, "Søstrene" ApS',
            "industry_code": "107120",
            "employees": "2-4",
            "status": "ceased" if ceased else "active",
            "founded": founded,
            "ceased": ceased,
            "municipality": "0376",
            "reklamebeskyttet": False,
            "networks": "n1;n2",
            "phone": None,
            "seated_elsewhere": True,
            "updated_at": "2026-11-30T12:00:00Z",
        },
    }


BUSINESSES = [
    _business("12345678", 11.872917, 54.768993, "2016-05-17", None),
    _business("87654321", 12.0412345678901, 55.0012345678901, "2020-01-01", "2024-06-30"),
]
SQUARE = [[11.8, 54.7], [11.9, 54.7], [11.9, 54.8], [11.8, 54.8], [11.8, 54.7]]
NETWORKS = [
    {
        "type": "Feature",
        "id": "n1",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        "properties": {"name": "Erhvervsnetværk Nord", "member_count": 12, "founded": "2019-03-01"},
    },
    {
        "type": "Feature",
        "id": "n2",
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[SQUARE], [[[p[0] + 0.5, p[1]] for p in SQUARE]]],
        },
        "properties": {"name": "Syd", "member_count": 0, "founded": None},
    },
    {
        "type": "Feature",
        "id": "n3",
        "geometry": None,
        "properties": {"name": "Uden område", "member_count": 3, "founded": "2021-09-09"},
    },
]


def business_time(p: dict[str, Any]) -> dict[str, Any] | None:
    """The founding date; a ceased business's life as an interval of dates."""
    if p["ceased"]:
        return {"interval": [p["founded"], p["ceased"]]}
    return {"date": p["founded"]}


def network_time(p: dict[str, Any]) -> dict[str, Any] | None:
    return {"interval": [p["founded"], ".."]} if p["founded"] else None


def _map(coords: Any, f: Any) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return list(f(*coords))
    return [_map(c, f) for c in coords]


def in_crs(feature: dict[str, Any], convert: Any) -> dict[str, Any]:
    """The feature with its geometry in another CRS, as the caller passes it."""
    g = feature["geometry"]
    moved = {**g, "coordinates": _map(g["coordinates"], convert)} if g else None
    return {**feature, "geometry": moved}


def utm(lon: float, lat: float) -> tuple[float, float]:
    e, n = wgs84_to_utm32(lon, lat)
    return round(e, 3), round(n, 3)


def by_id(features: list[dict[str, Any]]) -> Any:
    originals = {f["id"]: f["geometry"] for f in features}
    return lambda feature: originals[feature["id"]]


# -- JSON-FG ------------------------------------------------------------------------------------


def test_crs84_points_validate_with_place_null_and_time_a_date_or_interval() -> None:
    body = jsonfg_collection(
        BUSINESSES, LINKS, 7, crs=CRS84, feature_type="business", time_of=business_time
    )
    doc = _valid(body)
    assert doc["conformsTo"] == CONFORMS_TO
    assert doc["featureType"] == "business"
    assert doc["coordRefSys"] == CRS84
    assert doc["geometryDimension"] == 0
    assert (doc["numberMatched"], doc["numberReturned"]) == (7, 2)
    assert doc["timeStamp"].endswith("Z")
    first, second = doc["features"]
    assert first["id"] == "12345678"
    assert first["time"] == {"date": "2016-05-17"}
    assert second["time"] == {"interval": ["2020-01-01", "2024-06-30"]}
    for out, given in zip(doc["features"], BUSINESSES, strict=True):
        assert out["place"] is None
        assert out["geometry"] == given["geometry"]
        assert out["properties"] == given["properties"]
        assert "featureType" not in out and "coordRefSys" not in out  # declared once, above
    assert doc["links"][0] == LINKS[0]
    assert doc["links"][1]["rel"] == "profile" and doc["links"][1]["href"] == PROFILE_JSONFG_PLUS


def test_crs84_polygons_with_null_geometry_and_null_time() -> None:
    doc = _valid(
        jsonfg_collection(
            NETWORKS, LINKS, None, crs=CRS84, feature_type="network", time_of=network_time
        )
    )
    assert "numberMatched" not in doc
    assert doc["geometryDimension"] == 2
    n1, n2, n3 = doc["features"]
    assert n1["time"] == {"interval": ["2019-03-01", ".."]}
    assert n2["time"] is None and "time" in n2
    assert n3["geometry"] is None and n3["place"] is None
    assert [f["geometry"] for f in doc["features"]] == [f["geometry"] for f in NETWORKS]


def test_epsg25832_puts_metres_in_place_and_the_wgs84_fallback_in_geometry() -> None:
    features = [in_crs(f, utm) for f in BUSINESSES + NETWORKS]
    body = jsonfg_collection(
        features,
        LINKS,
        5,
        crs=EPSG25832,
        feature_type="mixed",
        time_of=lambda p: None,
        wgs84_geometry_of=by_id(BUSINESSES + NETWORKS),
    )
    doc = _valid(body)
    assert doc["coordRefSys"] == EPSG25832
    assert "geometryDimension" not in doc  # points and surfaces on one page
    for out, given, moved in zip(doc["features"], BUSINESSES + NETWORKS, features, strict=True):
        assert out["place"] == moved["geometry"]
        assert out["geometry"] == given["geometry"]
        assert out["time"] is None
    easting, northing = doc["features"][0]["place"]["coordinates"]
    assert 600_000 < easting < 700_000 and 6_000_000 < northing < 6_200_000  # Lolland, metres
    assert doc["links"][-1]["href"] == PROFILE_JSONFG_PLUS


def test_epsg25832_without_a_fallback_has_null_geometry_and_the_jsonfg_profile() -> None:
    features = [in_crs(f, utm) for f in NETWORKS]
    doc = _valid(
        jsonfg_collection(
            features, [], 3, crs=EPSG25832, feature_type="network", time_of=network_time
        )
    )
    assert [f["geometry"] for f in doc["features"]] == [None, None, None]
    assert [f["place"] for f in doc["features"]] == [f["geometry"] for f in features]
    assert doc["geometryDimension"] == 2  # from place, the primary geometry
    assert doc["links"] == [
        {"href": PROFILE_JSONFG, "rel": "profile", "title": "JSON-FG profile of this document"}
    ]


def test_epsg4326_has_latitude_first_in_place_and_longitude_first_in_geometry() -> None:
    features = [in_crs(f, lambda x, y: (y, x)) for f in BUSINESSES]
    doc = _valid(
        jsonfg_collection(
            features,
            LINKS,
            2,
            crs=EPSG4326,
            feature_type="business",
            time_of=business_time,
            wgs84_geometry_of=by_id(BUSINESSES),
        )
    )
    out = doc["features"][0]
    assert out["place"]["coordinates"] == [54.768993, 11.872917]
    assert out["geometry"]["coordinates"] == [11.872917, 54.768993]


@pytest.mark.parametrize("crs", [CRS84, EPSG25832])
def test_single_feature_is_a_root_object(crs: str) -> None:
    given = NETWORKS[0] if crs == CRS84 else in_crs(NETWORKS[0], utm)
    body = jsonfg_feature(
        given,
        LINKS,
        crs=crs,
        feature_type="network",
        time_of=network_time,
        wgs84_geometry_of=by_id(NETWORKS),
    )
    doc = _valid(body)
    assert doc["type"] == "Feature" and doc["id"] == "n1"
    assert doc["conformsTo"] == CONFORMS_TO
    assert doc["featureType"] == "network"
    assert doc["coordRefSys"] == crs
    assert doc["time"] == {"interval": ["2019-03-01", ".."]}
    assert doc["geometry"] == NETWORKS[0]["geometry"]
    assert doc["place"] == (None if crs == CRS84 else given["geometry"])
    assert doc["properties"] == NETWORKS[0]["properties"]
    assert doc["links"][0] == LINKS[0] and doc["links"][1]["rel"] == "profile"


def test_timestamps_and_a_caller_profile_link_are_kept() -> None:
    links = [*LINKS, {"href": PROFILE_JSONFG, "rel": "profile"}]
    doc = _valid(
        jsonfg_collection(
            BUSINESSES[:1],
            links,
            1,
            crs=CRS84,
            feature_type="business",
            time_of=lambda p: {"timestamp": p["updated_at"]},
        )
    )
    assert doc["features"][0]["time"] == {"timestamp": "2026-11-30T12:00:00Z"}
    assert doc["links"] == links


def test_an_empty_page_validates() -> None:
    doc = _valid(jsonfg_collection([], LINKS, 0, crs=CRS84, feature_type="x", time_of=dict))
    assert doc["features"] == [] and doc["numberReturned"] == 0
    assert "geometryDimension" not in doc


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.pop("conformsTo"),
        lambda d: d.update(conformsTo=[JSONFG_TYPES_SCHEMAS]),
        lambda d: d["features"][0].update(coordRefSys=CRS84),
        lambda d: d["features"][0].update(time={"date": "2016-05-17T00:00:00Z"}),
        lambda d: d["features"][0].update(time={"interval": ["2016-05-17"]}),
        lambda d: d["features"][0].pop("geometry"),
    ],
)
def test_the_schemas_reject_what_the_standard_forbids(spoil: Any) -> None:
    """The validator is no formality: each of these breaks a requirement of the Core class."""
    doc = orjson.loads(
        jsonfg_collection(BUSINESSES, LINKS, 2, crs=CRS84, feature_type="b", time_of=business_time)
    )
    spoil(doc)
    with pytest.raises(ValidationError):
        VALIDATOR.validate(doc)


# -- CSV ----------------------------------------------------------------------------------------

AWKWARD = [
    'Comma, and "quotes"',
    "Line one\nline two",
    "Windows\r\nbreak",
    "Æbleø Åsgård — ÆØÅ æøå ü é",
    " leading and trailing spaces ",
    '=HYPERLINK("x")',
    "0376",
    "",
    "semi;colon",
]


def _rng_features() -> list[dict[str, Any]]:
    """Features with full-precision coordinates across Denmark (degrees) and the texts above."""
    rng = random.Random(17)
    out = []
    for i, text in enumerate(AWKWARD * 3):
        lon, lat = rng.uniform(8.0, 15.2), rng.uniform(54.5, 57.8)
        kind = i % 4
        if kind == 0:
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        elif kind == 1:
            ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        elif kind == 2:
            ring = [[lon, lat], [lon + 0.02, lat], [lon, lat + 0.02], [lon, lat]]
            other = [[x + 0.1, y] for x, y in ring]
            geometry = {"type": "MultiPolygon", "coordinates": [[ring], [other]]}
        else:
            geometry = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.1, lat + 0.1]]}
        out.append(
            {
                "type": "Feature",
                "id": f"{10000000 + i}",
                "geometry": None if i == 5 else geometry,
                "properties": {
                    "name": text,
                    "employees": i,
                    "share": rng.random() * 100,
                    "active": i % 2 == 0,
                    "ceased": None,
                    "municipality": "0376",
                },
            }
        )
    return out


FEATURES = _rng_features()
COLUMNS = ["name", "employees", "share", "active", "ceased", "municipality", "absent"]


def _expected(feature: dict[str, Any]) -> list[str]:
    p = feature["properties"]
    return [
        feature["id"],
        p["name"],
        str(p["employees"]),
        repr(p["share"]),
        "true" if p["active"] else "false",
        "",
        p["municipality"],
        "",
    ]


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def _same_geometry(text: str, given: dict[str, Any] | None) -> None:
    if given is None:
        assert text == ""
        return
    back = mapping(shapely.from_wkt(text))
    assert back["type"] == given["type"]
    assert _positions(back["coordinates"]) == _positions(given["coordinates"])  # exact floats


def test_csv_reads_back_with_every_value_through_pythons_csv_module() -> None:
    body = csv_collection(FEATURES, COLUMNS)
    assert not body.startswith(b"\xef\xbb\xbf")
    header, *rows = _rows(body)
    assert header == ["id", *COLUMNS, "WKT"]
    assert len(rows) == len(FEATURES)
    for row, feature in zip(rows, FEATURES, strict=True):
        assert row[:-1] == _expected(feature)
        _same_geometry(row[-1], feature["geometry"])


def test_csv_quotes_only_what_needs_quoting_and_ends_records_in_crlf() -> None:
    feature = {
        "type": "Feature",
        "id": "1",
        "geometry": {"type": "Point", "coordinates": [12.5, 55.25]},
        "properties": {"a": 'Comma, "q"', "b": "æøå", "c": 3, "d": 0.5, "e": True, "f": None},
    }
    body = csv_collection([feature], ["a", "b", "c", "d", "e", "f"])
    assert (
        body
        == (
            'id,a,b,c,d,e,f,WKT\r\n1,"Comma, ""q""",æøå,3,0.5,true,,POINT (12.5 55.25)\r\n'
        ).encode()
    )


def test_csv_numbers_as_json_writes_them() -> None:
    values = [0, -7, 1.0, 0.1, 1e16, 1e-7, 2.5e-5, 123456789.123, float("nan")]
    features = [
        {"type": "Feature", "id": i, "geometry": None, "properties": {"v": v}}
        for i, v in enumerate(values)
    ]
    cells = [row[1] for row in _rows(csv_collection(features, ["v"]))[1:]]
    assert cells == [orjson.dumps(v).decode() for v in values[:-1]] + [""]
    assert [float(c) for c in cells[:-1]] == values[:-1]
    assert [row[0] for row in _rows(csv_collection(features, ["v"]))[1:]] == [
        str(i) for i in range(len(values))
    ]


def test_csv_wkt_is_exact_in_degrees_and_in_metres() -> None:
    rng = random.Random(25832)
    points = []
    for _ in range(2000):
        lon, lat = rng.uniform(8.0, 15.2), rng.uniform(54.5, 57.8)
        points.append({"type": "Point", "coordinates": [lon, lat]})
        points.append({"type": "Point", "coordinates": list(wgs84_to_utm32(lon, lat))})
    features = [{"type": "Feature", "id": i, "geometry": g} for i, g in enumerate(points)]
    rows = _rows(csv_collection(features, []))[1:]
    for row, g in zip(rows, points, strict=True):
        assert "e" not in row[1]  # no exponent
        _same_geometry(row[1], g)


def test_csv_of_an_empty_page_is_its_header() -> None:
    assert csv_collection([], ["name"]) == b"id,name,WKT\r\n"


@pytest.mark.parametrize("column", ["id", "WKT"])
def test_csv_refuses_a_property_named_like_its_own_columns(column: str) -> None:
    with pytest.raises(ValueError):
        csv_collection(FEATURES, ["name", column])


def _gdal(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_gdal_reads_every_value_and_geometry_back(tmp_path: Path) -> None:
    source = tmp_path / "items.csv"
    source.write_bytes(csv_collection(FEATURES, COLUMNS))
    out = orjson.loads(
        _gdal(
            OGR2OGR,
            "-f",
            "GeoJSON",
            "-lco",
            "SIGNIFICANT_FIGURES=17",
            "/vsistdout/",
            str(source),
            "-oo",
            "GEOM_POSSIBLE_NAMES=WKT",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
        )
    )
    assert len(out["features"]) == len(FEATURES)
    for read, feature in zip(out["features"], FEATURES, strict=True):
        assert list(read["properties"]) == ["id", *COLUMNS]  # WKT became the geometry
        # GDAL's CSV reader turns a CRLF inside a quoted field into LF (Python's keeps it)
        expected = [v.replace("\r\n", "\n") for v in _expected(feature)]
        assert list(read["properties"].values()) == expected
        given = feature["geometry"]
        if given is None:
            assert read["geometry"] is None
        else:
            assert read["geometry"]["type"] == given["type"]
            assert _positions(read["geometry"]["coordinates"]) == _positions(given["coordinates"])
            assert shape(read["geometry"]).equals_exact(shape(given), 0)


def test_gdal_detects_numbers_and_booleans_when_asked(tmp_path: Path) -> None:
    source = tmp_path / "items.csv"
    source.write_bytes(csv_collection(FEATURES, ["employees", "share", "active", "name"]))
    info = _gdal(OGRINFO, "-so", "-al", "-oo", "AUTODETECT_TYPE=YES", str(source))
    assert "employees: Integer " in info
    assert "share: Real " in info
    assert "active: Integer(Boolean) " in info
    assert "name: String " in info
    assert f"Feature Count: {len(FEATURES)}" in info
