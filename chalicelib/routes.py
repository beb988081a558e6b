"""Every HTTP route of Mikrokort in one table: method, path, the handler it calls, and its group.

The table is the single source for app.py (which registers it with Chalice for API Gateway),
for the embedded server (chalicelib.web.wsgi) and for the tests that walk the routes. A handler
is a function reference, so a typo fails at import and "go to definition" leads to the code (an
area's module is imported when its first request comes, which keeps a Lambda's cold start
short); each takes the deployment's `Services`, the framework-free `HttpRequest` and the path
parameters, and returns an `HttpResponse`.

The group (chalicelib.web.routing) states who may call a route and how it is shared across
sites: `PUBLIC` open reads, cacheable, CORS for every origin (maps and GIS tools on other sites);
`PAGE` HTML pages and forms of this site, no CORS; `ADMIN` API key required, no CORS.
"""

from __future__ import annotations

from chalicelib.services import Services
from chalicelib.web.http import HttpRequest, HttpResponse
from chalicelib.web.routing import ADMIN, FORM_BODY, PAGE, Route

# -- OGC API - Tiles --------------------------------------------------------------------------


def _matrix_sets(s: Services, r: HttpRequest) -> HttpResponse:
    return s.tiles.matrix_sets(r)


def _matrix_set(s: Services, r: HttpRequest, tms_id: str) -> HttpResponse:
    return s.tiles.matrix_set(r, tms_id)


def _tilesets(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.tiles.tilesets(r, collection_id)


def _tileset(s: Services, r: HttpRequest, collection_id: str, tms_id: str) -> HttpResponse:
    return s.tiles.tileset(r, collection_id, tms_id)


def _tile(
    s: Services, r: HttpRequest, collection_id: str, tms_id: str, z: str, y: str, x: str
) -> HttpResponse:
    return s.tiles.tile(r, collection_id, tms_id, z, y, x)


def _basemap_tile(s: Services, r: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    from chalicelib.tiles import basemap

    return basemap.tile(s.blobs, r, z, x, y)


TILESETS = "/collections/{collection_id}/tiles"
TILE = TILESETS + "/{tms_id}/{z}/{y}/{x}"

# -- OGC API - Features -----------------------------------------------------------------------


def _landing(s: Services, r: HttpRequest) -> HttpResponse:
    return s.features.landing(r)


def _conformance(s: Services, r: HttpRequest) -> HttpResponse:
    return s.features.conformance(r)


def _api(s: Services, r: HttpRequest) -> HttpResponse:
    return s.features.api(r)


def _collections(s: Services, r: HttpRequest) -> HttpResponse:
    return s.features.collections(r)


def _collection(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.features.collection(r, collection_id)


def _queryables(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.features.queryables(r, collection_id)


def _sortables(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.features.sortables(r, collection_id)


def _schema(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.features.schema(r, collection_id)


def _items(s: Services, r: HttpRequest, collection_id: str) -> HttpResponse:
    return s.features.items(r, collection_id)


def _item(s: Services, r: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    return s.features.item(r, collection_id, feature_id)


# -- matchmaking, the welcome feed, the map widget, publications ------------------------------


def _new_businesses(s: Services, r: HttpRequest, code: str) -> HttpResponse:
    from chalicelib.matchmaking import welcome

    return welcome.new_businesses(s.store, r, code)


def _search(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.matchmaking import search

    return search.search(s.store, r)


def _matches(s: Services, r: HttpRequest, business_id: str) -> HttpResponse:
    from chalicelib.matchmaking import matches

    return matches.matches(s.store, r, business_id)


def _widget_asset(s: Services, r: HttpRequest, name: str) -> HttpResponse:
    from chalicelib.mapwidget import widget

    return widget.asset(r, name)


def _demo_page(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.mapwidget import widget

    return widget.demo_page(r)


def _embed_page(s: Services, r: HttpRequest, code: str) -> HttpResponse:
    from chalicelib.mapwidget import embed

    return embed.embed_page(r, code)


def _embed_code_page(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.mapwidget import embed_code

    return embed_code.embed_code_page(r)


def _oembed(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.mapwidget import embed

    return embed.oembed(r)


def _places(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.mapwidget import places

    return places.places(r)


def _map_data(s: Services, r: HttpRequest, code: str) -> HttpResponse:
    from chalicelib.mapwidget import widget

    return widget.map_data(s.store, r, code)


def _snapshots(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.publishing import publications

    return publications.snapshots(s.blobs, r)


def _snapshot_file(s: Services, r: HttpRequest, year: str, name: str) -> HttpResponse:
    from chalicelib.publishing import publications

    return publications.snapshot_file(s.blobs, r, year, name)


def _catalog(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.publishing import publications

    return publications.catalog(s.store, s.blobs, s.settings.municipalities, r)


def _barometer(s: Services, r: HttpRequest, year: str) -> HttpResponse:
    from chalicelib.publishing import publications

    return publications.barometer(s.store, s.blobs, s.settings.municipalities, r, year)


def _robots(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.pages import sitemap

    return sitemap.robots(r)


def _sitemap_index(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.pages import sitemap

    return sitemap.sitemap_index(s.store, r)


def _sitemap_file(s: Services, r: HttpRequest, name: str) -> HttpResponse:
    from chalicelib.pages import sitemap

    return sitemap.sitemap_file(s.store, r, name)


# -- network self-registration (a public form of this site) -----------------------------------


def _register_form(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.curation import selfregistration

    return selfregistration.form_page(r)


def _register_submit(s: Services, r: HttpRequest) -> HttpResponse:
    from chalicelib.curation import selfregistration

    return selfregistration.submit(s.store, r)


# -- administration -----------------------------------------------------------------------------


def _create_network(s: Services, r: HttpRequest) -> HttpResponse:
    return s.admin.create_network(r)


def _get_network(s: Services, r: HttpRequest, network_id: str) -> HttpResponse:
    return s.admin.get_network(r, network_id)


def _replace_network(s: Services, r: HttpRequest, network_id: str) -> HttpResponse:
    return s.admin.replace_network(r, network_id)


def _delete_network(s: Services, r: HttpRequest, network_id: str) -> HttpResponse:
    return s.admin.delete_network(r, network_id)


def _add_member(s: Services, r: HttpRequest, network_id: str, cvr: str) -> HttpResponse:
    return s.admin.set_member(r, network_id, cvr, True)


def _remove_member(s: Services, r: HttpRequest, network_id: str, cvr: str) -> HttpResponse:
    return s.admin.set_member(r, network_id, cvr, False)


def _get_business(s: Services, r: HttpRequest, cvr: str) -> HttpResponse:
    return s.admin.get_business(r, cvr)


def _curate_business(s: Services, r: HttpRequest, cvr: str) -> HttpResponse:
    return s.admin.curate_business(r, cvr)


def _municipality_contact(s: Services, r: HttpRequest, code: str) -> HttpResponse:
    return s.admin.set_municipality_contact(r, code)


def _submissions(s: Services, r: HttpRequest) -> HttpResponse:
    return s.admin.submissions(r)


def _approve(s: Services, r: HttpRequest, submission_id: str) -> HttpResponse:
    return s.admin.decide(r, submission_id, True)


def _reject(s: Services, r: HttpRequest, submission_id: str) -> HttpResponse:
    return s.admin.decide(r, submission_id, False)


def _audit(s: Services, r: HttpRequest) -> HttpResponse:
    return s.admin.audit(r)


NETWORK = "/admin/networks/{network_id}"
MEMBER = "/admin/networks/{network_id}/members/{cvr}"

ROUTES: tuple[Route, ...] = (
    Route("landing", "GET", "/", _landing),
    Route("conformance", "GET", "/conformance", _conformance),
    Route("api", "GET", "/api", _api),
    Route("collections", "GET", "/collections", _collections),
    Route("collection", "GET", "/collections/{collection_id}", _collection),
    Route("queryables", "GET", "/collections/{collection_id}/queryables", _queryables),
    Route("sortables", "GET", "/collections/{collection_id}/sortables", _sortables),
    Route("schema", "GET", "/collections/{collection_id}/schema", _schema),
    Route("items", "GET", "/collections/{collection_id}/items", _items),
    Route("item", "GET", "/collections/{collection_id}/items/{feature_id}", _item),
    Route("tile_matrix_sets", "GET", "/tileMatrixSets", _matrix_sets),
    Route("tile_matrix_set", "GET", "/tileMatrixSets/{tms_id}", _matrix_set),
    Route("tilesets", "GET", TILESETS, _tilesets),
    Route("tileset", "GET", TILESETS + "/{tms_id}", _tileset),
    Route("tile", "GET", TILE, _tile),  # not limited: a map asks for dozens at a time, as items
    Route("basemap_tile", "GET", "/basemap/{z}/{x}/{y}", _basemap_tile),
    Route(
        "new_businesses",
        "GET",
        "/municipalities/{code}/new-businesses",
        _new_businesses,
        limited=True,
    ),
    Route("search", "GET", "/search", _search, limited=True),
    Route("places", "GET", "/places", _places, limited=True),
    Route("matches", "GET", "/businesses/{business_id}/matches", _matches, limited=True),
    Route("widget_asset", "GET", "/widget/{name}", _widget_asset),
    Route("map_data", "GET", "/municipalities/{code}/map-data", _map_data, limited=True),
    Route("snapshots", "GET", "/snapshots", _snapshots),
    Route("snapshot_file", "GET", "/snapshots/{year}/{name}", _snapshot_file),
    Route("catalog", "GET", "/catalog", _catalog),
    Route("barometer", "GET", "/barometer/{year}", _barometer, limited=True),
    Route("demo_page", "GET", "/demo", _demo_page, PAGE),
    # for search engines: the page of every active business and every network
    Route("robots", "GET", "/robots.txt", _robots),
    Route("sitemap_index", "GET", "/sitemap.xml", _sitemap_index, limited=True),
    Route("sitemap_file", "GET", "/sitemaps/{name}", _sitemap_file, limited=True),
    # the map for an iframe on any site, and oEmbed for CMSs that turn a link into it
    Route("embed_code_page", "GET", "/embed", _embed_code_page, PAGE),
    Route("embed_page", "GET", "/embed/{code}", _embed_page, PAGE),
    Route("oembed", "GET", "/oembed", _oembed),
    Route("register_form", "GET", "/networks/register", _register_form, PAGE),
    Route(
        "register_submit",
        "POST",
        "/networks/register",
        _register_submit,
        PAGE,
        FORM_BODY,
        limited=True,
    ),
    Route("admin_create_network", "POST", "/admin/networks", _create_network, ADMIN),
    Route("admin_get_network", "GET", NETWORK, _get_network, ADMIN),
    Route("admin_replace_network", "PUT", NETWORK, _replace_network, ADMIN),
    Route("admin_delete_network", "DELETE", NETWORK, _delete_network, ADMIN),
    Route("admin_add_member", "PUT", MEMBER, _add_member, ADMIN),
    Route("admin_remove_member", "DELETE", MEMBER, _remove_member, ADMIN),
    Route("admin_get_business", "GET", "/admin/businesses/{cvr}", _get_business, ADMIN),
    Route(
        "admin_curate_business", "PUT", "/admin/businesses/{cvr}/curation", _curate_business, ADMIN
    ),
    Route(
        "admin_municipality_contact",
        "PUT",
        "/admin/municipalities/{code}/contact",
        _municipality_contact,
        ADMIN,
    ),
    Route("admin_submissions", "GET", "/admin/submissions", _submissions, ADMIN),
    Route("admin_approve", "POST", "/admin/submissions/{submission_id}/approve", _approve, ADMIN),
    Route("admin_reject", "POST", "/admin/submissions/{submission_id}/reject", _reject, ADMIN),
    Route("admin_audit", "GET", "/admin/audit", _audit, ADMIN),
)
