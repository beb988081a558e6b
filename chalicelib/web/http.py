"""HTTP concerns kept out of the core: content negotiation, caching headers, error mapping.

`HttpResponse` is framework-free; app.py turns it into a Chalice Response. Errors of the core
become JSON documents here and only here; anything unexpected becomes a bare 500.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import orjson

from chalicelib.config import Settings
from chalicelib.domain.errors import MikrokortError, NotAcceptable

log = logging.getLogger("mikrokort")

JSON = "application/json"


@dataclass
class HttpRequest:
    """What a handler needs from a request, whatever server received it."""

    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    base_url: str
    method: str = "GET"
    body: bytes = b""
    client: str | None = None  # the caller's address, for rate limits (never stored raw)
    settings: Settings = field(default_factory=Settings)  # the deployment that received it

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class HttpResponse:
    status: int
    body: bytes
    media_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def negotiate(accept: str | None, offers: list[str]) -> str:
    """The offer the Accept header prefers most (first offer on ties or without Accept)."""
    if not accept or not accept.strip():
        return offers[0]
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        media, _, rest = item.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in rest.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        for rank, offer in enumerate(offers):
            base = offer.split(";")[0]
            if media in ("*/*", base) or (media.endswith("/*") and base.startswith(media[:-1])):
                candidate = (q, -rank, offer)
                if best is None or candidate > best:
                    best = candidate
    if best is None:
        raise NotAcceptable(
            f"cannot produce any of '{accept}'; available: {', '.join(offers)}",
            parameter="Accept",
        )
    return best[2]


def etag_of(*parts: bytes) -> str:
    """A weak validator over the parts that carry the data (not the response time stamp)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return f'W/"{h.hexdigest()}"'


def ok(
    req: HttpRequest,
    body: bytes,
    media_type: str,
    *,
    etag: str,
    max_age: int,
    extra: dict[str, str] | None = None,
) -> HttpResponse:
    """A 200, or a 304 when the client already holds this version (If-None-Match)."""
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept",
        **(extra or {}),
    }
    inm = req.header("if-none-match")
    if inm and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
        return HttpResponse(304, b"", media_type, headers)
    return HttpResponse(200, body, media_type, headers)


def error_response(exc: BaseException) -> HttpResponse:
    if isinstance(exc, MikrokortError):
        return HttpResponse(
            exc.status, orjson.dumps(exc.body()), JSON, {"Cache-Control": "no-store"}
        )
    log.exception("unexpected error", exc_info=exc)
    body = {"code": "ServerError", "description": "An unexpected error occurred."}
    return HttpResponse(500, orjson.dumps(body), JSON, {"Cache-Control": "no-store"})


_HTML_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


def security_headers(media_type: str) -> dict[str, str]:
    """Headers every answer carries; HTML pages also get a content security policy."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if media_type.startswith("text/html"):
        headers.update({"Content-Security-Policy": _HTML_POLICY, "X-Frame-Options": "DENY"})
    return headers


def with_query(href: str, values: dict[str, str]) -> str:
    """A link with its query parameters (none: the bare link)."""
    from urllib.parse import urlencode

    return f"{href}?{urlencode(values)}" if values else href
