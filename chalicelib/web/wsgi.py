"""The embedded server: the route table as a WSGI application, served by waitress.

Why not Chalice's local server: it runs one app object on a threaded `http.server`, and the
handler reads `app.current_request`, one attribute shared by every thread, so concurrent
requests could be answered with another request's identity, query or body. Here a request
lives only in the call that answers it. API Gateway's behaviour is kept where clients can see
it: the same routes and errors, 415 for a body type a route does not take, CORS preflights for
public routes, JSON for 404 and 405.

waitress (a well-kept pure-Python server) reads each request whole in its I/O thread before a
worker thread sees it, so slow clients cost a buffer, not a thread; it enforces the body limit
while reading, closes idle connections, bounds the number of connections, and takes the client
address from `X-Forwarded-For` only when the connection comes from the configured trusted proxy.

Nothing stands in front of it to compress, as API Gateway does on AWS, so the answers are
compressed here when the client asks (gzip, brotli where installed; web/compression.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import orjson

from chalicelib.config import Settings
from chalicelib.domain.errors import (
    BadRequest,
    MethodNotAllowed,
    MikrokortError,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)
from chalicelib.web.compression import CODERS, encode
from chalicelib.web.http import JSON, HttpRequest, HttpResponse, error_response, security_headers
from chalicelib.web.ratelimit import RateLimiter
from chalicelib.web.routing import Route, RouteTable, cors_headers, respond

MAX_REQUEST_BODY = 1024 * 1024  # the largest route takes 512 KB; nothing needs more
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# a Host header worth putting in a link: a name or an address, an optional port, nothing else
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)


def _refuse(error: MikrokortError, **headers: str) -> HttpResponse:
    """The front door's own refusals, as every other error is answered (web/http.py)."""
    response = error_response(error)
    response.headers.update(headers)
    return response


def _content_type_ok(content_type: str, accepted: tuple[str, ...]) -> bool:
    """As API Gateway and Chalice decide it: the media type, without parameters, listed."""
    media = content_type.split(";")[0].strip().lower()
    return media in accepted


@dataclass
class WsgiApp:
    """One deployment's routes as a WSGI callable; safe to call from many threads at once."""

    routes: Iterable[Route]
    services: Any  # chalicelib.services.Services: opened once, shared, holds no request state
    max_body: int = MAX_REQUEST_BODY

    def __post_init__(self) -> None:
        self.table = RouteTable(self.routes)
        s = self.services.settings
        self.limiter = RateLimiter(s.rate_limit_per_minute, s.rate_limit_burst)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        response = self.answer(environ, method)
        headers = {**security_headers(response.media_type, response.headers), **response.headers}
        headers.setdefault("Content-Type", response.media_type)
        head = method == "HEAD"
        encoded = encode(response, headers, environ.get("HTTP_ACCEPT_ENCODING"), head)
        if encoded is None:
            accept = environ.get("HTTP_ACCEPT_ENCODING", "")
            response = _refuse(
                NotAcceptable(
                    f"cannot send this answer in any coding of Accept-Encoding '{accept}'; "
                    f"available: {', '.join([*CODERS, 'identity'])}",
                    parameter="Accept-Encoding",
                )
            )
            headers = {**security_headers(JSON), **response.headers}
            encoded = (response.body, headers)
        content, headers = encoded
        # HEAD: the headers of the identity answer (web/compression.py sends HEAD as it is)
        body = b"" if head or response.status == 304 else content
        headers["Content-Length"] = str(len(content) if head else len(body))
        status = f"{response.status} {_phrase(response.status)}"
        start_response(status, list(headers.items()))
        return [body]

    def answer(self, environ: dict[str, Any], method: str) -> HttpResponse:
        path = _path(environ)
        found = self.table.match(method, path)
        if found is None:
            return _refuse(NotFound(f"no route {path}; start at /"))
        if found.route is None:
            if method == "OPTIONS":  # a CORS preflight, answered as API Gateway does
                if not found.cors:
                    return HttpResponse(200, b"", JSON, {"Access-Control-Allow-Methods": "OPTIONS"})
                allow = ",".join([*found.allowed, "OPTIONS"])
                return HttpResponse(
                    200, b"", JSON, {**cors_headers(), "Access-Control-Allow-Methods": allow}
                )
            return _refuse(
                MethodNotAllowed(
                    f"{method} is not supported on {path}; use {', '.join(found.allowed)}"
                ),
                Allow=", ".join(found.allowed),
            )
        route = found.route
        client = environ.get("REMOTE_ADDR") or ""
        if route.limited and (wait := self.limiter.take(client)):
            return _refuse(
                TooManyRequests(f"too many requests from your address; retry in {wait:.0f} s"),
                **{"Retry-After": f"{wait:.0f}"},
            )
        headers = _headers(environ)
        content_type = headers.get("content-type", "application/json")
        if not _content_type_ok(content_type, route.content_types):
            return _refuse(
                UnsupportedMediaType(
                    f"cannot read a {content_type.split(';')[0]} body here; send "
                    + " or ".join(route.content_types)
                )
            )
        body = b""
        if method in _BODY_METHODS:
            length_text = environ.get("CONTENT_LENGTH") or "0"
            if not (length_text.isascii() and length_text.isdigit()):
                return _refuse(BadRequest("Content-Length is not a number"))
            length = int(length_text)
            if length > self.max_body:
                return _refuse(
                    PayloadTooLarge(f"the body is larger than {self.max_body // 1024} KB")
                )
            body = environ["wsgi.input"].read(length) if length else b""
        req = HttpRequest(
            path=path,
            params=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            base_url=self._base_url(environ, headers),
            method="GET" if method == "HEAD" else method,
            body=body,
            client=client or None,
            settings=self.settings,
        )
        return respond(route, self.services, req, found.params)

    def _base_url(self, environ: dict[str, Any], headers: dict[str, str]) -> str:
        """MIKROKORT_PUBLIC_URL when set; otherwise the request's own host, if it is one."""
        if self.settings.public_url:
            return self.settings.public_url
        scheme = environ.get("wsgi.url_scheme", "http")
        scheme = scheme if scheme in ("http", "https") else "http"
        host = headers.get("host", "")
        if not _HOST.match(host):
            host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
        return f"{scheme}://{host}"


def _path(environ: dict[str, Any]) -> str:
    """The decoded path (PEP 3333 hands it over as latin-1 text of the raw bytes)."""
    raw = environ.get("PATH_INFO", "/") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class ServerOptions:
    """Limits of the embedded server; the defaults suit one small machine behind a proxy."""

    threads: int = 8  # requests answered at once (each may hold a store connection)
    connection_limit: int = 512  # open connections; more wait in the backlog
    backlog: int = 1024  # connections the kernel queues before refusing
    channel_timeout: int = 30  # seconds a connection may sit idle or dribble a request
    max_request_header_size: int = 64 * 1024
    trusted_proxy: str | None = None  # the reverse proxy's address; only it sets X-Forwarded-*


_ERROR_CODES = {400: "BadRequest", 413: "PayloadTooLarge", 431: "RequestHeaderFieldsTooLarge"}


def _json_error_channel() -> type:
    """waitress's channel, answering its own errors (a malformed request, a body or headers
    over the limit, found while reading) with the same JSON document as every other error."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            e = self.request.error
            code = _ERROR_CODES.get(e.code, "BadRequest" if e.code < 500 else "ServerError")
            body = orjson.dumps({"code": code, "description": f"{e.reason}: {e.body}"})
            self.status = f"{e.code} {e.reason}"
            self.response_headers.extend(
                [
                    ("Content-Type", JSON),
                    ("Cache-Control", "no-store"),
                    *security_headers(JSON).items(),
                ]
            )
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = JsonErrorTask

    return JsonErrorChannel


def make_server(
    app: WsgiApp, host: str = "127.0.0.1", port: int = 8000, options: ServerOptions | None = None
) -> Any:
    """A waitress server for the app (not yet running); port 0 picks a free port."""
    from waitress.server import create_server

    o = options or ServerOptions()
    proxy: dict[str, Any] = {}
    if o.trusted_proxy:
        proxy = {
            "trusted_proxy": o.trusted_proxy,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
            "clear_untrusted_proxy_headers": True,
        }
    server = create_server(
        app,
        host=host,
        port=port,
        threads=o.threads,
        connection_limit=o.connection_limit,
        backlog=o.backlog,
        channel_timeout=o.channel_timeout,
        max_request_header_size=o.max_request_header_size,
        max_request_body_size=app.max_body,
        expose_tracebacks=False,
        ident="Mikrokort",
        server_name=host,  # in links when a request's Host header is not a host
        **proxy,
    )
    server.channel_class = _json_error_channel()
    return server
