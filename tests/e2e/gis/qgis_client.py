"""QGIS as a client of the service: a small command run by Debian's /usr/bin/python3 (the
interpreter python3-qgis is built for), never imported by the test suite's venv.

    qgis_client.py load   --base URL --collection ID [--subset EXPR] [--bbox a,b,c,d]
                          [--page-size N] [--geometry]
    qgis_client.py export --base URL --collection ID --format GPKG|"ESRI Shapefile"|CSV
                          --out PATH [--page-size N]

Both print one JSON document on standard output. The layer is opened the way a user adds it in
QGIS (Layer > Add WFS / OGC API - Features layer): the OAPIF provider with `url` and
`typename`; a filter reaches the provider as the layer's subset string, as QGIS's query
builder sets it, so the provider's own translation to query parameters is what is tested. The
requests QGIS sends are recorded through QgsNetworkAccessManager's request preprocessor, which
sees every request of every thread (the provider downloads features in a worker thread).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("XDG_RUNTIME_DIR"):  # Qt wants a private one; quiet its warning
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qgis-runtime-")

from qgis.core import (  # after the environment above: Qt reads it when loaded
    Qgis,
    QgsApplication,
    QgsCoordinateTransformContext,
    QgsFeatureRequest,
    QgsNetworkAccessManager,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

_lock = threading.Lock()
_PREPROCESSOR = ""
URLS: list[str] = []
MESSAGES: list[str] = []


def _record_request(request) -> None:  # type: ignore[no-untyped-def]
    with _lock:
        URLS.append(request.url().toString())


def _record_message(message: str, tag: str, level) -> None:  # type: ignore[no-untyped-def]
    if level >= Qgis.Warning:
        with _lock:
            MESSAGES.append(f"{tag}: {message}")


def start() -> QgsApplication:
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    global _PREPROCESSOR
    _PREPROCESSOR = QgsNetworkAccessManager.setRequestPreprocessor(_record_request)
    QgsApplication.messageLog().messageReceived.connect(_record_message, Qt.DirectConnection)
    return app


def jsonable(value):  # type: ignore[no-untyped-def]
    """An attribute value as JSON: dates as ISO strings, NULL as null, lists as lists."""
    if value is None:
        return None
    if hasattr(value, "isNull") and value.isNull():  # QVariant NULL, null QDate...
        return None
    if isinstance(value, QDateTime):
        return value.toString(Qt.ISODate)
    if isinstance(value, QDate):
        return value.toString(Qt.ISODate)
    if isinstance(value, QTime):
        return value.toString(Qt.ISODate)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def layer_uri(base: str, collection: str, page_size: int | None, restrict: bool = False) -> str:
    uri = f"url='{base}' typename='{collection}'"
    if page_size:
        uri += f" pageSize='{page_size}'"
    if restrict:
        # "Only request features overlapping the view extent": without it QGIS downloads the
        # whole layer once and applies a request's rect to its cache, sending no bbox
        uri += " restrictToRequestBBOX='1'"
    return uri


def open_layer(args: argparse.Namespace) -> QgsVectorLayer:
    uri = layer_uri(args.base, args.collection, args.page_size, bool(getattr(args, "bbox", None)))
    layer = QgsVectorLayer(uri, "x", "OAPIF")
    subset = getattr(args, "subset", None)
    if layer.isValid() and subset and not layer.setSubsetString(subset):
        MESSAGES.append(f"subset string refused: {args.subset}")
    return layer


def describe(layer: QgsVectorLayer) -> dict:
    return {
        "isValid": layer.isValid(),
        "wkbType": QgsWkbTypes.displayString(layer.wkbType()),
        "geometryType": QgsWkbTypes.geometryDisplayString(layer.geometryType()),
        "fields": [[f.name(), f.typeName()] for f in layer.fields()],
    }


def load(args: argparse.Namespace) -> dict:
    layer = open_layer(args)
    out = describe(layer)
    features = []
    if layer.isValid():
        request = QgsFeatureRequest()
        if args.bbox:
            xmin, ymin, xmax, ymax = (float(v) for v in args.bbox.split(","))
            request.setFilterRect(QgsRectangle(xmin, ymin, xmax, ymax))
        names = layer.fields().names()
        for f in layer.getFeatures(request):
            item = {"attributes": dict(zip(names, map(jsonable, f.attributes()), strict=True))}
            geom = f.geometry()
            item["geometryType"] = (
                None if geom.isNull() else QgsWkbTypes.displayString(geom.wkbType())
            )
            if args.geometry:
                item["wkt"] = None if geom.isNull() else geom.asWkt(7)
            features.append(item)
        # after the iteration: with a subset string QGIS counts what it downloads (at most
        # 1000, then it says "at least"), without one it reports numberMatched; not with a
        # rect, where counting would download the whole layer again
        out["featureCount"] = None if args.bbox else layer.featureCount()
    out["count"] = len(features)
    out["features"] = features
    out["errors"] = [*layer.dataProvider().errors(), *MESSAGES] if layer.isValid() else MESSAGES
    out["urls"] = list(URLS)
    return out


def export(args: argparse.Namespace) -> dict:
    layer = open_layer(args)
    out = describe(layer)
    if not layer.isValid():
        return {**out, "written": 0, "error": "invalid layer", "errors": MESSAGES, "urls": URLS}
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = args.format
    options.fileEncoding = "UTF-8"
    options.layerName = args.collection
    if args.format == "CSV":
        options.layerOptions = ["GEOMETRY=AS_WKT", "SEPARATOR=COMMA"]
    result = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, args.out, QgsCoordinateTransformContext(), options
    )
    code, message = result[0], result[1]
    written_path = result[2] if len(result) > 2 and result[2] else args.out
    written = -1
    if code == QgsVectorFileWriter.NoError:
        uri = written_path
        if args.format == "GPKG":
            uri = f"{written_path}|layername={args.collection}"
        reread = QgsVectorLayer(uri, "out", "ogr")
        written = reread.featureCount() if reread.isValid() else -1
    return {
        **out,
        "written": written,
        "error": None if code == QgsVectorFileWriter.NoError else int(code),
        "errorMessage": message,
        "path": written_path,
        "errors": MESSAGES,
        "urls": list(URLS),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("load", "export"):
        p = sub.add_parser(name)
        p.add_argument("--base", required=True, help="the service's landing page URL")
        p.add_argument("--collection", required=True)
        p.add_argument("--subset", help="a QGIS expression set as the layer's subset string")
        p.add_argument("--page-size", type=int, help="the provider's pageSize URI option")
        if name == "load":
            p.add_argument("--bbox", help="xmin,ymin,xmax,ymax: a filter rect on the request")
            p.add_argument("--geometry", action="store_true", help="every geometry as WKT")
        else:
            p.add_argument("--format", required=True, help="an OGR driver name")
            p.add_argument("--out", required=True, help="the file to write")
    args = parser.parse_args(argv)
    app = start()
    try:
        out = load(args) if args.command == "load" else export(args)
    finally:
        QgsNetworkAccessManager.removeRequestPreprocessor(_PREPROCESSOR)
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
