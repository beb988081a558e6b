"""A local stand-in for Gsearch v2.0 (Dataforsyningen's address search), for tests.

It speaks the part of the format the geocoder uses: `GET /rest/gsearch/v2.0/adresse?q=&limit=`
with a `token` parameter, answering a JSON array of addresses whose geometries are in
EPSG:25832, and a 403 HTML page for a missing or wrong token, like the real gateway. Faults
(failing answers, slowness, a refused connection) can be injected to test the adapter's
behaviour when the service misbehaves, which the real one cannot be made to do on demand.
"""

from __future__ import annotations

import bisect
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from chalicelib.domain.utm import wgs84_to_utm32

PREFIX = "/rest/gsearch/v2.0"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

_FORBIDDEN_PAGE = (
    b"<html><head><title>403 Forbidden</title></head>"
    b"<body><h1>403 Forbidden</h1><p>Missing or invalid token</p></body></html>"
)
# Letters NFKD does not decompose; folded so "Nykobing" finds "Nykøbing" as users type it.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "đ": "d", "ð": "d", "ß": "ss"})


def fold(text: str) -> list[str]:
    """Lower-case, accent-free words of `text`: the unit the stand-in matches on."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in plain).split()


@dataclass
class _Fault:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler sleeping out `delay`
    standin: GsearchStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection, so down() refuses at once

    def do_GET(self) -> None:
        self.server.standin._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output is not the place for an access log."""


class GsearchStandIn:
    """Gsearch v2.0 on 127.0.0.1 (a free port), in a thread; also a context manager."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # required from clients when set
        self.delay = 0.0  # seconds to sleep before each answer
        self.requests = 0  # every request received, answered or not
        self.last_params: dict[str, str] | None = None
        self._addresses: list[dict[str, Any]] = []
        # word index of the addresses' texts as added: folded word -> positions in _addresses,
        # so a search costs what it finds, not the number of addresses (benchmarks hold 100,000)
        self._postings: dict[str, set[int]] = {}
        self._words: list[str] | None = None  # sorted distinct words, rebuilt after an add
        self._by_prefix: dict[str, set[int]] = {}  # positions of each query word seen
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The base URL of the service, like https://api.dataforsyningen.dk/rest/gsearch/v2.0."""
        return f"http://127.0.0.1:{self._port}{PREFIX}"

    def start(self) -> str:
        """Listen (on a free port the first time) and return the base URL."""
        if self._server is None:
            server = _Server(("127.0.0.1", self._port), _Handler)
            server.standin = self
            self._port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop listening; connections are refused until start() or up()."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def down(self) -> None:
        """Simulate an outage: the port stops listening, so connections are refused."""
        self.stop()

    def up(self) -> None:
        """End the outage: listen again on the same port."""
        self.start()

    def __enter__(self) -> GsearchStandIn:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- data and faults -------------------------------------------------------------------

    def add_address(
        self,
        address_id: str,
        vejnavn: str,
        husnummer: str,
        postnummer: str,
        postnummernavn: str,
        kommunekode: str,
        lon: float,
        lat: float,
        etage: str | None = None,
        doer: str | None = None,
    ) -> dict[str, Any]:
        """Store an address (point given in WGS84, served in EPSG:25832); returns the stored
        record, which a test may edit (e.g. drop `geometri`) to shape the answer."""
        x, y = wgs84_to_utm32(lon, lat)
        unit = f"{etage}." + (f" {doer}" if doer else "") if etage else (doer or "")
        text = f"{vejnavn} {husnummer}" + (f", {unit}" if unit else "")
        record: dict[str, Any] = {
            "id": address_id,
            "visningstekst": f"{text}, {postnummer} {postnummernavn}",
            "vejnavn": vejnavn,
            "husnummer": husnummer,
            "etagebetegnelse": etage,
            "doerbetegnelse": doer,
            "postnummer": postnummer,
            "postnummernavn": postnummernavn,
            "kommunekode": kommunekode,
            "geometri": {"type": "MultiPoint", "coordinates": [[x, y]]},
            "vejpunkt_geometri": {"type": "Point", "coordinates": [x, y]},
        }
        with self._lock:
            position = len(self._addresses)
            self._addresses.append(record)
            for word in fold(record["visningstekst"]):
                self._postings.setdefault(word, set()).add(position)
            self._words = None
            self._by_prefix.clear()
        return record

    def fail_next(
        self,
        n: int,
        status: int = 500,
        *,
        body: bytes | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next `n` requests with `status` (and `body`, default an HTML error page),
        before any token check, as a failing gateway would; `retry_after` sets that header."""
        if body is None:
            body = f"<html><body><h1>{status} Error</h1></body></html>".encode()
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._faults.extend(_Fault(status, body, headers) for _ in range(n))

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        with self._lock:
            self.requests += 1
        if self.delay > 0:
            time.sleep(self.delay)
        url = urlsplit(req.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with self._lock:
            self.last_params = params
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            _send(req, fault.status, fault.body, "text/html; charset=utf-8", fault.headers)
        elif self.token is not None and params.get("token") != self.token:
            _send(req, 403, _FORBIDDEN_PAGE, "text/html; charset=utf-8")
        elif url.path.rstrip("/") != f"{PREFIX}/adresse":
            _send_json(req, 404, {"message": f"no resource {url.path}"})
        elif "q" not in params:
            _send_json(req, 400, {"message": "q is required"})
        else:
            try:
                limit = int(params.get("limit", DEFAULT_LIMIT))
            except ValueError:
                _send_json(req, 400, {"message": "limit must be an integer"})
                return
            if not 1 <= limit <= MAX_LIMIT:
                _send_json(req, 400, {"message": f"limit must be 1..{MAX_LIMIT}"})
                return
            _send_json(req, 200, self.search(params["q"], limit))

    def search(self, q: str, limit: int) -> list[dict[str, Any]]:
        """Addresses whose text holds every word of `q` (each as the start of a word), in the
        order they were added.

        Candidates come from a word index of the texts as added, then each is checked against
        its current text as before (a record whose text a test edits can drop out, not come in).
        """
        wanted = fold(q)
        with self._lock:
            if wanted:
                found = sorted((self._with_prefix(w) for w in set(wanted)), key=len)
                positions = sorted(set.intersection(*found))
                records = [self._addresses[i] for i in positions]
            else:
                records = list(self._addresses)
        hits = []
        for record in records:
            words = fold(record["visningstekst"])
            if all(any(w.startswith(q_word) for w in words) for q_word in wanted):
                hits.append(record)
                if len(hits) == limit:
                    break
        return hits

    def _with_prefix(self, prefix: str) -> set[int]:
        """Positions of the addresses with a word starting with `prefix` (caller holds the
        lock); kept until the next add, since the same words are asked again and again."""
        found = self._by_prefix.get(prefix)
        if found is None:
            if self._words is None:
                self._words = sorted(self._postings)
            found = set()
            start = bisect.bisect_left(self._words, prefix)
            for word in self._words[start:]:
                if not word.startswith(prefix):
                    break
                found |= self._postings[word]
            self._by_prefix[prefix] = found
        return found


def _send(
    req: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    try:
        req.send_response(status)
        req.send_header("Content-Type", media_type)
        req.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (timed out) before the answer: as on the real network


def _send_json(req: BaseHTTPRequestHandler, status: int, data: Any) -> None:
    _send(req, status, orjson.dumps(data), "application/json; charset=utf-8")
