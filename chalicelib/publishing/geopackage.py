"""The snapshot's GeoPackage (OGC 12-128r18, version 1.3): the businesses and the networks as
two layers of one file that QGIS, ArcGIS and GDAL open by double-click.

A GeoPackage is an SQLite database with a few metadata tables and geometries in a small binary
header followed by WKB, so the standard library's sqlite3 and shapely (already a dependency)
write it; GDAL in the Lambda package would weigh more than the rest of it. The file is built in
the temporary folder (/tmp on Lambda) and streamed to the blobs when complete.

The layers carry the public properties of the GeoJSON, by the same models: lists (a business's
networks, a network's members, tags and municipalities) as text separated by `;`, a network's
meeting place as two columns of longitude and latitude, and timestamps in the UTC form the
standard prescribes. No spatial index is written (its triggers need functions only GDAL and
SpatiaLite define); a reader that wants one adds it (`ogrinfo file.gpkg -sql "SELECT
CreateSpatialIndex('businesses', 'geom')"`).
"""

from __future__ import annotations

import sqlite3
import struct
import types
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import shapely
from pydantic import BaseModel
from shapely.geometry import shape

from chalicelib.domain.public import (
    GeoJsonPoint,
    PublicBusinessProperties,
    PublicNetworkProperties,
)

MEDIA_TYPE = "application/geopackage+sqlite3"
APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # 1.3.0
SRS_ID = 4326
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
LIST_SEPARATOR = ";"

_META = [
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
    organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
    definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
    data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
    last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
    geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
    m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]
_SRS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinates"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinates"),
    ("WGS 84 geodetic", SRS_ID, "EPSG", SRS_ID, WGS84_WKT, "longitude/latitude on WGS 84"),
]


def _unwrap(annotation: Any) -> Any:
    """The type under Optional[...] and Annotated[...]."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _sql_type(annotation: Any) -> str:
    kind = _unwrap(annotation)
    origin = get_origin(kind)
    if origin is list or origin is Literal:
        return "TEXT"
    for python, sql in ((bool, "BOOLEAN"), (int, "INTEGER"), (float, "REAL")):
        if kind is python:
            return sql
    if kind is datetime:
        return "DATETIME"
    if kind is date:
        return "DATE"
    return "TEXT"


def columns(model: type[BaseModel]) -> list[tuple[str, str]]:
    """The layer's attribute columns from the public model: the feature id first, then the
    properties in the model's order (a point property becomes its _lon and _lat)."""
    out = [("id", "TEXT")]
    for name, info in model.model_fields.items():
        if _unwrap(info.annotation) is GeoJsonPoint:
            out += [(f"{name}_lon", "REAL"), (f"{name}_lat", "REAL")]
        else:
            out.append((name, _sql_type(info.annotation)))
    return out


def _datetime(value: str) -> str:
    """ISO 8601 with an offset as GeoPackage's DATETIME: UTC, milliseconds, a Z."""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def geometry_blob(geojson: dict[str, Any] | None) -> tuple[bytes | None, tuple[float, ...]]:
    """The GeoPackage binary of a GeoJSON geometry (header, then little-endian ISO WKB) and its
    bounds. Points carry no envelope (their coordinates are it); other shapes carry minx,
    maxx, miny, maxy."""
    if not geojson:
        return None, ()
    geom = shape(geojson)
    if geom.is_empty:
        return b"GP\x00" + bytes([0b10001]) + struct.pack("<i", SRS_ID) + shapely.to_wkb(
            geom, byte_order=1
        ), ()
    minx, miny, maxx, maxy = geom.bounds
    wkb = shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")
    if geom.geom_type == "Point":
        header = b"GP\x00\x01" + struct.pack("<i", SRS_ID)
    else:
        header = b"GP\x00\x03" + struct.pack("<i4d", SRS_ID, minx, maxx, miny, maxy)
    return header + wkb, (minx, miny, maxx, maxy)


class _Layer:
    def __init__(self, name: str, cols: list[tuple[str, str]]) -> None:
        self.name = name
        self.columns = cols
        self.bounds: list[float] | None = None
        names = ", ".join(["geom", *[f'"{c}"' for c, _ in cols]])
        marks = ", ".join("?" * (len(cols) + 1))
        self.insert = f'INSERT INTO "{name}" ({names}) VALUES ({marks})'

    def row(self, feature: dict[str, Any]) -> list[Any]:
        blob, bounds = geometry_blob(feature.get("geometry"))
        if bounds:
            b = self.bounds
            self.bounds = (
                list(bounds)
                if b is None
                else [
                    min(b[0], bounds[0]),
                    min(b[1], bounds[1]),
                    max(b[2], bounds[2]),
                    max(b[3], bounds[3]),
                ]
            )
        p = feature["properties"]
        values: list[Any] = [blob]
        for column, kind in self.columns:
            if column == "id":
                values.append(feature["id"])
            elif column.endswith(("_lon", "_lat")) and column[:-4] in p:
                point = p[column[:-4]]
                values.append(None if point is None else point["coordinates"][column[-3:] == "lat"])
            else:
                values.append(_cell(p.get(column), kind))
        return values


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if kind == "BOOLEAN":
        return int(bool(value))
    if kind == "DATETIME":
        return _datetime(value)
    return value


class GeoPackageWriter:
    """Writes feature layers into a new GeoPackage file, a feature at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(
            f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
        )
        for ddl in _META:
            self.db.execute(ddl)
        self.db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _SRS)
        self.layers: dict[str, _Layer] = {}

    def layer(
        self, name: str, model: type[BaseModel], geometry_type: str, title: str, description: str
    ) -> None:
        """A feature table with its columns from the model, registered in the contents."""
        cols = columns(model)
        defs = ", ".join(
            f'"{c}" {kind}' + (" NOT NULL UNIQUE" if c == "id" else "") for c, kind in cols
        )
        self.db.execute(
            f'CREATE TABLE "{name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
            f"geom {geometry_type}, {defs})"
        )
        self.db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            "VALUES (?, 'features', ?, ?, ?)",
            (name, title, description, SRS_ID),
        )
        self.db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (name, geometry_type, SRS_ID),
        )
        self.layers[name] = _Layer(name, cols)

    def add(self, name: str, features: list[dict[str, Any]]) -> None:
        layer = self.layers[name]
        self.db.executemany(layer.insert, [layer.row(f) for f in features])

    def close(self) -> None:
        """Records each layer's extent and closes the file, complete."""
        for layer in self.layers.values():
            if layer.bounds:
                self.db.execute(
                    "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? "
                    "WHERE table_name = ?",
                    (*layer.bounds, layer.name),
                )
        self.db.commit()
        self.db.close()

    def abort(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


def snapshot_geopackage(path: Path) -> GeoPackageWriter:
    """A new GeoPackage with the snapshot's two layers, empty."""
    writer = GeoPackageWriter(path)
    writer.layer(
        "businesses",
        PublicBusinessProperties,
        "POINT",
        "Virksomheder / Businesses",
        "Aktive virksomheder 31. december / Active businesses on 31 December",
    )
    writer.layer(
        "networks",
        PublicNetworkProperties,
        "GEOMETRY",
        "Netværk / Networks",
        "Erhvervsnetværk: område eller mødested / Business networks: area or meeting place",
    )
    return writer
