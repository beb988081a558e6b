"""Danish base maps for the widget: `/basemap/{z}/{x}/{y}.png`, Web Mercator tiles drawn from
Dataforsyningen's WMS with the municipality's token kept on the server.

Why a route of our own: the agency's tile service (WMTS `topo_skaermkort`, `orto_foraar`)
is offered in one tile matrix set only, in EPSG:25832 ("Pt. understøttes kun et tile matrix
set med EPSG:25832", Dataforsyningen's WMTS page), and every request needs a token, which a
page's script would hand to every visitor. Its WMS draws any box in EPSG:3857 (it reprojects
from its UTM 32 data), so each Web Mercator tile is one GetMap of the tile's box at 256 x 256
pixels, asked for once: the answer is kept in the blob store (the folder, or S3 under
`basemap/`, expired by a lifecycle rule after 30 days) and served with a week's caching.
The widget stays in Web Mercator with its clusters and the vector tiles.

The route draws Denmark only (a tile outside the country's bounds is a 404) at the widget's
zooms, and asks for each tile once: it is not an open proxy of the token (the number of
Danish tiles is still large; the stage's throttle is what bounds a client that walks them).
What the WMS answers is checked: a WMS reports its errors as a `ServiceException` document
with status 200, and Dataforsyningen's gateway a missing or wrong token as a 403 page; neither
is ever passed on as a tile. The token travels in a header, never in a URL, so it appears in no
log line and no answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalicelib.domain.errors import MikrokortError, NotFound
from chalicelib.domain.geo import DENMARK_BOUNDS, bbox_intersection, tile_bounds
from chalicelib.tiles.matrix import tile_mercator_bounds
from chalicelib.web.http import HttpResponse, matching_etag

if TYPE_CHECKING:
    from chalicelib.blobs import BlobStore
    from chalicelib.config import Settings
    from chalicelib.web.http import HttpRequest

log = logging.getLogger("mikrokort")

PREFIX = "basemap/"
PNG = "image/png"
MIN_ZOOM, MAX_ZOOM = 5, 18  # the widget's own range
SIZE = 256
MAX_AGE = 7 * 86_400
TIMEOUT_S = 10.0
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class BaseMapUnavailable(MikrokortError):
    """The WMS did not give a tile: the widget shows its notice and keeps the map usable."""

    status = 502
    code = "BaseMapUnavailable"


def tile_template(settings: Settings, base_url: str) -> str | None:
    """The widget's tile URL when a base map is configured, else None."""
    if not settings.basemap_wms:
        return None
    return f"{base_url}/basemap/{{z}}/{{x}}/{{y}}.png"


def _tile_numbers(z: str, x: str, y: str) -> tuple[int, int, int]:
    y = y.removesuffix(".png")
    if not all(_NUMBER.match(v) for v in (z, x, y)):
        raise NotFound("a base map tile is /basemap/{z}/{x}/{y}.png with whole numbers")
    zi, xi, yi = int(z), int(x), int(y)
    if not MIN_ZOOM <= zi <= MAX_ZOOM or xi >= 1 << zi or yi >= 1 << zi:
        raise NotFound(f"no base map tile {zi}/{xi}/{yi}: zoom {MIN_ZOOM} to {MAX_ZOOM}")
    return zi, xi, yi


def mercator_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's box in EPSG:3857 metres: minx, miny, maxx, maxy."""
    return tile_mercator_bounds(z, y, x)


def _in_denmark(z: int, x: int, y: int) -> bool:
    return bbox_intersection(tile_bounds(z, y, x), DENMARK_BOUNDS) is not None


def get_map_url(settings: Settings, z: int, x: int, y: int) -> str:
    """The WMS 1.1.1 GetMap of one tile; the token goes in a header (`_fetch`), never in the
    URL, so no log line of any library can hold it."""
    minx, miny, maxx, maxy = mercator_box(z, x, y)
    query = {
        "service": "WMS",
        "version": "1.1.1",
        "request": "GetMap",
        "layers": settings.basemap_layer,
        "styles": "",
        "srs": "EPSG:3857",
        "bbox": f"{minx:.3f},{miny:.3f},{maxx:.3f},{maxy:.3f}",
        "width": str(SIZE),
        "height": str(SIZE),
        "format": PNG,
        "transparent": "FALSE",
    }
    sep = "&" if "?" in settings.basemap_wms else "?"
    return f"{settings.basemap_wms}{sep}{urlencode(query)}"


_pool = None  # one per process, made at the first tile; urllib3's pool is thread-safe


def _http():
    """One connection pool per process (urllib3 is in the Lambda runtime through botocore;
    its pool is safe to share between threads)."""
    global _pool
    if _pool is None:
        import urllib3

        _pool = urllib3.PoolManager(
            num_pools=2,
            maxsize=8,
            retries=False,  # a tile that fails is asked for again by the map, not here
            timeout=urllib3.Timeout(total=TIMEOUT_S),
        )
    return _pool


def _fetch(settings: Settings, z: int, x: int, y: int) -> bytes:
    from urllib3.exceptions import HTTPError

    try:
        headers = {"User-Agent": "mikrokort-basemap"}
        if settings.basemap_token:  # Dataforsyningen's gateway reads it as a header too
            headers["token"] = settings.basemap_token
        answer = _http().request(
            "GET", get_map_url(settings, z, x, y), headers=headers, preload_content=True
        )
    except HTTPError as exc:
        log.warning("base map WMS unreachable for %s/%s/%s: %s", z, x, y, type(exc).__name__)
        raise BaseMapUnavailable("the base map service cannot be reached; try again") from None
    body = answer.data or b""
    media = (answer.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if answer.status != 200 or not media.startswith("image/"):
        # a ServiceException document (status 200) or the gateway's page: said, not served
        detail = body[:300].decode("utf-8", "replace").replace("\n", " ")
        log.warning(
            "base map WMS refused %s/%s/%s: %s %s %s", z, x, y, answer.status, media, detail
        )
        raise BaseMapUnavailable(
            f"the base map service gave no tile ({answer.status}, {media or 'no type'})"
        )
    if not body.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
        raise BaseMapUnavailable("the base map service's answer is not an image")
    return body


def _media(body: bytes) -> str:
    return PNG if body.startswith(_PNG_MAGIC) else "image/jpeg"


def tile(blobs: BlobStore, req: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """`/basemap/{z}/{x}/{y}.png`: the kept tile, or one drawn by the WMS and kept."""
    settings = req.settings
    if not settings.basemap_wms:
        raise NotFound("no base map is configured here (MIKROKORT_BASEMAP_WMS)")
    zi, xi, yi = _tile_numbers(z, x, y)
    if not _in_denmark(zi, xi, yi):
        raise NotFound(f"base map tile {zi}/{xi}/{yi} is outside Denmark")
    layer = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.basemap_layer)
    key = f"{PREFIX}{layer}/{zi}/{xi}/{yi}"
    try:
        body = blobs.get(key)
    except Exception as exc:  # a failing cache is a miss
        log.warning("base map cache read failed: %s", exc)
        body = None
    if not body:
        body = _fetch(settings, zi, xi, yi)
        try:
            blobs.put(key, body, _media(body), durable=False)
        except Exception as exc:
            log.warning("base map cache write failed: %s", exc)
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    if matching_etag(req.header("if-none-match"), etag):
        return HttpResponse(304, b"", _media(body), headers)
    return HttpResponse(200, body, _media(body), headers)
