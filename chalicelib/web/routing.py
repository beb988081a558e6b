"""Routes as data, and the one way a route's answer is finished, whatever server received it.

A `Route` names its handler by reference; `chalicelib/routes.py` lists them all. Both front
doors use this module: `app.py` registers the table with Chalice (API Gateway and Lambda), and
`web/wsgi.py` serves the same table to the embedded server without Chalice, so neither keeps
request state anywhere but on the stack of the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import MikrokortError
from chalicelib.web.http import HttpRequest, HttpResponse, error_response, security_headers

Handler = Callable[..., HttpResponse]


@dataclass(frozen=True)
class RouteGroup:
    """Who may call a group of routes and whether other sites may read them (CORS)."""

    name: str
    cors: bool


PUBLIC = RouteGroup("public", cors=True)  # open reads, cacheable, readable from any site
PAGE = RouteGroup("page", cors=False)  # HTML pages and forms of this site
ADMIN = RouteGroup("admin", cors=False)  # API key required, never cached

JSON_BODY = ("application/json",)
FORM_BODY = ("application/x-www-form-urlencoded", "application/json")

# What a PUBLIC route answers to other sites (and to a CORS preflight).
CORS_ALLOW_ORIGIN = "*"
# the headers a page on another site may read (beyond the CORS-safelisted ones): validators,
# the CRS of the geometries, the paging links of a CSV page, a download's file name
CORS_EXPOSE_HEADERS = ("ETag", "Content-Crs", "Link", "Content-Disposition")
CORS_MAX_AGE = 86_400
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Api-Key",
)


def cors_headers() -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": CORS_ALLOW_ORIGIN,
        "Access-Control-Allow-Headers": ",".join(CORS_ALLOW_HEADERS),
        "Access-Control-Expose-Headers": ",".join(CORS_EXPOSE_HEADERS),
        "Access-Control-Max-Age": str(CORS_MAX_AGE),
    }


@dataclass(frozen=True)
class Route:
    name: str  # unique; the Chalice view name
    method: str
    path: str  # an API Gateway template: /collections/{collection_id}/items
    handler: Handler  # (services, request, **path parameters) -> HttpResponse
    group: RouteGroup = PUBLIC
    content_types: tuple[str, ...] = JSON_BODY  # request bodies accepted
    # work that grows with the parameters (or a form that writes): limited per client address,
    # by the embedded server (web/ratelimit.py) and on AWS by a WAF rate rule (infra)
    limited: bool = False


def respond(route: Route, services: Any, req: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """Run a route's handler and finish its answer: errors mapped to HTTP in one place, the
    security headers on everything, CORS on the public group."""
    try:
        result = route.handler(services, req, **params)
    except Exception as exc:  # the one place every error becomes its HTTP answer
        result = error_response(exc)
        if isinstance(exc, MikrokortError) and _for_a_person(route, req):
            from chalicelib.web.pages import error_page

            result = error_page(req, exc)
    headers = {
        "Content-Type": result.media_type,
        **security_headers(result.media_type, result.headers),
    }
    headers.update(result.headers)
    if route.group.cors:
        for name, value in cors_headers().items():
            headers.setdefault(name, value)
    return HttpResponse(result.status, result.body, result.media_type, headers)


def _for_a_person(route: Route, req: HttpRequest) -> bool:
    """Whether an error is answered as a page: a read by a browser (or with `f=html`)."""
    if route.group is ADMIN or req.method not in ("GET", "HEAD"):
        return False
    from chalicelib.web.pages import wants_html

    return wants_html(req)


_PARAM = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


@dataclass
class Match:
    route: Route | None  # None: no route for this method (see `allowed`) or path
    params: dict[str, str]
    allowed: tuple[str, ...] = ()  # the methods the path offers, for a 405
    cors: bool = False  # whether the path's routes are shared with other sites (preflight)


class RouteTable:
    """Finds the route of a method and a decoded path as API Gateway does: literal segments
    before parameters; HEAD answered by the GET route."""

    def __init__(self, routes: Iterable[Route]) -> None:
        by_template: dict[str, dict[str, Route]] = {}
        for route in routes:
            by_template.setdefault(route.path, {})[route.method] = route
        # a template with fewer parameters wins (/networks/register before /networks/{id})
        ordered = sorted(by_template, key=lambda t: (t.count("{"), -len(t)))
        self._entries = [(_pattern(t), by_template[t]) for t in ordered]

    def match(self, method: str, path: str) -> Match | None:
        for pattern, methods in self._entries:
            found = pattern.match(path)
            if found is None:
                continue
            params = found.groupdict()
            route = methods.get("GET" if method == "HEAD" else method)
            cors = any(r.group.cors for r in methods.values())
            return Match(route, params, tuple(methods), cors)
        return None
