#!/usr/bin/env python3
"""Serve a businesses GeoPackage through pygeoapi (OGC API - Features) for the peer benchmark.

Run with the peer venv's interpreter (see setup.sh):

    bench/peer/.venv/bin/python bench/peer/serve.py --gpkg /tmp/peer/p100k.gpkg --port 5001

It writes a pygeoapi config and OpenAPI document to a work dir (a temp dir unless --workdir is
given), exposes the GeoPackage layer `businesses` as collection `businesses`, prints

    PEER READY http://127.0.0.1:5001 provider=OGR server=werkzeug pygeoapi=0.21.0

on stdout once the socket is listening, and serves until killed (SIGTERM / SIGINT). A caller
can also poll `GET /` until it answers 200.

    GET /collections/businesses/items?bbox=minx,miny,maxx,maxy&limit=1000&f=json

returns a GeoJSON FeatureCollection whose feature ids are the CSV `id` column.

Providers (--provider):
  OGR         (default) pygeoapi.provider.ogr.OGRProvider with source_type GPKG, via GDAL's
              Python bindings (Debian python3-gdal, linked into the venv by setup.sh). The bbox
              becomes an OGR spatial filter, which the GPKG driver answers from the R-tree
              index, so cost follows the size of the result, not of the collection.
  SQLiteGPKG  pygeoapi.provider.sqlite.SQLiteGPKGProvider: stdlib sqlite3 + SpatiaLite
              (libsqlite3-mod-spatialite). It filters with
              `Intersects(geom, BuildMbr(...))` over the `vgpkg_businesses` virtual table,
              which does NOT use the R-tree: every bbox request scans the whole layer.
  Both are documented by pygeoapi for GeoPackage; both work here with GDAL 3.6.2 /
  SpatiaLite 5.0.1. OGR is the fair comparison (indexed); SQLiteGPKG is kept for reference.

Servers (--server):
  werkzeug    (default) pygeoapi's Flask app under werkzeug's threaded WSGI server
              (one thread per request, one process: comparable to a threaded http.server).
  gunicorn    gunicorn with --workers sync worker processes (default 2 = the cores here);
              processes sidestep the GIL, so under concurrent load it is not comparable to a
              single threaded process. For sequential requests the two behave alike.

Notes baked into the config:
  * limits.max_items defaults to 10000 (pygeoapi's own default caps `limit` at 10 silently).
  * pretty_print is off, gzip is off, logging level is ERROR, access log is off unless
    --access-log: per-request log lines cost time that the comparison should not measure.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import tempfile

LAYER = "businesses"
COLLECTION = "businesses"


def gpkg_extent(path: str) -> list[float]:
    """Layer extent from gpkg_contents (ogr2ogr fills it); falls back to Denmark."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        row = con.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (LAYER,)
        ).fetchone()
        con.close()
        if row and None not in row:
            return [float(v) for v in row]
    except sqlite3.Error:
        pass
    return [8.0, 54.5, 15.2, 57.8]


def provider_def(kind: str, gpkg: str) -> dict:
    if kind == "OGR":
        return {
            "type": "feature",
            "name": "OGR",
            "data": {
                "source_type": "GPKG",
                "source": gpkg,
                # paging: False means `offset` is ignored by this provider. With True it pages
                # via "SELECT * ... LIMIT n OFFSET m" and applies the bbox filter to that page
                # afterwards, which gives wrong pages for bbox queries. The benchmark only asks
                # for the first page (offset=0), where both settings behave the same.
                "source_capabilities": {"paging": False},
            },
            "id_field": "id",
            "layer": LAYER,
        }
    if kind == "SQLiteGPKG":
        return {
            "type": "feature",
            "name": "SQLiteGPKG",
            "data": gpkg,
            "id_field": "id",
            "table": LAYER,
        }
    raise SystemExit(f"unknown provider {kind}")


def write_config(args: argparse.Namespace, workdir: str) -> tuple[str, str]:
    import yaml  # from the venv (pygeoapi dependency)

    gpkg = os.path.abspath(args.gpkg)
    url = f"http://{args.host}:{args.port}"
    cfg = {
        "server": {
            "bind": {"host": args.host, "port": args.port},
            "url": url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "language": "en-US",
            "cors": False,
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": args.max_items, "on_exceed": "throttle"},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "OpenStreetMap contributors",
            },
        },
        "logging": {"level": args.log_level},
        "metadata": {
            "identification": {
                "title": "Mikrokort peer (pygeoapi)",
                "description": "Benchmark peer: businesses from a GeoPackage",
                "keywords": ["benchmark"],
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": url,
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "Mikrokort", "url": url},
            "contact": {
                "name": "Mikrokort",
                "position": "Engineer",
                "email": "noreply@example.org",
            },
        },
        "resources": {
            COLLECTION: {
                "type": "collection",
                "title": "Businesses",
                "description": "Business points (GeoPackage layer businesses, EPSG:4326)",
                "keywords": ["businesses"],
                "links": [],
                "extents": {
                    "spatial": {
                        "bbox": gpkg_extent(gpkg),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [provider_def(args.provider, gpkg)],
            }
        },
    }

    from pygeoapi.config import validate_config

    validate_config(cfg)

    cfg_path = os.path.join(workdir, "pygeoapi-config.yml")
    with open(cfg_path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False, allow_unicode=True)

    from pathlib import Path

    from pygeoapi.openapi import generate_openapi_document

    oas_path = os.path.join(workdir, "pygeoapi-openapi.yml")
    with open(oas_path, "w", encoding="utf-8") as fh:
        fh.write(generate_openapi_document(Path(cfg_path), "yaml"))
    return cfg_path, oas_path


def ready_line(args: argparse.Namespace) -> str:
    import pygeoapi

    return (
        f"PEER READY http://{args.host}:{args.port} provider={args.provider} "
        f"server={args.server} pygeoapi={pygeoapi.__version__}"
    )


def serve_werkzeug(args: argparse.Namespace) -> None:
    from pygeoapi.flask_app import APP  # reads PYGEOAPI_CONFIG / PYGEOAPI_OPENAPI at import
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            if args.access_log:
                super().log_request(code, size)

    srv = make_server(args.host, args.port, APP, threaded=True, request_handler=Handler)
    print(ready_line(args), flush=True)
    srv.serve_forever()


def serve_gunicorn(args: argparse.Namespace) -> None:
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise SystemExit(
            "gunicorn is not installed in this venv (run bench/peer/setup.sh)"
        ) from None

    line = ready_line(args)

    class App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "sync")
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("loglevel", "warning")
            self.cfg.set("when_ready", lambda _arbiter: print(line, flush=True))

        def load(self):
            from pygeoapi.flask_app import APP

            return APP

    App().run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--gpkg", required=True, help="GeoPackage built by build_gpkg.py")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--provider", choices=["OGR", "SQLiteGPKG"], default="OGR")
    ap.add_argument("--server", choices=["werkzeug", "gunicorn"], default="werkzeug")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    ap.add_argument("--max-items", type=int, default=10000, help="largest `limit` honoured")
    ap.add_argument("--workdir", help="where to write the pygeoapi config (default: a temp dir)")
    ap.add_argument("--log-level", default="ERROR", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    ap.add_argument("--access-log", action="store_true", help="log one line per request")
    args = ap.parse_args(argv)

    if not os.path.exists(args.gpkg):
        raise SystemExit(f"no such GeoPackage: {args.gpkg}")
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        workdir = args.workdir
    else:
        workdir = tempfile.mkdtemp(prefix="peer-pygeoapi-")

    cfg_path, oas_path = write_config(args, workdir)
    os.environ["PYGEOAPI_CONFIG"] = cfg_path
    os.environ["PYGEOAPI_OPENAPI"] = oas_path
    print(f"pygeoapi config: {cfg_path}", file=sys.stderr, flush=True)

    # Exit cleanly (status 0) on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if args.server == "gunicorn":
            serve_gunicorn(args)
        else:
            serve_werkzeug(args)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
