"""A local stand-in for a Dataforsyningen WMS (the screen map, `topo_skaermkort_daempet`), for
tests of the base map route.

It answers and fails as a WMS 1.1.1 behind Dataforsyningen's gateway does:

- the gateway reads the token from the `token` header or parameter; a missing or wrong one is
  its 403 HTML page (as for Gsearch, tests/standins/gsearch_server.py);
- parameter names are case-insensitive and values are checked as WMS 1.1.1 (OGC 01-068r3)
  asks: `service=WMS`, `request=GetMap`, `version`, `layers` (a known layer), `styles` (present,
  may be empty), `srs` (one the service offers: EPSG:25832 is its own, EPSG:3857 and
  EPSG:4326 reprojected), `bbox` (four numbers, min before max), `width` and `height` (1 to
  10,000 pixels, Kortforsyningen's limit) and `format` (image/png or image/jpeg);
- a request it cannot answer is a `ServiceExceptionReport` with status **200** and
  `application/vnd.ogc.se_xml`, as WMS 1.1.1 servers answer, never an HTTP error;
- a map is a PNG of the asked size.

Faults can be injected: a `ServiceException` for every request, a 503, a body that is not an
image under an image type, a slow answer. Every GetMap is recorded.
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SERVICE_PATH = "/topo_skaermkort_daempet_DAF"
LAYERS = ("dtk_skaermkort_daempet", "dtk_skaermkort")
SRS = ("EPSG:25832", "EPSG:3857", "EPSG:4326")
MAX_PIXELS = 10_000
FORBIDDEN = (
    b"<html><head><title>403 Forbidden</title></head>"
    b"<body><h1>403 Forbidden</h1><p>Missing or invalid token</p></body></html>"
)


def png(width: int, height: int, rgb: tuple[int, int, int] = (222, 230, 214)) -> bytes:
    """A PNG of one colour: what a map tile of open land looks like, at the asked size."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 6)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def service_exception(code: str, text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ServiceExceptionReport version="1.1.1">'
        f'<ServiceException code="{code}">{text}</ServiceException>'
        "</ServiceExceptionReport>"
    ).encode()


@dataclass
class WmsServer:
    token: str = "wms-test-token"
    requests: list[dict[str, str]] = field(default_factory=list)  # every GetMap, lower-case keys
    paths: list[str] = field(default_factory=list)  # the path and query of every request
    fault: str | None = None  # "exception", "unavailable", "not-an-image", "slow"
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{SERVICE_PATH}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> WmsServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def answer(
        self, path: str, query: str, header_token: str | None = None
    ) -> tuple[int, str, bytes]:
        if path != SERVICE_PATH:
            return 404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>"
        params = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}
        if (header_token or params.get("token")) != self.token:
            return 403, "text/html", FORBIDDEN
        se = "application/vnd.ogc.se_xml"
        if params.get("service", "").upper() != "WMS":
            return 200, se, service_exception("InvalidParameterValue", "SERVICE must be WMS")
        if params.get("request") != "GetMap":
            return 200, se, service_exception("OperationNotSupported", "Only GetMap here")
        for name in ("version", "layers", "styles", "srs", "bbox", "width", "height", "format"):
            if name not in params:
                return 200, se, service_exception("MissingParameterValue", f"{name.upper()}")
        layers = params["layers"].split(",")
        if any(layer not in LAYERS for layer in layers):
            return 200, se, service_exception("LayerNotDefined", params["layers"])
        if params["srs"].upper() not in SRS:
            return 200, se, service_exception("InvalidSRS", params["srs"])
        try:
            minx, miny, maxx, maxy = (float(v) for v in params["bbox"].split(","))
            width, height = int(params["width"]), int(params["height"])
        except ValueError:
            return 200, se, service_exception("InvalidParameterValue", "BBOX, WIDTH or HEIGHT")
        if not (minx < maxx and miny < maxy):
            return 200, se, service_exception("InvalidParameterValue", "BBOX: min above max")
        if not (0 < width <= MAX_PIXELS and 0 < height <= MAX_PIXELS):
            return 200, se, service_exception("InvalidParameterValue", "WIDTH or HEIGHT")
        if params["format"] not in ("image/png", "image/jpeg"):
            return 200, se, service_exception("InvalidFormat", params["format"])
        with self._lock:
            self.requests.append(params)
        if self.fault == "exception":
            return 200, se, service_exception("", "Internal error: database is not reachable")
        if self.fault == "unavailable":
            return 503, "text/html", b"<html><body>503 Service Unavailable</body></html>"
        if self.fault == "not-an-image":
            return 200, "image/png", b"<html>maintenance</html>"
        if self.fault == "slow":
            time.sleep(self.delay_s)
        return 200, "image/png", png(width, height)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.paths.append(self.path)
                status, media, body = server.answer(
                    parts.path, parts.query, self.headers.get("token")
                )
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
