"""A local stand-in for Gsearch v2.0 (Dataforsyningen's address search), for tests.

It matches, filters and fails as the real service does, read from its source (SDFIdk/gsearch,
branch v2.0; docs/GEOCODING.md has the paths):

- `GET {base}/adresse` and `{base}/husnummer` with `q` (required, not blank), `filter` (ECQL),
  `limit` (1..100, default 10) and `srid` (default 25832), answering a JSON array of the
  resource's attributes (db/seed/init/2_types/dar/*/2_type.sql) with MultiPoint geometries and
  a `Content-Crs` header (rest/Controller.java).
- q is cut into words at whitespace and `-()!`; every word must be the start of a word of the
  same text column: the street's words, house number, floor, door, supplementary town, postcode
  and postcode name (9_function.sql, 4_postprocessing.sql). A second column holds the street's
  words without accents (å -> aa, ø -> o) and with the synonyms of xsyn_gsearch.rules
  (skt/sankt, gl/gammel); the query itself is not unaccented there, as in the real SQL. The
  phonetic column is left out: it only widens matches on the street name.
- The filter subset a geocoder uses: `attribute = 'text'` and `attribute LIKE 'pat%'` joined by
  AND, over the resource's own attributes; anything else is the real 400 error document
  ({"status", "message", "errors"}, errorhandling/ApiServiceAdvice.java).
- The token is read from the `token` header or parameter, as Dataforsyningen's gateway does; a
  missing or wrong one is the gateway's 403 HTML page.

Faults (failing answers, the service's "Connection issues", slowness, a refused connection) can
be injected to test the adapter when the service misbehaves, which the real one cannot be made
to do on demand.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import unicodedata
import uuid
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
SRIDS = (2196, 2197, 2198, 3857, 4093, 4094, 4095, 4096, 4326, 25832, 25833)
SERVED_SRIDS = (4326, 25832)  # the others are allowed by the real service, not converted here
_ILLEGAL_SRID = (
    "SRID is not allowed. Allow list: 2197, 2197, 2198, 3857, 4093, 4094, 4095, 4096, 4326, "
    "25832, 25833"
)  # sic, as rest/Controller.java writes it
_HOUSE_NAMESPACE = uuid.UUID("5b0c36f4-3c50-4b8e-9d0e-5d2b3f6a7c11")

_FORBIDDEN_PAGE = (
    b"<html><head><title>403 Forbidden</title></head>"
    b"<body><h1>403 Forbidden</h1><p>Missing or invalid token</p></body></html>"
)
# db/seed/templates/unaccent_gsearch.rules (the Danish and German letters) and xsyn_gsearch.rules
_UNACCENT = str.maketrans(
    {"å": "aa", "æ": "ae", "ø": "o", "ä": "a", "ö": "o", "ü": "u", "é": "e", "ð": "d"}
)
_SYNONYMS = [
    {"gl", "gammel", "gamle"},
    {"li", "lille"},
    {"ndr", "nordre"},
    {"nr", "nørre"},
    {"sdr", "sønder", "søndre"},
    {"skt", "sankt", "sct"},
    {"st", "store"},
]
_SEPARATORS = re.compile(r"[-()!\s]+")  # replaced by one space in the SQL functions
_TSQUERY_SYNTAX = re.compile(r"[&|:*'\\<>]")  # a query word with these breaks to_tsquery
_LEXEME = re.compile(r"\w+")  # PostgreSQL's 'simple' parser, near enough for addresses

ADRESSE_FIELDS = [
    "id",
    "kommunekode",
    "kommunenavn",
    "vejkode",
    "vejnavn",
    "husnummer",
    "etagebetegnelse",
    "doerbetegnelse",
    "supplerendebynavn",
    "postnummer",
    "postnummernavn",
    "visningstekst",
    "geometri",
    "vejpunkt_geometri",
]
HUSNUMMER_FIELDS = [
    "id",
    "kommunekode",
    "kommunenavn",
    "vejkode",
    "vejnavn",
    "husnummertekst",
    "supplerendebynavn",
    "postnummer",
    "postnummernavn",
    "visningstekst",
    "geometri",
    "vejpunkt_geometri",
]


def lexemes(text: str | None) -> list[str]:
    """The lower-case words PostgreSQL's 'simple' text search configuration makes of `text`."""
    return _LEXEME.findall(text.casefold()) if text else []


def _unaccented(words: list[str]) -> list[str]:
    """The street's words as the unaccent column holds them: unaccented, with synonyms."""
    out: list[str] = []
    for word in words:
        plain = unicodedata.normalize("NFKC", word.translate(_UNACCENT))
        out.append(plain)
        for group in _SYNONYMS:
            if word in group or plain in group:
                out.extend(group)
    return out


class GsearchError(Exception):
    """An error answer: the status and the real service's error document."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "status": _STATUS_NAMES.get(status, str(status)),
            "message": message,
            "errors": errors,
        }


_STATUS_NAMES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    409: "CONFLICT",
    500: "INTERNAL_SERVER_ERROR",
}


def query_words(q: str) -> list[str] | None:
    """The prefixes every hit must have, as the SQL functions make them of `q`; None for a q
    that matches nothing. A word to_tsquery cannot read is the service's 400."""
    text = q.strip()
    if text in (".", ",", "-", "'", "\\", ""):
        return None
    words: list[str] = []
    for word in _SEPARATORS.sub(" ", text).split(" "):
        if _TSQUERY_SYNTAX.search(word):
            raise GsearchError(
                400,
                f'org.postgresql.util.PSQLException: ERROR: syntax error in tsquery: "{word}:*"',
            )
        words.extend(lexemes(word))
    return words or None


# -- the filter (ECQL) subset --------------------------------------------------------------

_CONDITION = re.compile(
    r"\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=|(?i:like))\s*'(?P<value>(?:[^']|'')*)'\s*"
)
_AND = re.compile(r"(?i)\s+AND\s+")


def parse_filter(cql: str, fields: list[str]) -> list[tuple[str, str, str]]:
    """(attribute, operator, value) conditions, all of which must hold."""
    conditions = []
    for part in _AND.split(cql.strip()):
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise GsearchError(
                400,
                f"Parse error: {part.strip()[:60]!r} is not a condition",
                ["org.geotools.filter.text.cql2.CQLException: Encountered an unexpected token"],
            )
        attr = match["attr"]
        if attr not in fields:
            raise GsearchError(
                400,
                f'org.postgresql.util.PSQLException: ERROR: column "{attr}" does not exist',
            )
        conditions.append((attr, match["op"].lower(), match["value"].replace("''", "'")))
    return conditions


def _holds(record: dict[str, Any], condition: tuple[str, str, str]) -> bool:
    attr, op, value = condition
    have = record.get(attr)
    if have is None or isinstance(have, dict):
        return False
    have = str(have)
    if attr == "id":  # a uuid column: the literal must be a uuid, compared canonically
        try:
            return uuid.UUID(have) == uuid.UUID(value)
        except ValueError:
            raise GsearchError(
                400,
                "org.postgresql.util.PSQLException: ERROR: invalid input syntax for type uuid: "
                f'"{value}"',
            ) from None
    if op == "=":
        return have == value
    pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
    return re.fullmatch(pattern, have, re.DOTALL) is not None


# -- the two resources ---------------------------------------------------------------------


class _Table:
    """One resource's records, with a word index over both text columns, so a search costs
    what it finds, not the number of records (benchmarks hold 100,000)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.columns: list[tuple[set[str], set[str]]] = []  # (plain, unaccent) words per record
        self._postings: dict[str, set[int]] = {}
        self._words: list[str] | None = None  # sorted distinct words, rebuilt after an add
        self._by_prefix: dict[str, set[int]] = {}

    def add(self, record: dict[str, Any], street: list[str], rest: list[str]) -> None:
        position = len(self.records)
        plain = set(street) | set(rest)
        unaccent = set(_unaccented(street)) | set(rest)
        self.records.append(record)
        self.columns.append((plain, unaccent))
        for word in plain | unaccent:
            self._postings.setdefault(word, set()).add(position)
        self._words = None
        self._by_prefix.clear()

    def search(self, words: list[str]) -> list[dict[str, Any]]:
        """Records with every word as a prefix in one column (the SQL's OR of two columns)."""
        found = sorted((self._with_prefix(w) for w in set(words)), key=len)
        hits = []
        for position in sorted(set.intersection(*found)):
            for column in self.columns[position]:
                if all(any(have.startswith(w) for have in column) for w in words):
                    hits.append(self.records[position])
                    break
        return hits

    def _with_prefix(self, prefix: str) -> set[int]:
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


def _house_order(record: dict[str, Any]) -> tuple[Any, ...]:
    """The SQL's tie-break order: street, then house number as a number, then letter."""
    number = str(record.get("husnummertekst") or record.get("husnummer") or "")
    digits = re.match(r"\d*", number).group(0)  # type: ignore[union-attr]
    return (
        str(record.get("vejnavn", "")).casefold(),
        int(digits) if digits else 0,
        number,
        str(record.get("etagebetegnelse") or ""),
        str(record.get("doerbetegnelse") or ""),
    )


@dataclass
class _Fault:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "text/html; charset=utf-8"


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
        self.last_headers: dict[str, str] | None = None  # lower-case names
        self.last_path: str | None = None
        self._tables = {"adresse": _Table(), "husnummer": _Table()}
        self._houses: dict[str, dict[str, Any]] = {}  # husnummer id -> record
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
        *,
        supplerendebynavn: str | None = None,
        husnummer_id: str | None = None,
    ) -> dict[str, Any]:
        """Store an address (point given in WGS84, served in EPSG:25832) and its house, as DAR
        has them: husnummer "12B", etage "2" or "st", doer "th". Returns the stored adresse
        record, which a test may edit (e.g. drop `geometri`) to shape the answer; `house()`
        gives the husnummer record. The house's id is derived from street, number, postcode and
        supplementary town unless given, so addresses of one house share it."""
        x, y = wgs84_to_utm32(lon, lat)
        house_text = f"{vejnavn} {husnummer}"
        town = f"{supplerendebynavn}, " if supplerendebynavn else ""
        unit = f"{etage}." + (f" {doer}" if doer else "") if etage else (doer or "")
        kommune = str(kommunekode).zfill(4)
        common = {
            "kommunekode": kommune,
            "kommunenavn": None,
            "vejkode": None,
            "vejnavn": vejnavn,
            "supplerendebynavn": supplerendebynavn,
            "postnummer": postnummer,
            "postnummernavn": postnummernavn,
            "geometri": {"type": "MultiPoint", "coordinates": [[x, y]]},
            "vejpunkt_geometri": {"type": "MultiPoint", "coordinates": [[x, y]]},
        }
        record: dict[str, Any] = {
            "id": address_id,
            **common,
            "husnummer": husnummer,
            "etagebetegnelse": etage,
            "doerbetegnelse": doer,
            "visningstekst": f"{house_text}{', ' + unit if unit else ''}, {town}"
            f"{postnummer} {postnummernavn}",
        }
        record = {name: record.get(name) for name in ADRESSE_FIELDS}
        street = lexemes(vejnavn)
        rest = [*lexemes(supplerendebynavn), *lexemes(postnummer), *lexemes(postnummernavn)]
        house_id = husnummer_id or str(
            uuid.uuid5(
                _HOUSE_NAMESPACE,
                f"{vejnavn}|{husnummer}|{postnummer}|{supplerendebynavn}".casefold(),
            )
        )
        with self._lock:
            self._tables["adresse"].add(
                record, street, [*lexemes(husnummer), *lexemes(etage), *lexemes(doer), *rest]
            )
            if house_id not in self._houses:
                house = {
                    "id": house_id,
                    **common,
                    "husnummertekst": husnummer,
                    "visningstekst": f"{house_text}, {town}{postnummer} {postnummernavn}",
                }
                house = {name: house.get(name) for name in HUSNUMMER_FIELDS}
                self._houses[house_id] = house
                self._tables["husnummer"].add(house, street, [*lexemes(husnummer), *rest])
        return record

    def house(self, address: dict[str, Any]) -> dict[str, Any]:
        """The husnummer record of a stored address (same street, number and postcode)."""
        for house in self._houses.values():
            if all(
                house[k] == address[k] for k in ("vejnavn", "postnummer", "supplerendebynavn")
            ) and (house["husnummertekst"] == address["husnummer"]):
                return house
        raise KeyError(address["id"])

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

    def connection_issues_next(self, n: int) -> None:
        """Answer the next `n` requests as Gsearch does when its database connection fails:
        400 {"status": "BAD_REQUEST", "message": "Connection issues", "errors": null}."""
        body = orjson.dumps(
            {"status": "BAD_REQUEST", "message": "Connection issues", "errors": None}
        )
        with self._lock:
            self._faults.extend(_Fault(400, body, media_type="application/json") for _ in range(n))

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        with self._lock:
            self.requests += 1
        if self.delay > 0:
            time.sleep(self.delay)
        url = urlsplit(req.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in req.headers.items()}
        with self._lock:
            self.last_params, self.last_headers, self.last_path = params, headers, url.path
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            _send(req, fault.status, fault.body, fault.media_type, fault.headers)
            return
        token = headers.get("token", params.get("token"))
        if self.token is not None and token != self.token:
            _send(req, 403, _FORBIDDEN_PAGE, "text/html; charset=utf-8")
            return
        resource = url.path.rstrip("/").removeprefix(PREFIX + "/")
        if resource not in self._tables:
            _send_json(req, 404, {"timestamp": None, "status": 404, "error": "Not Found"})
            return
        try:
            hits, srid = self._answer(resource, params)
        except GsearchError as exc:
            _send_json(req, exc.status, exc.body)
            return
        crs = {"Content-Crs": f"<https://www.opengis.net/def/crs/EPSG/0/{srid}>"}
        _send(req, 200, orjson.dumps(hits), "application/json", crs)

    def _answer(self, resource: str, params: dict[str, str]) -> tuple[list[Any], int]:
        """The hits for a request's parameters, validated as the real controller does."""
        getter = "getAdresse" if resource == "adresse" else "getHusnummer"
        if "q" not in params:
            raise GsearchError(
                400,
                "Required request parameter 'q' for method parameter type String is not present",
            )
        if not params["q"].strip():
            raise GsearchError(400, f"{getter}.q: must not be blank")
        limit = _integer(params.get("limit", str(DEFAULT_LIMIT)), "limit")
        if limit <= 0:
            raise GsearchError(400, f"{getter}.limit: must be greater than 0")
        if limit > MAX_LIMIT:
            raise GsearchError(400, f"{getter}.limit: must be less than or equal to 100")
        srid = _integer(params.get("srid", "25832"), "srid")
        if srid not in SRIDS:
            raise GsearchError(
                400, _ILLEGAL_SRID, [f"java.lang.IllegalArgumentException: {_ILLEGAL_SRID}"]
            )
        if srid not in SERVED_SRIDS:
            raise GsearchError(400, f"the stand-in serves srid 25832 and 4326, not {srid}")
        fields = ADRESSE_FIELDS if resource == "adresse" else HUSNUMMER_FIELDS
        conditions = parse_filter(params["filter"], fields) if params.get("filter") else []
        words = query_words(params["q"])
        if words is None:
            return [], srid
        with self._lock:
            found = self._tables[resource].search(words)
        hits = [r for r in found if all(_holds(r, c) for c in conditions)]
        hits.sort(key=_house_order)
        return [_in_srid(r, srid) for r in hits[:limit]], srid

    def search(self, q: str, limit: int = DEFAULT_LIMIT, resource: str = "adresse") -> list[Any]:
        """The records a request for `q` would answer (no filter), for tests and benchmarks."""
        hits, _ = self._answer(resource, {"q": q, "limit": str(limit)})
        return hits


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise GsearchError(
            400,
            f"Method parameter '{name}': Failed to convert value of type 'java.lang.String' to "
            f"required type 'java.lang.Integer'; For input string: \"{value}\"",
            [f"{name} should be of type java.lang.Integer"],
        ) from None


def _in_srid(record: dict[str, Any], srid: int) -> dict[str, Any]:
    """The record with its geometries in `srid` (stored in 25832)."""
    if srid == 25832:
        return record
    from chalicelib.domain.utm import utm32_to_wgs84

    out = dict(record)
    for name in ("geometri", "vejpunkt_geometri"):
        geometry = record.get(name)
        if isinstance(geometry, dict) and geometry.get("type") == "MultiPoint":
            points = [list(utm32_to_wgs84(x, y)) for x, y in geometry["coordinates"]]
            out[name] = {"type": "MultiPoint", "coordinates": points}
    return out


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
    _send(req, status, orjson.dumps(data), "application/json")
