"""Compressed answers for the embedded server: gzip, and brotli when the `brotli` wheel is there.

On AWS, API Gateway compresses (gzip or deflate, bodies of at least `minimum_compression_size`
bytes, see .chalice/config.json and docs/API.md); `mikrokort serve` has nothing in front of it,
and the answers are JSON that shrinks about fifteen times, so the embedded server does it here,
once, after the route has answered.

The rules, so that caches and clients never mix representations up:
- the coding is negotiated from Accept-Encoding with its q-values (`identity;q=0`, `*`, `x-gzip`);
  no header means identity, and the server's preference (br, then gzip) breaks ties;
- small bodies (under `MIN_SIZE`, API Gateway's threshold), media that is compressed already
  (images, archives), 204s, 304s and HEAD answers are sent as they are;
- answers marked `Cache-Control: no-store` are not compressed: they are the private ones (admin,
  forms carrying a token), where compression beside reflected input can leak a secret (BREACH),
  and their ETag is the version that `If-Match` writes name;
- every answer that could be compressed says `Vary: Accept-Encoding`;
- a compressed answer's ETag is weak with the coding as a suffix (`W/"…-gzip"`), so it differs
  from the identity one; `web.http.ok` strips the suffix when it compares `If-None-Match`.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.web.http import ENCODING_SUFFIXES, HttpResponse

try:  # an optional wheel: the embedded mode uses it when installed; Lambda never needs it
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the installation
    _brotli = None

MIN_SIZE = 1024  # bytes: as API Gateway's minimum_compression_size (.chalice/config.json)
GZIP_LEVEL = 6  # zlib's default: most of level 9's gain at a third of its time
BROTLI_QUALITY = 5  # for answers made per request: smaller than gzip 6, about as fast
CACHE_MIN = 32 * 1024  # bodies at least this large keep their compressed form (map data, pages)
CACHE_BYTES = 64 * 1024 * 1024  # at most this much compressed output kept, least recent dropped

_COMPRESSIBLE = {
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-ndjson",
    "application/vnd.mapbox-vector-tile",  # protobuf with repeated keys: about a third
    "image/svg+xml",
}


def _gzip(body: bytes) -> bytes:
    # wbits 31: the gzip container with a zero time stamp, so one body always gives one output
    return zlib.compress(body, GZIP_LEVEL, wbits=31)


def _br(body: bytes) -> bytes:
    assert _brotli is not None
    return bytes(_brotli.compress(body, quality=BROTLI_QUALITY))


CODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": _gzip}
if _brotli is not None:
    CODERS = {"br": _br, **CODERS}  # first is preferred on equal q-values
assert set(CODERS) <= {s.removeprefix("-") for s in ENCODING_SUFFIXES}


@dataclass(frozen=True)
class Choice:
    """The coding to send (None: identity) and whether identity would do at all."""

    coding: str | None
    identity_ok: bool = True


def choose(accept_encoding: str | None, codings: tuple[str, ...] = tuple(CODERS)) -> Choice:
    """The client's most preferred coding among `codings`, as RFC 9110 12.5.3 reads.

    An absent header accepts anything, and identity is then the sensible answer; an unlisted
    identity stays acceptable unless `identity;q=0` or a `*;q=0` without an identity entry says
    otherwise. A malformed q-value counts as 0, as in `web.http.negotiate`.
    """
    if accept_encoding is None:
        return Choice(None)
    q: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, rest = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        if name == "x-gzip":
            name = "gzip"
        value = 1.0
        for param in rest.split(";"):
            key, _, text = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    value = float(text.strip())
                except ValueError:
                    value = 0.0
                if not 0.0 <= value <= 1.0:
                    value = 0.0
        q[name] = max(value, q.get(name, value))  # a coding listed twice: its best q
    star = q.get("*")
    identity_q = q.get("identity", 1.0 if star is None or star > 0 else 0.0)
    best: tuple[float, int, str] | None = None
    for rank, coding in enumerate(codings):
        value = q.get(coding, star if star is not None else 0.0)
        if value > 0 and (best is None or (value, -rank) > best[:2]):
            best = (value, -rank, coding)
    if best is None or ("identity" in q and identity_q > best[0]):
        return Choice(None, identity_ok=identity_q > 0)
    return Choice(best[2], identity_ok=identity_q > 0)


def compressible(media_type: str) -> bool:
    """Text and JSON or XML documents; not images, archives or anything else compressed."""
    base = media_type.split(";")[0].strip().lower()
    return (
        base.startswith("text/")
        or base in _COMPRESSIBLE
        or base.endswith("+json")
        or base.endswith("+xml")
    )


class _Cache:
    """Compressed forms of large bodies by their digest: map data and the big pages are asked
    for again and again unchanged, and compressing 500 KB costs more than answering it."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, coding: str, body: bytes) -> bytes:
        key = (coding, hashlib.blake2b(body, digest_size=16).digest())
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        out = CODERS[coding](body)
        with self._lock:
            if key not in self._items:
                self._items[key] = out
                self._size += len(out)
            while self._size > self.limit and self._items:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
        return out


_cache = _Cache()


def compress(body: bytes, coding: str) -> bytes:
    """`body` in `coding` (a key of CODERS); large bodies from the cache."""
    if len(body) >= CACHE_MIN:
        return _cache.get(coding, body)
    return CODERS[coding](body)


def _vary(headers: dict[str, str]) -> None:
    current = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if "accept-encoding" not in (v.lower() for v in current):
        headers["Vary"] = ", ".join([*current, "Accept-Encoding"])


def _suffixed(etag: str, coding: str) -> str:
    opaque = etag.removeprefix("W/").strip()
    if len(opaque) >= 2 and opaque[0] == opaque[-1] == '"':
        opaque = opaque[1:-1]
    return f'W/"{opaque}-{coding}"'


def encode(
    response: HttpResponse, headers: dict[str, str], accept_encoding: str | None, head: bool
) -> tuple[bytes, dict[str, str]] | None:
    """The body to send and its headers, compressed where the rules above allow; None when the
    client accepts neither identity nor any coding this server has (the caller answers 406)."""
    out = dict(headers)
    media = out.get("Content-Type", response.media_type)
    has_body = response.status not in (204, 304) and not 100 <= response.status < 200
    if not compressible(media) or "Content-Encoding" in out:
        return response.body, out
    _vary(out)
    if not has_body or head:
        return response.body, out
    choice = choose(accept_encoding)
    private = "no-store" in out.get("Cache-Control", "").lower()
    worth_it = len(response.body) >= MIN_SIZE and not private
    if choice.coding is None or not (worth_it or not choice.identity_ok):
        if not choice.identity_ok and choice.coding is None:
            return None
        return response.body, out
    body = compress(response.body, choice.coding)
    out["Content-Encoding"] = choice.coding
    if "ETag" in out and not private:
        out["ETag"] = _suffixed(out["ETag"], choice.coding)
    return body, out
