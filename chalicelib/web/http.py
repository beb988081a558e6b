"""HTTP concerns kept out of the core: content negotiation, caching headers, error mapping.

`HttpResponse` is framework-free; app.py turns it into a Chalice Response. Errors of the core
become JSON documents here and only here; anything unexpected becomes a bare 500.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from chalicelib.config import Settings
from chalicelib.domain.errors import MikrokortError, NotAcceptable

log = logging.getLogger("mikrokort")

JSON = "application/json"
# The codings the embedded server may name in a compressed answer's ETag (`W/"…-gzip"`).
ENCODING_SUFFIXES = ("-gzip", "-br")


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


def version_etag(*parts: str | bytes) -> str:
    """A weak validator made before the body: from cheap versions (a store's change token) and
    the request's form, plus the code that builds the answer, so that an upgrade never leaves a
    client's old copy valid while the data stands still."""
    h = hashlib.blake2b(_code_version(), digest_size=16)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return f'W/"{h.hexdigest()}"'


@functools.cache
def _code_version() -> bytes:
    """The installed code's files by name, size and time: once per process, a few stat calls."""
    from chalicelib import PACKAGE_DIR

    h = hashlib.blake2b(digest_size=16)
    sources = sorted(PACKAGE_DIR.rglob("*.py")) or sorted(PACKAGE_DIR.rglob("*.pyc"))
    for path in sources:  # a package shipped as bytecode only has its .pyc files
        st = path.stat()
        h.update(f"{path.relative_to(PACKAGE_DIR)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.digest()


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
    held = matching_etag(req.header("if-none-match"), etag)
    if held is not None:
        # the tag the client holds: a compressed copy keeps its own (web/compression.py)
        return HttpResponse(304, b"", media_type, {**headers, "ETag": held})
    return HttpResponse(200, body, media_type, headers)


def not_modified(
    req: HttpRequest,
    media_type: str,
    *,
    etag: str,
    max_age: int,
    extra: dict[str, str] | None = None,
) -> HttpResponse | None:
    """The 304 of `ok`, or None when the body is needed: lets a route whose ETag comes from
    cheap versions answer a revalidation before it reads or builds anything."""
    answer = ok(req, b"", media_type, etag=etag, max_age=max_age, extra=extra)
    return answer if answer.status == 304 else None


def _opaque(tag: str) -> str:
    """A tag as the weak comparison of If-None-Match sees it: no W/, no coding suffix."""
    tag = tag.strip().removeprefix("W/")
    for suffix in ENCODING_SUFFIXES:
        if tag.endswith(suffix + '"'):
            return tag[: -len(suffix) - 1] + '"'
    return tag


def matching_etag(if_none_match: str | None, etag: str) -> str | None:
    """The tag of `If-None-Match` that names this version (`*` names any), or None.

    Weak comparison (RFC 9110 13.1.2), and a compressed representation's tag (`W/"x-gzip"`,
    made by the embedded server) names the same version as `W/"x"`."""
    if not if_none_match:
        return None
    if if_none_match.strip() == "*":
        return etag
    want = _opaque(etag)
    for tag in if_none_match.split(","):
        if tag.strip() and _opaque(tag) == want:
            return tag.strip()
    return None


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


def security_headers(media_type: str, own: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers every answer carries; HTML pages also get a content security policy, and may
    not be framed, unless the page's own policy names who may frame it (`own`: the answer's
    headers, which win over these)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = _HTML_POLICY
        policy = (own or {}).get("Content-Security-Policy", _HTML_POLICY)
        if "frame-ancestors 'none'" in policy:
            headers["X-Frame-Options"] = "DENY"
    return headers


def with_query(href: str, values: dict[str, str]) -> str:
    """A link with its query parameters (none: the bare link)."""
    from urllib.parse import urlencode

    return f"{href}?{urlencode(values)}" if values else href
