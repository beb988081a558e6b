"""The embeddable map widget: its built files, the demo page, and compact map data.

- `asset` serves the two built files of `widget/` (`mikrokort.js`, `mikrokort.css`) by name,
  from a fixed list: nothing else on disk is reachable through this route.
- `demo_page` is an HTML page with two widgets on the demo data (Guldborgsund in Danish,
  Vordingborg in English), embedded exactly as a municipal web editor would.
- `map_data` is what one widget loads: every active, public business of a municipality as
  compact rows, the networks working there, and the municipality boundary. It is built only from
  the public features the store returns (the privacy rules are applied there, never here), so it
  shows nothing the OGC API does not.

The tile source is a setting (`MIKROKORT_TILE_URL`, `MIKROKORT_TILE_ATTRIBUTION`): OpenStreetMap's
own servers by default, which their usage policy allows only for light use. See docs/WIDGET.md.
"""

from __future__ import annotations

import gc
import hashlib
import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from chalicelib import PACKAGE_DIR
from chalicelib.domain.errors import InvalidParameter, NotFound
from chalicelib.domain.industry import SECTION_NAMES, all_english_classes, english_classes_of
from chalicelib.domain.models import SIZE_CHOICES
from chalicelib.domain.public import (
    business_network_ids,
    internal_code,
    municipality_contact,
    network_codes,
    split,
)
from chalicelib.store import FeatureQuery, iter_public_features, parse_features
from chalicelib.web import params as P
from chalicelib.web.http import JSON, etag_of, negotiate, not_modified, ok, version_etag

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.store import Store
    from chalicelib.web.http import HttpRequest, HttpResponse

FORMAT_VERSION = 1
DATA_ATTRIBUTION = "Data: CVR (Erhvervsstyrelsen), DAGI (Klimadatastyrelsen, CC BY 4.0)"
BUSINESS_FIELDS = (
    "id",
    "lon",
    "lat",
    "industry",  # index into `industries`
    "name",
    "employees",  # size group, e.g. "2-4"
    "address",  # null where the privacy rules withhold the street address
    "postcode",  # key into `postcodes`
    "precision",  # address | grid | postcode
    "networks",  # indexes into `networks`
)
MAP_DATA_MAX_AGE = 300
NATIONAL = "all"  # `/municipalities/all/map-data`: every municipality the service covers, tiled
NATIONAL_SIMPLIFY_DEGREES = 0.002  # about 150 m: the country's outline at a country's zoom
SIMPLIFY_DEGREES = 0.0002  # about 15 m: outlines for a map, not for surveying
PAGE = 10_000

# Where the built files are: `widget/dist` beside the code, or a copy inside `chalicelib/`
# (a Lambda package holds only `chalicelib/`, so a deployment copies `widget/dist` there).
DIST_DIRS = (PACKAGE_DIR.parent / "widget" / "dist", PACKAGE_DIR / "widget_dist")
ASSETS = {
    "mikrokort.js": "text/javascript; charset=utf-8",
    "mikrokort.css": "text/css; charset=utf-8",
}
ASSET_MAX_AGE = 86_400  # the script's URL is pasted into pages: revalidated daily by ETag
IMMUTABLE = "public, max-age=31536000, immutable"  # `?v=<hash>` URLs never change


# -- built files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Built:
    body: bytes
    etag: str
    version: str  # the content hash the widget puts in `?v=`


@lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> _Built:
    body = Path(path).read_bytes()
    version = hashlib.sha256(body).hexdigest()[:12]
    return _Built(body, f'"{version}"', version)


def built_file(name: str) -> _Built | None:
    """One built file by its name in `ASSETS`, or None when the widget is not built."""
    if name not in ASSETS:
        return None
    for folder in DIST_DIRS:
        path = folder / name
        try:
            st = path.stat()
        except OSError:
            continue
        return _read(str(path), st.st_mtime_ns, st.st_size)
    return None


def asset(req: HttpRequest, name: str) -> HttpResponse:
    """`/widget/{name}`: a built file with long caching; `?v=` pins a version forever.

    Other query parameters are ignored: CMSs append their own cache busters (`?ver=`)."""
    version = (req.params.get("v") or [None])[0]
    if name not in ASSETS:
        raise NotFound(f"no widget file {name!r}; files: {', '.join(ASSETS)}")
    built = built_file(name)
    if built is None:
        raise NotFound(f"the widget is not built: run `make widget` ({name} is missing)")
    extra = {"Cache-Control": IMMUTABLE} if version == built.version else None
    return ok(req, built.body, ASSETS[name], etag=built.etag, max_age=ASSET_MAX_AGE, extra=extra)


# -- settings ----------------------------------------------------------------------------------


def tile_settings(settings: Settings, base_url: str = "") -> dict[str, str]:
    """The operator's tile source for every widget that does not name its own: the Danish
    base map through this service when one is configured, else `tile_url`."""
    from chalicelib.tiles.basemap import tile_template

    own = tile_template(settings, base_url)
    if own is not None:
        return {"url": own, "attribution": settings.basemap_attribution}
    return {"url": settings.tile_url, "attribution": settings.tile_attribution}


# -- the demo page -----------------------------------------------------------------------------

_DEMO = """<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mikrokort: kortet på en kommunes hjemmeside (demo)</title>
<style>
  body {{ font: 16px/1.5 Georgia, serif; margin: 0 auto; max-width: 60rem; padding: 1rem;
         color: #1b1b1b; }}
  h1 {{ font-size: 1.6rem; margin: 0 0 .5rem; }}
  h2 {{ font-size: 1.25rem; margin: 2rem 0 .5rem; }}
  pre {{ background: #f3f3f3; padding: .75rem; overflow-x: auto; font-size: .85rem; }}
  .note {{ color: #555; font-size: .9rem; }}
</style>
</head>
<body>
<header>
  <h1>Mikrokort: kort over mikrovirksomheder og netværk</h1>
  <p class="note">Demo med <strong>syntetiske data</strong> (opdigtede virksomheder omkring rigtige
  byer). Synthetic demo data: the businesses are invented.</p>
</header>
<main>
  <section aria-labelledby="gb">
    <h2 id="gb">Guldborgsund Kommune (dansk)</h2>
    <div data-mikrokort data-municipality="376" data-lang="da"></div>
  </section>
  <section aria-labelledby="vb" lang="en">
    <h2 id="vb">Vordingborg Municipality (English)</h2>
    <div data-mikrokort data-municipality="390" data-lang="en"></div>
  </section>
  <section aria-labelledby="embed">
    <h2 id="embed">Sæt kortet ind på jeres side / Embed the map</h2>
    <p>Indsæt disse to linjer i en HTML-blok i jeres CMS:</p>
<pre><code>{snippet}</code></pre>
    <p>Fjerner jeres CMS scripts, eller vil I vælge kommune, sprog og branche? Så lav koden
    til en iframe her: <a href="{base}/embed">Sæt kortet på jeres hjemmeside</a>
    (<a href="{base}/embed?ui=en" lang="en" hreflang="en">in English</a>).</p>
    <p class="note">Valgmuligheder, kortfliser og tilgængelighed: se docs/WIDGET.md.
    Data: <a href="{base}/collections">OGC API - Features</a>,
    <a href="{base}/municipalities/376/map-data">/municipalities/376/map-data</a>.</p>
  </section>
</main>
<script src="{script}" defer></script>
</body>
</html>
"""


def embed_snippet(base_url: str, municipality: str = "376", lang: str = "da") -> str:
    """The two lines a web editor pastes."""
    return (
        f'<div data-mikrokort data-municipality="{municipality}" data-lang="{lang}"></div>\n'
        f'<script src="{base_url}/widget/mikrokort.js" defer></script>'
    )


def demo_page(req: HttpRequest) -> HttpResponse:
    """`/demo`: two independent widgets on one page, embedded as a web editor would."""
    base = req.base_url
    page = _DEMO.format(
        snippet=html.escape(embed_snippet(base)),
        script=html.escape(f"{base}/widget/mikrokort.js"),
        base=html.escape(base),
    ).encode()
    policy = page_policy(tile_settings(req.settings, req.base_url)["url"])
    return ok(
        req,
        page,
        "text/html; charset=utf-8",
        etag=etag_of(page, policy.encode()),
        max_age=300,
        extra={"Content-Security-Policy": policy},
    )


def page_policy(tile_url: str, frame_ancestors: str = "'none'") -> str:
    """The site's usual policy for a page with the widget: the configured tile server allowed
    for images, and framed by `frame_ancestors` only (nobody, but for the embed page)."""
    images = ["'self'", "data:", "https:"]
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if parts.scheme == "http" and parts.hostname:
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        images.append(f"http://{host}")
    return (
        f"default-src 'self'; img-src {' '.join(images)}; style-src 'self' 'unsafe-inline'; "
        f"script-src 'self'; connect-src 'self'; frame-ancestors {frame_ancestors}; "
        "form-action 'self'; base-uri 'none'"
    )


# -- map data ----------------------------------------------------------------------------------


def map_data(store: Store, req: HttpRequest, code: str) -> HttpResponse:
    """`/municipalities/{code}/map-data`: one widget's data in one cacheable response.

    The answer is a function of the municipality, the tile source and the store's data, so its
    ETag comes from the store's change token (one read) before anything else is read: a 304,
    and a repeat of an unchanged answer, read and build nothing. A store without a token yet (a
    DynamoDB table no write has touched since tokens came) validates from the versions of the
    pages it reads instead."""
    values = P.single_values(req.params, ("f",))
    if values.get("f") not in (None, "json"):
        raise InvalidParameter("f must be 'json'", parameter="f")
    if "f" not in values:
        negotiate(req.header("accept"), [JSON])
    kommunekode = NATIONAL if code == NATIONAL else _kommunekode(code)
    tiles = tile_settings(req.settings, req.base_url)
    token = store.change_token()
    etag = None
    if token is not None:
        # a client can hold this tag only if the municipality existed at this token, and a
        # removal would have moved the token: the 304 may come before the lookup
        etag = version_etag(
            b"map-data",
            str(FORMAT_VERSION),
            kommunekode,
            orjson.dumps(tiles),
            str(req.settings.map_rows_max),
            token,
        )
        if (answer := _unchanged(req, kommunekode, etag)) is not None:
            return answer
    if kommunekode == NATIONAL:
        municipality = _national(store)
        businesses, pages, too_many = [], [], True
    else:
        municipality = store.get_feature("municipalities", kommunekode)
        if municipality is None:
            raise NotFound(f"no municipality {code} in this service")
        rows_max = req.settings.map_rows_max
        businesses, pages, too_many = _active_businesses(store, kommunekode, rows_max)
    tiled = None
    if too_many:
        tiled = _counts(store, None if kommunekode == NATIONAL else kommunekode)
        businesses = []
        pages = [orjson.dumps(tiled, option=orjson.OPT_SORT_KEYS)]
    networks = list(iter_public_features(store, "networks", page_size=PAGE))
    if etag is None:
        etag = _data_etag(municipality, tiles, pages, networks)
        if (answer := _unchanged(req, kommunekode, etag)) is not None:
            return answer
    with _gc_paused():  # tens of thousands of short-lived dicts: no cycles to look for
        doc = build_map_data(
            orjson.loads(municipality),
            parse_features(businesses),
            parse_features(networks),
            tiles,
            tiled,
        )
        body = orjson.dumps(doc)
        del doc
    _built[kommunekode] = (etag, body)
    return ok(req, body, JSON, etag=etag, max_age=MAP_DATA_MAX_AGE)


def _unchanged(req: HttpRequest, kommunekode: str, etag: str) -> HttpResponse | None:
    """The 304, or the body built for this very tag before, or None: it must be built."""
    if (answer := not_modified(req, JSON, etag=etag, max_age=MAP_DATA_MAX_AGE)) is not None:
        return answer
    cached = _built.get(kommunekode)
    if cached is not None and cached[0] == etag:
        return ok(req, cached[1], JSON, etag=etag, max_age=MAP_DATA_MAX_AGE)
    return None


def _active_businesses(
    store: Store, kommunekode: str, rows_max: int
) -> tuple[list[bytes], list[bytes], bool]:
    """The features of a municipality's active public businesses, each page's validator (its
    features where the store gives none), and whether there are more than `rows_max` (then the
    reading stops there). Above `Settings.map_rows_max` (10,000 by default) the widget draws
    the map from the tiles and lists from the items: rows for all of them (København's 80,000
    or more) would be megabytes to download and seconds to cluster before the first picture,
    so the document carries their counts only."""
    selection = FeatureQuery(
        municipality=kommunekode, status="active", limit=min(PAGE, rows_max + 1)
    )
    businesses: list[bytes] = []
    pages: list[bytes] = []
    while True:
        page = store.query("businesses", selection)
        businesses += page.features
        pages.append(
            page.validator.encode() if page.validator is not None else b"".join(page.features)
        )
        more = page.next_after is not None
        if len(businesses) > rows_max or (more and len(businesses) == rows_max):
            return businesses, pages, True  # more than rows_max: the widget goes tiled
        if not more:
            return businesses, pages, False
        selection = selection.model_copy(update={"after": page.next_after})


def _counts(store: Store, kommunekode: str | None) -> dict[str, Any]:
    """A large municipality's (or, None, the whole service's) active public businesses counted,
    in all and per industry section, and so for each size choice, from the zoom-0 cluster tile
    of the same selection (kept counts on SQLite)."""

    def counted(sizes: tuple[str, ...] | None) -> dict[str, Any]:
        selection = FeatureQuery(municipality=kommunekode, status="active", sizes=sizes)
        sections: dict[str, int] = {}
        for cell in store.cluster_cells(selection, 0, 0, 0):
            for section, n in cell.sections.items():
                sections[section or "unknown"] = sections.get(section or "unknown", 0) + n
        return {"count": sum(sections.values()), "section_counts": dict(sorted(sections.items()))}

    every, micro = counted(None), counted(SIZE_CHOICES["micro"])
    # the other choice is the rest: every business is of one of the two (a store without kept
    # counts, DynamoDB, reads the municipality's features once less)
    left = {s: n - micro["section_counts"].get(s, 0) for s, n in every["section_counts"].items()}
    larger = {
        "count": every["count"] - micro["count"],
        "section_counts": {s: n for s, n in left.items() if n},
    }
    return {**every, "sizes": {"micro": micro, "larger": larger}}


def _national(store: Store) -> bytes:
    """The whole service as one area: the municipalities it covers, their outlines joined (a
    coarser outline: a map of a country), named Danmark when it covers all 98."""
    raw = list(iter_public_features(store, "municipalities", page_size=PAGE))
    if not raw:
        raise NotFound("this service covers no municipality yet")
    features = parse_features(raw)
    names = sorted(f["properties"]["name"] for f in features)
    if len(names) >= 98:
        name = "Danmark"
    elif len(names) <= 3:
        name = ", ".join(names)
    else:
        name = f"{len(names)} kommuner"
    geometry = _joined(hashlib.blake2b(b"".join(raw), digest_size=16).hexdigest(), features)
    return orjson.dumps(
        {
            "type": "Feature",
            "id": NATIONAL,
            "geometry": geometry,
            "properties": {"kommunekode": NATIONAL, "name": name},
        }
    )


_joined_outlines: dict[str, dict[str, Any]] = {}  # digest of the outlines -> their union


def _joined(key: str, features: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of the municipalities' outlines, once per set of outlines (`key`, a digest of
    their documents: the outlines themselves are megabytes)."""
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    if key not in _joined_outlines:
        shapes = [shape(f["geometry"]) for f in features if f.get("geometry")]
        joined = unary_union(shapes).simplify(NATIONAL_SIMPLIFY_DEGREES, preserve_topology=True)
        if len(_joined_outlines) >= 4:
            _joined_outlines.clear()
        _joined_outlines[key] = mapping(joined)
    return _joined_outlines[key]


def _data_etag(
    municipality: bytes, tiles: dict[str, str], pages: list[bytes], networks: list[bytes]
) -> str:
    """The tag from the data read, for stores without a change token: the municipality, the
    tile source, the businesses' page validators and the networks' features."""
    return version_etag(
        b"map-data",
        str(FORMAT_VERSION),
        municipality,
        orjson.dumps(tiles),
        b"|pages|",
        *pages,
        b"|networks|",
        *networks,
    )


_built: dict[str, tuple[str, bytes]] = {}  # kommunekode -> (ETag, body) of the last answer


def build_map_data(
    municipality: dict[str, Any],
    businesses: list[dict[str, Any]],
    networks: list[dict[str, Any]],
    tiles: dict[str, str],
    tiled: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The compact document (format in docs/WIDGET.md) from public features only.

    `businesses` are the municipality's active public businesses; `networks` any public
    networks, of which those working in the municipality, or with members there, are kept.
    `tiled` (a large municipality: no rows, the widget reads tiles and items) holds their
    `count` and `section_counts` instead.
    """
    props = municipality["properties"]
    national = props["kommunekode"] == NATIONAL
    # the widget's format keeps 3 digits
    kommunekode = NATIONAL if national else internal_code(props["kommunekode"])
    referenced = {nid for b in businesses for nid in business_network_ids(b["properties"])}
    kept = [n for n in networks if national or kommunekode in network_codes(n["properties"])]
    kept += [n for n in networks if n["id"] in referenced and n not in kept]
    network_index = {n["id"]: i for i, n in enumerate(kept)}

    industries: dict[str, int] = {}
    industry_rows: list[list[Any]] = []
    sections: set[str] = set()
    postcodes: dict[str, str] = {}
    rows: list[list[Any]] = []
    if tiled is not None:
        sections.update(s for s in tiled["section_counts"] if s in SECTION_NAMES)
    for b in businesses:
        if not b.get("geometry"):
            continue  # no place to show it (never the case for geocoded businesses)
        p = b["properties"]
        code = p.get("industry_code") or ""
        if code not in industries:
            industries[code] = len(industry_rows)
            industry_rows.append([code, p.get("industry_section"), p.get("industry_text")])
            if p.get("industry_section"):
                sections.add(p["industry_section"])
        if p.get("postcode") and p["postcode"] not in postcodes:
            postcodes[p["postcode"]] = p.get("city") or ""
        lon, lat = b["geometry"]["coordinates"][:2]
        rows.append(
            [
                b["id"],
                round(lon, 5),
                round(lat, 5),
                industries[code],
                p["name"],
                p.get("employees"),
                p.get("address"),
                p.get("postcode"),
                p.get("location_precision"),
                sorted(network_index[n] for n in business_network_ids(p) if n in network_index),
            ]
        )

    return {
        "version": FORMAT_VERSION,
        "municipality": {
            "kommunekode": kommunekode,
            "name": props["name"],
            "contact": municipality_contact(props),
            "boundary": _outline(orjson.dumps(municipality["geometry"])),
        },
        "fields": list(BUSINESS_FIELDS),
        "businesses": rows,
        "industries": industry_rows,
        "sections": {s: list(SECTION_NAMES[s]) for s in sorted(sections) if s in SECTION_NAMES},
        "tiled": tiled,
        # the size choices' groups (null: without a size group), for the widget's size filter
        "sizes": {c: [g or None for g in groups] for c, groups in SIZE_CHOICES.items()},
        # the English names of the industries' NACE classes, by four digits: of the rows' codes,
        # or of every class for a tiled map (its popups read codes from the items)
        "classes_en": all_english_classes()
        if tiled is not None
        else english_classes_of(code for code in industries if code),
        "postcodes": postcodes,
        "networks": [_network(n) for n in kept],
        "tiles": tiles,
        "attribution": DATA_ATTRIBUTION,
    }


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cycle collector off while building (it would scan the growing heap many times)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _network(n: dict[str, Any]) -> dict[str, Any]:
    p = n["properties"]
    geometry = n.get("geometry") or {}
    area = geometry if geometry.get("type") in ("Polygon", "MultiPolygon") else None
    if p.get("meeting_place_lon") is not None and p.get("meeting_place_lat") is not None:
        marker = [round(p["meeting_place_lon"], 5), round(p["meeting_place_lat"], 5)]
    elif area is not None:
        marker = _inside_point(orjson.dumps(area))
    elif geometry.get("type") == "Point":
        marker = [round(c, 5) for c in geometry["coordinates"][:2]]
    else:
        marker = None
    return {
        "id": n["id"],
        "name": p["name"],
        "description": p.get("description"),
        "website": p.get("website"),
        "email": p.get("email"),
        "phone": p.get("phone"),
        "meeting_place": marker,
        "meeting_place_name": p.get("meeting_place_name"),
        "area": _outline(orjson.dumps(area)) if area is not None else None,
        "tags": split(p.get("tags")),
        "member_count": p.get("member_count", 0),
    }


def _kommunekode(code: str) -> str:
    try:
        return P.parse_municipality(code)
    except InvalidParameter:
        raise NotFound(f"'{code}' is not a kommunekode (e.g. 376)") from None


@lru_cache(maxsize=256)
def _outline(geometry_json: bytes) -> dict[str, Any]:
    """A polygon simplified for drawing (topology kept) with 5 decimals (about 1 m)."""
    from shapely.geometry import mapping, shape

    geom = shape(orjson.loads(geometry_json))
    simple = geom.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    if simple.is_empty or not simple.is_valid:
        simple = geom
    return _rounded(mapping(simple))


@lru_cache(maxsize=256)
def _inside_point(geometry_json: bytes) -> list[float]:
    from shapely.geometry import shape

    point = shape(orjson.loads(geometry_json)).representative_point()
    return [round(point.x, 5), round(point.y, 5)]


def _rounded(node: Any) -> Any:
    if isinstance(node, float):
        return round(node, 5)
    if isinstance(node, (list, tuple)):
        return [_rounded(x) for x in node]
    if isinstance(node, dict):
        return {k: _rounded(v) for k, v in node.items()}
    return node
