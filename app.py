"""The Mikrokort Chalice app (API Gateway and Lambda): the route table of chalicelib.routes,
and the scheduled jobs.

Every route is registered from that table; each view turns Chalice's request into the
framework-free `HttpRequest` and lets `chalicelib.web.routing.respond` run the handler and
finish the answer, exactly as the embedded server does. Lambda gives a container one request at
a time, so reading `app.current_request` here is safe; the embedded server does not use it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from chalice import Chalice, CORSConfig, Cron, Response

from chalicelib.config import Settings
from chalicelib.domain.errors import NotConfigured
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.web import routing
from chalicelib.web.http import HttpRequest, error_response
from chalicelib.web.routing import Route

log = logging.getLogger("mikrokort")
app = Chalice(app_name="mikrokort")
app.debug = False
# Media types the API answers in binary: published GeoPackages (served from the app where the
# files are not on S3), map images and vector tiles. API Gateway is told them, and carries
# those bodies base64.
BINARY_TYPES = frozenset(
    {
        "application/geopackage+sqlite3",
        "application/octet-stream",
        "application/zip",
        "application/vnd.mapbox-vector-tile",
    }
)
app.api.binary_types = sorted({*app.api.binary_types, *BINARY_TYPES})

_CORS = CORSConfig(
    allow_origin=routing.CORS_ALLOW_ORIGIN,
    expose_headers=list(routing.CORS_EXPOSE_HEADERS),
    max_age=routing.CORS_MAX_AGE,
)
_services: Services | None = None


def services() -> Services:
    """This process's services, from the environment on first use."""
    global _services
    if _services is None:
        _services = Services(Settings.from_env())
    return _services


def configure(settings: Settings | None = None) -> Services:
    """Start over with these settings (None: read the environment again); for tests and tools."""
    global _services
    if _services is not None:
        _services.close()
    _services = Services(settings or Settings.from_env())
    return _services


def _request(settings: Settings) -> HttpRequest:
    r = app.current_request
    headers = {k.lower(): v for k, v in (r.headers or {}).items()}
    params = {}
    if r.query_params:
        params = {k: r.query_params.getlist(k) for k in r.query_params}
    body = b""
    if r.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = r.raw_body or b""
    identity = (r.context or {}).get("identity") or {}
    # Chalice gives the route's template (/collections/{collection_id}); pages link to
    # themselves, so the path is the one asked for
    path = r.path
    for name, value in (r.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return HttpRequest(
        path=path,
        params=params,
        headers=headers,
        base_url=_base_url(r, headers, settings),
        method="GET" if r.method == "HEAD" else r.method,  # HEAD is GET without the body
        body=body,
        client=identity.get("sourceIp"),
        settings=settings,
    )


def _base_url(r: Any, headers: dict[str, str], settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "127.0.0.1")
    stage = (r.context or {}).get("stage")
    if stage and host.endswith(".amazonaws.com"):
        return f"{scheme}://{host}/{stage}"
    return f"{scheme}://{host}"


def _respond(route: Route, params: dict[str, str]) -> Response:
    s = services()
    try:
        if s.settings.on_lambda:  # never serve the public with the development secrets
            s.settings.require_secrets()
    except NotConfigured as exc:
        log.error("%s", exc.description)
        result = error_response(exc)
    else:
        result = routing.respond(route, s, _request(s.settings), params)
    # API Gateway's proxy integration takes a str body, or bytes of a binary media type (which
    # Chalice sends base64-encoded); HEAD has the headers of GET, no body.
    body: str | bytes = result.body
    if app.current_request.method == "HEAD":
        body = ""
    elif not _binary(result.headers.get("Content-Type", "")):
        body = result.body.decode()
    return Response(body=body, headers=result.headers, status_code=result.status)


def _binary(media: str) -> bool:
    """Whether API Gateway must carry this answer as binary (a GeoPackage, an image)."""
    kind = media.split(";", 1)[0].strip().lower()
    return kind in BINARY_TYPES or (kind.startswith("image/") and kind != "image/svg+xml")


def _view(route: Route) -> Any:
    def view(**params: str) -> Response:
        return _respond(route, params)

    view.__name__ = route.name
    view.__doc__ = route.handler.__doc__
    return view


for _route in ROUTES:
    app.route(
        _route.path,
        methods=[_route.method, "HEAD"] if _route.method == "GET" else [_route.method],
        name=_route.name,
        cors=_CORS if _route.group.cors else False,
        content_types=list(_route.content_types),
    )(_view(_route))


@app.schedule(Cron(15, "0-5", "*", "*", "?", "*"), name="cvr_refresh")
def cvr_refresh(event: Any) -> dict:
    """Nightly: the register's changes into the store. Called hourly from 00:15 to 05:15 UTC:
    the first call runs, later ones resume a run that ran out of time, or do nothing."""
    from chalicelib.intake.cvr.jobs import scheduled_refresh

    return scheduled_refresh(services().settings, event.context)


@app.schedule(Cron(0, 4, 15, 1, "?", "*"), name="yearly_snapshot")
def yearly_snapshot(event: Any) -> dict:
    """15 January, 04:00 UTC: publish last year's snapshot and barometer (once)."""
    from chalicelib.publishing.snapshot import scheduled_snapshot

    return scheduled_snapshot(services().settings)
