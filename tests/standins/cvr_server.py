"""A local stand-in for CVR's system-to-system Elasticsearch service (ES 6 wire format).

The real service (`distribution.virk.dk`) cannot be used in tests, and its failure modes (expired
scroll ids, 429 with `x-ratelimit-reset`, HTML 401 pages, dropped connections) are exactly what the
CVR client must survive. This server speaks the same wire format for the routes and query subset
the client uses, and lets a test inject those faults deterministically. It serves both indices
the client reads: `virksomhed` (companies) and `produktionsenhed` (production units); unless a
test gives units of its own, every company has one unit at its seat, as in the register.

Run by hand or for benchmarks:
    python -m tests.standins.cvr_server --port 9200 --jsonl companies.jsonl
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import os
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

INDEX = "cvr-v-20220630"
ALIAS = "cvr-permanent"
ROOT_KEY = "Vrvirksomhed"
UNIT_ROOT_KEY = "VrproduktionsEnhed"
MAX_RESULT_WINDOW = 3000
SHARDS = {"total": 6, "successful": 6, "skipped": 0, "failed": 0}

SEARCH_PATH = f"/{ALIAS}/virksomhed/_search"
UNIT_SEARCH_PATH = f"/{ALIAS}/produktionsenhed/_search"
ROOTS = {SEARCH_PATH: ROOT_KEY, UNIT_SEARCH_PATH: UNIT_ROOT_KEY}  # search path -> _source root
SCROLL_PATH = re.compile(r"^/_search/scroll(?:/(?P<id>[^/]+))?/?$")
SEARCH_KEYS = {"query", "size", "from", "sort", "_source"}
SEARCH_PARAMS = {"scroll", "size", "from", "pretty", "rest_total_hits_as_int", "request_cache"}
SCROLL_ID_PREFIX = b"\x0equeryThenFetch\x06"  # what ES 6 scroll ids decode to: DnF1ZXJ5VGhlbkZldGNo

# Leaf fields that are analysed text in the real index: a `term` compares against lowercase
# tokens, so `{"term": {"...sammensatStatus": "Normal"}}` silently matches nothing, as there.
TEXT_FIELDS = {
    "sammensatStatus",
    "kortBeskrivelse",
    "langBeskrivelse",
    "kommuneNavn",
    "navn",
    "branchetekst",
}

NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
TIME_UNITS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}

HTML_401 = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
HTML_403 = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
FAULT_TYPES = {
    429: ("es_rejected_execution_exception", "rejected execution: too many requests"),
    500: ("search_phase_execution_exception", "all shards failed"),
    502: ("bad_gateway_exception", "bad gateway"),
    503: ("cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered];"),
    504: ("gateway_timeout_exception", "gateway timeout"),
}


class EsError(Exception):
    """An error answer in ES's JSON shape; raised anywhere below the handler, sent as is."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body


def es_error(status: int, kind: str, reason: str, *, root: dict[str, Any] | None = None) -> EsError:
    """The `{"error": {"root_cause": [...], "type", "reason"}, "status"}` body ES 6 answers with."""
    cause = root or {"type": kind, "reason": reason}
    return EsError(
        status, {"error": {"root_cause": [cause], "type": kind, "reason": reason}, "status": status}
    )


def shard_failure(status: int, kind: str, reason: str, index: str | None = INDEX) -> EsError:
    """A per-shard failure wrapped as `search_phase_execution_exception`, as ES 6 reports it."""
    cause = {"type": kind, "reason": reason}
    body = {
        "error": {
            "root_cause": [cause],
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "phase": "query",
            "grouped": True,
            "failed_shards": [{"shard": 0 if index else -1, "index": index, "reason": cause}],
        },
        "status": status,
    }
    return EsError(status, body)


def bad_query(reason: str) -> EsError:
    """400 for DSL the stand-in does not implement (or ES would not parse)."""
    return es_error(400, "parsing_exception", reason)


# ---------------------------------------------------------------------------------------------
# Values: numbers, instants, tokens


def as_number(value: Any) -> float | None:
    """The value as a number if it is one (`376` or `"376"`), else None; booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and NUMBER.match(value.strip()):
        return float(value)
    return None


def as_instant(value: Any) -> datetime | None:
    """An ISO date or timestamp as an aware instant (naive ones are UTC, as ES reads them)."""
    if not isinstance(value, str) or not DATE.match(value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def tokens(text: str) -> set[str]:
    """Roughly ES's standard analyser: lowercase word tokens."""
    return set(re.findall(r"\w+", text.lower()))


def values_at(node: Any, parts: Sequence[str]) -> list[Any]:
    """All non-null leaf values at a dotted path, flattening arrays the way ES indexes them."""
    if isinstance(node, list):
        return [v for item in node for v in values_at(item, parts)]
    if not parts:
        return [] if node is None else [node]
    if not isinstance(node, dict):
        return []
    return values_at(node.get(parts[0]), parts[1:])


@dataclass(frozen=True)
class Wanted:
    """A `term(s)` value with its number and instant readings worked out once per query."""

    raw: Any
    number: float | None
    instant: datetime | None

    @classmethod
    def of(cls, raw: Any) -> Wanted:
        return cls(raw, as_number(raw), as_instant(raw))


def equals(doc_value: Any, wanted: Wanted, text_field: bool) -> bool:
    """`term` equality: numbers as numbers, timestamps as instants, text against its tokens."""
    if isinstance(doc_value, bool):
        return wanted.raw is doc_value or str(wanted.raw).lower() == str(doc_value).lower()
    if wanted.number is not None:
        number = as_number(doc_value)
        if number is not None:
            return number == wanted.number
    if isinstance(doc_value, str) and text_field:
        return isinstance(wanted.raw, str) and wanted.raw in tokens(doc_value)
    if wanted.instant is not None:
        instant = as_instant(doc_value)
        if instant is not None:
            return instant == wanted.instant
    return isinstance(doc_value, str) and doc_value == str(wanted.raw)


def range_key(value: Any, kind: str) -> Any:
    """A value comparable within one range kind (number, instant or string), or None."""
    if kind == "number":
        return as_number(value)
    if kind == "instant":
        return as_instant(value)
    return value if isinstance(value, str) else None


def range_kind(bound: Any) -> str:
    """How a range compares, from its bound: numbers, then timestamps, then plain strings."""
    if as_number(bound) is not None:
        return "number"
    if as_instant(bound) is not None:
        return "instant"
    if isinstance(bound, str):
        return "string"
    raise bad_query(f"[range] cannot compare with [{bound!r}]")


# ---------------------------------------------------------------------------------------------
# Query DSL subset: bool.filter of term / terms / range, match_all, nothing

Predicate = Callable[[dict[str, Any]], bool]


def compile_query(query: Any) -> Predicate:
    """Turns the request's `query` into a predicate on `{"Vrvirksomhed": company}` sources."""
    if query is None:
        return lambda _source: True
    if not isinstance(query, dict) or len(query) != 1:
        raise bad_query("[query] must be an object with exactly one query type")
    ((kind, spec),) = query.items()
    if kind == "match_all":
        if spec not in ({}, None):
            raise bad_query("[match_all] takes no parameters in the stand-in")
        return lambda _source: True
    if kind == "bool":
        return compile_bool(spec)
    raise bad_query(f"no [query] registered for [{kind}]")


def compile_bool(spec: Any) -> Predicate:
    """`bool` with only `filter` (a list or one clause), as the CVR client sends it."""
    if not isinstance(spec, dict):
        raise bad_query("[bool] query malformed, expected an object")
    unknown = set(spec) - {"filter"}
    if unknown:
        raise bad_query(f"[bool] clause {sorted(unknown)} is not supported by the stand-in")
    clauses = spec.get("filter", [])
    if isinstance(clauses, dict):
        clauses = [clauses]
    if not isinstance(clauses, list):
        raise bad_query("[bool] [filter] must be an object or an array")
    predicates = [compile_filter(clause) for clause in clauses]
    return lambda source: all(p(source) for p in predicates)


def compile_filter(clause: Any) -> Predicate:
    """One filter clause: `term`, `terms` or `range`."""
    if not isinstance(clause, dict) or len(clause) != 1:
        raise bad_query("a filter clause must be an object with exactly one query type")
    ((kind, spec),) = clause.items()
    builders = {"term": compile_term, "terms": compile_terms, "range": compile_range}
    if kind not in builders:
        raise bad_query(f"no [query] registered for [{kind}]")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise bad_query(f"[{kind}] query must name exactly one field")
    ((path, arg),) = spec.items()
    return builders[kind](path, arg)


def compile_term(path: str, arg: Any) -> Predicate:
    """`{"term": {field: v}}` or `{"term": {field: {"value": v}}}`."""
    if isinstance(arg, dict):
        if set(arg) != {"value"}:
            raise bad_query("[term] query supports only [value] in the stand-in")
        arg = arg["value"]
    return compile_terms(path, [arg])


def compile_terms(path: str, wanted: Any) -> Predicate:
    """`{"terms": {field: [v, ...]}}`: any indexed value of the field equals any wanted value."""
    if not isinstance(wanted, list) or any(isinstance(w, dict | list) for w in wanted):
        raise bad_query("[terms] query requires an array of values")
    parts = path.split(".")
    text_field = parts[-1] in TEXT_FIELDS
    values = [Wanted.of(w) for w in wanted]

    def matches(source: dict[str, Any]) -> bool:
        return any(equals(v, w, text_field) for v in values_at(source, parts) for w in values)

    return matches


def compile_range(path: str, bounds: Any) -> Predicate:
    """`{"range": {field: {"gte": ..., "lt": ...}}}` on numbers, timestamps or strings."""
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    if not isinstance(bounds, dict) or not bounds:
        raise bad_query("[range] query malformed, expected bounds")
    unknown = set(bounds) - set(ops)
    if unknown:
        raise bad_query(f"[range] query does not support {sorted(unknown)}")
    checks = []
    for op, bound in bounds.items():
        kind = range_kind(bound)
        checks.append((ops[op], kind, range_key(bound, kind)))
    parts = path.split(".")

    def matches(source: dict[str, Any]) -> bool:
        for value in values_at(source, parts):
            keys = [(test, range_key(value, kind), b) for test, kind, b in checks]
            if all(k is not None and test(k, b) for test, k, b in keys):
                return True
        return False

    return matches


# ---------------------------------------------------------------------------------------------
# Sort and _source


@dataclass(frozen=True)
class SortKey:
    """One `sort` entry: a dotted field or `_doc`, ascending or descending."""

    field: str
    descending: bool = False


def parse_sort(sort: Any, root: str = ROOT_KEY) -> list[SortKey] | None:
    """`["_doc"]`, `[{"f": "asc"}]`, `[{"f": {"order": "desc"}}]`, `"f"`; None when absent."""
    if sort is None:
        return None
    entries = sort if isinstance(sort, list) else [sort]
    keys = []
    for entry in entries:
        if isinstance(entry, str):
            keys.append(SortKey(entry))
            continue
        if not isinstance(entry, dict) or len(entry) != 1:
            raise bad_query("[sort] entries must be a field name or {field: order}")
        ((name, order),) = entry.items()
        if isinstance(order, dict):
            if set(order) != {"order"}:
                raise bad_query("[sort] supports only [order] in the stand-in")
            order = order["order"]
        if order not in ("asc", "desc"):
            raise bad_query(f"[sort] unknown order [{order}]")
        keys.append(SortKey(name, order == "desc"))
    for key in keys:
        if key.field != "_doc" and not key.field.startswith(root + "."):
            raise bad_query(f"[sort] on [{key.field}] is not supported by the stand-in")
    return keys


def sort_value(source: dict[str, Any], key: SortKey, position: int) -> Any:
    """What ES puts in a hit's `sort` array: doc number, number, epoch millis, or string."""
    if key.field == "_doc":
        return position
    values = []
    for value in values_at(source, key.field.split(".")):
        instant = as_instant(value)
        if instant is not None:
            values.append(int(instant.timestamp() * 1000))
        elif isinstance(value, int | float | str):
            values.append(value)
    if not values:
        return None
    comparable = sorted(values, key=mixed_order)
    return comparable[-1] if key.descending else comparable[0]


def mixed_order(value: Any) -> tuple[int, Any]:
    """Orders numbers before strings so a field of mixed types still sorts."""
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def sorted_hits(rows: list[Row], keys: list[SortKey]) -> list[Row]:
    """Stable multi-key sort, missing values last in either direction (ES's `_last`)."""
    for i in reversed(range(len(keys))):
        present = [r for r in rows if r.sort[i] is not None]
        missing = [r for r in rows if r.sort[i] is None]
        present.sort(key=lambda r, i=i: mixed_order(r.sort[i]), reverse=keys[i].descending)
        rows = present + missing
    return rows


def parse_source_filter(spec: Any) -> dict[str, Any] | bool:
    """`_source` as a tree of included paths (True at a leaf = the whole subtree), or a bool."""
    if spec is None or spec is True:
        return True
    if spec is False:
        return False
    paths = [spec] if isinstance(spec, str) else spec
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise bad_query("[_source] must be a list of field paths, a path, or a boolean")
    tree: dict[str, Any] = {}
    for path in paths:
        if "*" in path:
            raise bad_query(f"[_source] wildcards are not supported by the stand-in: [{path}]")
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if child is True:
                break
            node = child
        else:
            node[parts[-1]] = True
    return tree


_ABSENT = object()


def project(node: Any, tree: dict[str, Any] | bool) -> Any:
    """The parts of a source selected by an include tree; `_ABSENT` when nothing is selected."""
    if tree is True:
        return node
    if tree is False:
        return _ABSENT
    if isinstance(node, list):
        kept = [project(item, tree) for item in node if isinstance(item, dict)]
        kept = [item for item in kept if item is not _ABSENT]
        return kept if kept else _ABSENT
    if not isinstance(node, dict):
        return _ABSENT
    out = {}
    for key, value in node.items():
        if key in tree:
            selected = project(value, tree[key])
            if selected is not _ABSENT:
                out[key] = selected
    return out if out else _ABSENT


def select_source(source: dict[str, Any], tree: dict[str, Any] | bool) -> dict[str, Any]:
    """A hit's `_source` after includes: never absent at the top, `{}` if nothing matched."""
    selected = project(source, tree)
    return {} if selected is _ABSENT else selected


# ---------------------------------------------------------------------------------------------
# Search requests, hits and scroll contexts


@dataclass
class Row:
    """A matching document with its position (for `_doc`) and its sort values."""

    source: dict[str, Any]
    position: int
    sort: list[Any]


@dataclass
class SearchSpec:
    """A parsed search request body plus query-string parameters."""

    predicate: Predicate
    size: int
    offset: int
    sort: list[SortKey] | None
    source_tree: dict[str, Any] | bool
    scroll_seconds: float | None
    root: str = ROOT_KEY


@dataclass
class ScrollContext:
    """A scroll's snapshot of matches, where it is, and when it was last used."""

    ident: int
    rows: list[Row]
    size: int
    sort: list[SortKey] | None
    source_tree: dict[str, Any] | bool
    keep_alive: float
    last_used: float
    position: int = 0
    pages: int = 0
    root: str = ROOT_KEY


def parse_time_value(text: str, setting: str = "scroll") -> float:
    """ES time values (`5m`, `30s`, `1000ms`) in seconds; 400 like ES for anything else."""
    match = re.fullmatch(r"(\d+)(nanos|micros|ms|s|m|h|d)", text.strip())
    if not match:
        raise es_error(
            400,
            "parse_exception",
            f"failed to parse setting [{setting}] with value [{text}] as a time value: "
            "unit is missing or unrecognized",
        )
    return int(match.group(1)) * TIME_UNITS[match.group(2)]


def int_param(value: Any, name: str) -> int:
    """A non-negative integer from the body or the query string."""
    number = as_number(value)
    if number is None or number < 0 or number != int(number):
        raise bad_query(f"[{name}] must be a non-negative integer, got [{value}]")
    return int(number)


def parse_search(body: Any, params: dict[str, str], path: str = SEARCH_PATH) -> SearchSpec:
    """Validates a `_search` request the way ES 6 would, for the subset the stand-in serves."""
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise bad_query("request body must be a JSON object")
    unknown = set(body) - SEARCH_KEYS
    if unknown:
        raise bad_query(f"Unknown key for a START_OBJECT in [{sorted(unknown)[0]}].")
    unknown = set(params) - SEARCH_PARAMS
    if unknown:
        raise es_error(
            400,
            "illegal_argument_exception",
            f"request [{path}] contains unrecognized parameter: [{sorted(unknown)[0]}]",
        )
    size = int_param(params.get("size", body.get("size", 10)), "size")
    offset = int_param(params.get("from", body.get("from", 0)), "from")
    scroll = parse_time_value(params["scroll"]) if "scroll" in params else None
    if scroll is not None and offset:
        raise es_error(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: using [from] is not allowed in a scroll context;",
        )
    window = offset + size
    if window > MAX_RESULT_WINDOW:
        setting = "This limit can be set by changing the [index.max_result_window] index level"
        if scroll is None:
            reason = (
                "Result window is too large, from + size must be less than or equal to: "
                f"[{MAX_RESULT_WINDOW}] but was [{window}]. See the scroll api for a more "
                f"efficient way to request large data sets. {setting} setting."
            )
        else:
            reason = (
                f"Batch size is too large, size must be less than or equal to: "
                f"[{MAX_RESULT_WINDOW}] but was [{window}]. Scroll batch sizes cost as much "
                f"memory as result windows so they are controlled by the "
                f"[index.max_result_window] index level setting."
            )
        raise shard_failure(500, "query_phase_execution_exception", reason)
    return SearchSpec(
        predicate=compile_query(body.get("query")),
        size=size,
        offset=offset,
        sort=parse_sort(body.get("sort"), ROOTS.get(path, ROOT_KEY)),
        source_tree=parse_source_filter(body.get("_source")),
        scroll_seconds=scroll,
        root=ROOTS.get(path, ROOT_KEY),
    )


def make_hit(
    row: Row, spec_sort: list[SortKey] | None, tree: dict[str, Any] | bool, root: str = ROOT_KEY
) -> dict:
    """One hit exactly as in `example_scroll_response_page1.json`."""
    company = row.source[root]
    hit: dict[str, Any] = {
        "_index": INDEX,
        "_type": "_doc",
        "_id": str(company.get("enhedsNummer") or company.get("cvrNummer")),
        "_score": None,
    }
    if tree is not False:
        hit["_source"] = select_source(row.source, tree)
    if spec_sort is not None:
        hit["sort"] = row.sort
    return hit


def extra_hit(template: dict[str, Any]) -> dict[str, Any]:
    """A test's non-record hit, completed with the envelope fields a real hit carries."""
    return {"_index": INDEX, "_type": "_doc", "_id": "-1", "_score": None, **template}


def encode_scroll_id(ident: int, page: int) -> str:
    """An id in the shape ES 6 uses (base64 of `queryThenFetch` + shard contexts); new per page."""
    raw = SCROLL_ID_PREFIX + struct.pack(">QI", ident, page) + os.urandom(24)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_scroll_id(text: Any) -> int:
    """The context number in a scroll id; 400 `Cannot parse scroll id` like ES for garbage."""
    error = es_error(400, "illegal_argument_exception", "Cannot parse scroll id")
    if not isinstance(text, str) or not text:
        raise error
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise error from None
    head = len(SCROLL_ID_PREFIX)
    if not raw.startswith(SCROLL_ID_PREFIX) or len(raw) < head + 12:
        raise error
    return struct.unpack(">Q", raw[head : head + 8])[0]


def context_missing(ident: int) -> EsError:
    """ES's 404 for an expired or cleared scroll (ES names its internal context number)."""
    reason = f"No search context found for id [{ident}]"
    return shard_failure(404, "search_context_missing_exception", reason, index=None)


def as_company(obj: dict[str, Any]) -> dict[str, Any]:
    """A company object from a company, `{"Vrvirksomhed": ...}`, or a whole hit."""
    if "_source" in obj:
        obj = obj["_source"]
    return obj.get(ROOT_KEY, obj)


def as_unit(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A production unit from `{"VrproduktionsEnhed": ...}` or a whole hit, else None."""
    if "_source" in obj:
        obj = obj["_source"]
    unit = obj.get(UNIT_ROOT_KEY) if isinstance(obj, dict) else None
    return unit if isinstance(unit, dict) else None


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Companies from a JSON-lines file: one company, source or hit per line (production
    units in the file are left out: `load_jsonl_units`)."""
    with open(path, encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines if line.strip()]
    return [as_company(d) for d in docs if as_unit(d) is None]


def load_jsonl_units(path: str | Path) -> list[dict[str, Any]]:
    """The production units of a JSON-lines file (`{"VrproduktionsEnhed": ...}` lines)."""
    with open(path, encoding="utf-8") as lines:
        docs = [json.loads(line) for line in lines if line.strip()]
    return [u for u in map(as_unit, docs) if u is not None]


def _instant_or_min(value: Any) -> datetime:
    return as_instant(value) or datetime.min.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# The server


@dataclass
class Page:
    """A response ready to send, plus what to do once it is (or is not) delivered."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    is_page: bool = False
    context: ScrollContext | None = None
    previous_position: int = 0


class CvrStandIn:
    """The CVR ES service on 127.0.0.1 with the companies given, and switches for its faults.

    Documents are kept by reference in insertion order (duplicates allowed): treat them as
    immutable and use `add`/`replace_all` to change what the index holds. A scroll snapshots the
    matching list when it opens, as ES does.
    """

    def __init__(
        self,
        companies: list[dict[str, Any]] | None = None,
        *,
        user: str = "mikrokort",
        password: str = "secret",
        scroll_ttl: float = 300.0,
        units: list[dict[str, Any]] | None = None,
    ) -> None:
        """`units`: the production units to serve; None gives every company (the newest copy
        of each CVR number) one unit at its seat, built from its document as it is then."""
        self.user = user
        self.password = password
        self.scroll_ttl = scroll_ttl
        self.delay: float = 0.0
        self.forbidden = False
        self.extra_hit_on_first_page: dict[str, Any] | None = None
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self.params: list[dict[str, str]] = []
        self.pages_served = 0
        self.connections = 0
        self.faults: Counter[str] = Counter()
        self.paused = threading.Event()
        self._companies: list[dict[str, Any]] = [as_company(c) for c in companies or []]
        self._derive_units = units is None
        self._units: list[dict[str, Any]] = [as_unit(u) or u for u in units or []]
        self._derived: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._scrolls: dict[int, ScrollContext] = {}
        self._next_scroll = 1
        self._fail: list[tuple[int, float]] = []
        self._resets: list[bool] = []
        self._partial = 0
        self._pause_at: int | None = None
        self._blocked = 0
        self._die_after: int | None = None
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    # -- data ------------------------------------------------------------------------------

    @property
    def companies(self) -> list[dict[str, Any]]:
        """A copy of the list the index serves, in insertion order."""
        with self._lock:
            return list(self._companies)

    def add(self, company: dict[str, Any]) -> None:
        """Indexes one more company (a second copy of a cvrNummer is kept, as the register does);
        a `{"VrproduktionsEnhed": ...}` object or hit goes to the production units."""
        unit = as_unit(company)
        with self._lock:
            if unit is not None:
                self._units.append(unit)
            else:
                self._companies.append(as_company(company))

    def replace_all(self, companies: Iterable[dict[str, Any]]) -> None:
        """Swaps the whole company index; open scrolls keep their snapshot."""
        fresh = [as_company(c) for c in companies]
        with self._lock:
            self._companies = fresh

    def replace_units(self, units: Iterable[dict[str, Any]], *, seat_units: bool = False) -> None:
        """Swaps the production units given explicitly; `seat_units` also keeps (or stops)
        giving every company its unit at its seat."""
        fresh = [as_unit(u) or u for u in units]
        with self._lock:
            self._units = fresh
            self._derive_units = seat_units

    @property
    def units(self) -> list[dict[str, Any]]:
        """The production units the `produktionsenhed` index serves now, derived ones first."""
        with self._lock:
            companies, units, derive = list(self._companies), list(self._units), self._derive_units
        return [*(self._seat_units(companies) if derive else []), *units]

    def _seat_units(self, companies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One unit per CVR number, from the newest copy of its company (by sidstIndlaest,
        then samtId), cached per document object (documents are treated as immutable)."""
        from tests.standins.cvr_documents import seat_unit

        newest: dict[Any, dict[str, Any]] = {}
        for c in companies:
            cvr = c.get("cvrNummer")
            if not isinstance(cvr, int):
                continue
            old = newest.get(cvr)
            key = (_instant_or_min(c.get("sidstIndlaest")), c.get("samtId") or 0)
            if old is None or key >= (
                _instant_or_min(old.get("sidstIndlaest")),
                old.get("samtId") or 0,
            ):
                newest[cvr] = c
        out = []
        for company in newest.values():
            cached = self._derived.get(id(company))
            if cached is None or cached[0] is not company:
                cached = (company, seat_unit(company))
                self._derived[id(company)] = cached
            out.append(cached[1])
        return out

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Starts serving in a daemon thread; returns the base URL `http://127.0.0.1:PORT`."""
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        self._stopping = False
        server = ThreadingHTTPServer((host, port), _Handler)
        server.daemon_threads = True
        server.standin = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        """The base URL, once started."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stops serving, releases paused requests and drops kept-alive connections."""
        server = self._server
        if server is None:
            return
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        server.shutdown()
        server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> CvrStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, *, reset_seconds: float = 1) -> None:
        """The next n requests of any kind get `status` with an ES error body (429: + header)."""
        with self._lock:
            self._fail.extend([(status, reset_seconds)] * n)

    def reset_next(self, n: int = 1, *, advance_scroll: bool = True) -> None:
        """The next n page responses are cut mid-body by a TCP reset.

        Like the real service, the scroll has already moved on when the connection dies
        (`advance_scroll=True`): retrying the same scroll id skips that page. Pass False to
        model a failure before ES did the work.
        """
        with self._lock:
            self._resets.extend([advance_scroll] * n)

    def partial_next(self, n: int = 1) -> None:
        """The next n pages answer 200 with a shard failure and only half their hits, as ES
        does by default when a shard fails (`allow_partial_search_results`)."""
        with self._lock:
            self._partial += n

    def _take_partial(self) -> bool:
        with self._lock:
            if not self._partial:
                return False
            self._partial -= 1
            self.faults["partial"] += 1
            return True

    def pause_after_pages(self, n: int) -> None:
        """Once n more pages have been served (counted from now, over all searches and
        scrolls), every further page request blocks until `resume()`; `paused` is set meanwhile.
        """
        with self._lock:
            self._pause_at = self.pages_served + n

    def resume(self) -> None:
        """Releases blocked page requests and stops pausing."""
        with self._wake:
            self._pause_at = None
            self._wake.notify_all()

    def expire_scrolls(self) -> None:
        """Every open scroll dies now: its ids answer 404 search_context_missing_exception."""
        with self._lock:
            self._scrolls.clear()

    def expire_scroll_after_pages(self, n: int | None) -> None:
        """Each scroll dies once n pages (the opening search included) were served in it."""
        with self._lock:
            self._die_after = n

    @property
    def search_bodies(self) -> list[Any]:
        """The bodies of the company `_search` requests only (scroll and clear bodies, and
        production-unit searches, left out)."""
        return self._bodies_of(SEARCH_PATH)

    @property
    def unit_search_bodies(self) -> list[Any]:
        """The bodies of the `produktionsenhed/_search` requests."""
        return self._bodies_of(UNIT_SEARCH_PATH)

    def _bodies_of(self, search_path: str) -> list[Any]:
        with self._lock:
            log = list(zip(self.requests, self.bodies, strict=True))
        return [body for (_, path), body in log if path.rstrip("/") == search_path]

    @property
    def open_scrolls(self) -> int:
        """How many scroll contexts are alive (not cleared, not expired)."""
        with self._lock:
            self._reap(time.monotonic())
            return len(self._scrolls)

    # -- request handling (called by _Handler) ---------------------------------------------

    def _count(self, fault: str) -> None:
        with self._lock:
            self.faults[fault] += 1

    def _record(self, method: str, path: str, params: dict[str, str], body: Any) -> None:
        with self._lock:
            self.requests.append((method, path))
            self.params.append(params)
            self.bodies.append(body)

    def _take_failure(self) -> Page | None:
        """The injected failure for this request, if one is queued."""
        with self._lock:
            if not self._fail:
                return None
            status, reset_seconds = self._fail.pop(0)
            self.faults[f"fail:{status}"] += 1
        kind, reason = FAULT_TYPES.get(status, ("exception", f"injected failure {status}"))
        page = Page(status, es_error(status, kind, reason).body)
        if status == 429:
            whole = float(reset_seconds).is_integer()
            page.headers["x-ratelimit-reset"] = str(int(reset_seconds) if whole else reset_seconds)
        return page

    def _take_reset(self) -> bool | None:
        """None for a normal answer, else whether the cut page still advances its scroll."""
        with self._lock:
            if not self._resets:
                return None
            self.faults["reset"] += 1
            return self._resets.pop(0)

    def _wait_if_paused(self) -> None:
        """Blocks a page request while the pause threshold is reached, until resume/stop."""
        with self._wake:
            if not self._must_pause():
                return
            self.faults["pause"] += 1
            self._blocked += 1
            self.paused.set()
            try:
                while self._must_pause():
                    self._wake.wait(0.1)
            finally:
                self._blocked -= 1
                if not self._blocked:
                    self.paused.clear()

    def _must_pause(self) -> bool:
        return (
            not self._stopping
            and self._pause_at is not None
            and self.pages_served >= self._pause_at
        )

    def _reap(self, now: float) -> None:
        """Drops scrolls unused for longer than their keep-alive (caller holds the lock)."""
        for ident in [i for i, c in self._scrolls.items() if now - c.last_used > c.keep_alive]:
            del self._scrolls[ident]

    def _search(self, body: Any, params: dict[str, str], path: str = SEARCH_PATH) -> Page:
        """`POST /cvr-permanent/virksomhed/_search` (or `produktionsenhed`), plain or opening
        a scroll."""
        started = time.monotonic()
        spec = parse_search(body, params, path)
        if spec.root == UNIT_ROOT_KEY:
            documents = self.units
        else:
            with self._lock:
                documents = list(self._companies)
        rows = []
        for position, company in enumerate(documents):
            source = {spec.root: company}
            if spec.predicate(source):
                keys = spec.sort or []
                rows.append(Row(source, position, [sort_value(source, k, position) for k in keys]))
        if spec.sort:
            rows = sorted_hits(rows, spec.sort)
        response: dict[str, Any] = {}
        context = None
        if spec.scroll_seconds is None:
            chosen = rows[spec.offset : spec.offset + spec.size]
        else:
            with self._lock:
                ident = self._next_scroll
                self._next_scroll += 1
                context = ScrollContext(
                    ident=ident,
                    rows=rows,
                    size=spec.size,
                    sort=spec.sort,
                    source_tree=spec.source_tree,
                    keep_alive=min(spec.scroll_seconds, self.scroll_ttl),
                    last_used=time.monotonic(),
                    position=spec.size,
                    pages=1,
                    root=spec.root,
                )
                self._scrolls[ident] = context
            chosen = rows[: spec.size]
            response["_scroll_id"] = encode_scroll_id(ident, 1)
        hits = [make_hit(row, spec.sort, spec.source_tree, spec.root) for row in chosen]
        if self.extra_hit_on_first_page is not None:
            hits.insert(0, extra_hit(self.extra_hit_on_first_page))
        response.update(envelope(started, len(rows), hits))
        return Page(200, response, is_page=True, context=context, previous_position=0)

    def _scroll(self, body: Any, params: dict[str, str], path_id: str | None) -> Page:
        """`POST /_search/scroll`: the next `size` hits of the snapshot, or `[]` past the end."""
        started = time.monotonic()
        body = {} if body is None else body
        if not isinstance(body, dict) or set(body) - {"scroll", "scroll_id"}:
            raise bad_query("scroll request body takes only [scroll] and [scroll_id]")
        scroll_id = body.get("scroll_id", params.get("scroll_id", path_id))
        if scroll_id is None:
            raise es_error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: scrollId is missing;",
            )
        keep_alive = body.get("scroll", params.get("scroll"))
        seconds = None if keep_alive is None else parse_time_value(str(keep_alive))
        ident = decode_scroll_id(scroll_id)
        now = time.monotonic()
        with self._lock:
            self._reap(now)
            context = self._scrolls.get(ident)
            limited = self._die_after is not None and context is not None
            if limited and context.pages >= self._die_after:
                del self._scrolls[ident]
                context = None
            if context is None:
                self.faults["scroll_missing"] += 1
                raise context_missing(ident)
            if seconds is not None:
                context.keep_alive = min(seconds, self.scroll_ttl)
            context.last_used = now
            previous = context.position
            chosen = context.rows[previous : previous + context.size]
            context.position = previous + len(chosen)
            context.pages += 1
            page_number = context.pages
        hits = [make_hit(row, context.sort, context.source_tree, context.root) for row in chosen]
        response = {"_scroll_id": encode_scroll_id(ident, page_number)}
        response.update(envelope(started, len(context.rows), hits))
        return Page(200, response, is_page=True, context=context, previous_position=previous)

    def _clear_scroll(self, body: Any, path_id: str | None) -> Page:
        """`DELETE /_search/scroll`: frees the named scrolls; 404 when none was alive (as ES)."""
        body = {} if body is None else body
        if not isinstance(body, dict):
            raise bad_query("clear scroll body must be an object")
        ids = body.get("scroll_id", path_id)
        if ids is None:
            raise es_error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no scroll ids specified;",
            )
        ids = ids if isinstance(ids, list) else [ids]
        with self._lock:
            self._reap(time.monotonic())
            if ids == ["_all"]:
                freed = set(self._scrolls)
            else:
                freed = {i for i in map(decode_scroll_id, ids) if i in self._scrolls}
            for ident in freed:
                del self._scrolls[ident]
        return Page(200 if freed else 404, {"succeeded": True, "num_freed": len(freed)})

    def _delivered(self) -> None:
        """Counts a page sent in full, and wakes a pause waiting for that count."""
        with self._wake:
            self.pages_served += 1
            self._wake.notify_all()

    def _undo(self, page: Page) -> None:
        """Puts a scroll back where it was when its page was cut and should not count."""
        with self._lock:
            if page.context is not None:
                page.context.position = page.previous_position
                page.context.pages -= 1


def envelope(started: float, total: int, hits: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields around the hits of every search and scroll page (ES 6: `total` a number)."""
    return {
        "took": int((time.monotonic() - started) * 1000),
        "timed_out": False,
        "_shards": dict(SHARDS),
        "hits": {"total": total, "max_score": None, "hits": hits},
    }


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP/1.1 request to the stand-in; keeps connections alive between requests."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    @property
    def standin(self) -> CvrStandIn:
        return self.server.standin  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.standin._lock:
            self.standin._sockets.add(self.connection)
            self.standin.connections += 1

    def finish(self) -> None:
        with self.standin._lock:
            self.standin._sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `requests`, not stderr."""

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()

    def read_body(self) -> bytes:
        """The request body, by Content-Length or chunked transfer encoding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def dispatch(self) -> None:
        """Reads, logs, delays, applies faults and auth, then answers the route."""
        standin = self.standin
        raw = self.read_body()
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body, body_error = self.parse_body(raw)
        standin._record(self.command, split.path, params, body)
        if standin.delay:
            time.sleep(standin.delay)
        try:
            failure = standin._take_failure()
            if failure is not None:
                self.send_page(failure)
                return
            if standin.forbidden:
                standin._count("forbidden")
                self.send_html(403, HTML_403)
                return
            if not self.authorized():
                standin._count("unauthorized")
                self.send_html(401, HTML_401, {"WWW-Authenticate": 'Basic realm="CVR"'})
                return
            if body_error is not None:
                raise body_error
            page = self.route(split.path, params, body)
        except EsError as error:
            page = Page(error.status, error.body)
        if page.is_page:
            self.send_search_page(page)
        else:
            self.send_page(page)

    def parse_body(self, raw: bytes) -> tuple[Any, EsError | None]:
        """The JSON body, or the error ES 6 gives for a missing Content-Type or bad JSON."""
        if not raw.strip():
            return None, None
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith(("application/json", "application/x-ndjson")):
            body = {"error": f"Content-Type header [{ctype}] is not supported", "status": 406}
            return None, EsError(406, body)
        try:
            return json.loads(raw), None
        except (ValueError, UnicodeDecodeError) as exc:
            return None, es_error(400, "json_parse_exception", f"Unexpected character: {exc}")

    def authorized(self) -> bool:
        """HTTP basic credentials equal to the stand-in's user and password."""
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.standin.user and password == self.standin.password

    def route(self, path: str, params: dict[str, str], body: Any) -> Page:
        """The ES 6 routes the CVR client uses; 404/405 JSON like ES for the rest."""
        standin = self.standin
        method = self.command
        scroll = SCROLL_PATH.match(path)
        if path.rstrip("/") in ROOTS:
            if method not in ("GET", "POST"):
                raise method_not_allowed(path, method, "GET, POST")
            standin._wait_if_paused()
            return standin._search(body, params, path.rstrip("/"))
        if scroll:
            if method in ("GET", "POST"):
                standin._wait_if_paused()
                return standin._scroll(body, params, scroll.group("id"))
            if method == "DELETE":
                return standin._clear_scroll(body, scroll.group("id"))
            raise method_not_allowed(path, method, "POST, GET, DELETE")
        if path == "/" and method in ("GET", "HEAD"):
            return Page(200, cluster_info())
        index = path.strip("/").split("/")[0] or path
        raise es_error(
            404,
            "index_not_found_exception",
            "no such index",
            root={
                "type": "index_not_found_exception",
                "reason": "no such index",
                "resource.type": "index_or_alias",
                "resource.id": index,
                "index_uuid": "_na_",
                "index": index,
            },
        )

    def send_page(self, page: Page) -> None:
        """Sends a JSON answer in full."""
        payload = json.dumps(page.body, ensure_ascii=False).encode()
        self.send_bytes(page.status, "application/json; charset=UTF-8", payload, page.headers)

    def send_html(self, status: int, html: str, headers: dict[str, str] | None = None) -> None:
        """The gateway's HTML error page (401/403 from the real service are not JSON)."""
        self.send_bytes(status, "text/html", html.encode(), headers or {})

    def send_search_page(self, page: Page) -> None:
        """A page of hits: in full, or (when a reset is queued) cut mid-body by a TCP RST."""
        standin = self.standin
        if standin._take_partial():
            hits = page.body["hits"]["hits"]
            page.body["hits"]["hits"] = hits[: len(hits) // 2]
            page.body["_shards"] = {**SHARDS, "successful": SHARDS["total"] - 1, "failed": 1}
        payload = json.dumps(page.body, ensure_ascii=False).encode()
        advance = standin._take_reset()
        if advance is None:
            # counted before the bytes leave, so a client that has the page sees the new count
            standin._delivered()
            self.send_bytes(page.status, "application/json; charset=UTF-8", payload, {})
            return
        if not advance:
            standin._undo(page)
        self.send_head(page.status, "application/json; charset=UTF-8", len(payload), {})
        try:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
        except OSError:
            pass
        self.reset_connection()

    def send_head(self, status: int, ctype: str, length: int, headers: dict[str, str]) -> None:
        """Status line and headers, with the full Content-Length."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_bytes(self, status: int, ctype: str, payload: bytes, headers: dict[str, str]) -> None:
        """Sends a whole response; a client that has gone away just closes the connection."""
        try:
            self.send_head(status, ctype, len(payload), headers)
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def reset_connection(self) -> None:
        """Aborts the TCP connection with RST (SO_LINGER on, zero timeout) instead of FIN."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # the read buffer holds a reference to the socket: drop it so close() really closes;
        # the writer is left open because the request loop still flushes it once
        self.rfile.close()
        sock.close()


def method_not_allowed(path: str, method: str, allowed: str) -> EsError:
    """ES 6's 405 answer for a known path with the wrong method."""
    reason = f"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{allowed}]"
    return EsError(405, {"error": reason, "status": 405})


def cluster_info() -> dict[str, Any]:
    """`GET /`: what an ES 6 node says about itself (handy as a health check)."""
    return {
        "name": "cvr-standin",
        "cluster_name": "cvr-permanent",
        "version": {"number": "6.8.23", "lucene_version": "7.7.3"},
        "tagline": "You Know, for Search",
    }


def main(argv: list[str] | None = None) -> None:
    """Serves companies from a JSON-lines file until Ctrl-C, for manual trials and benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--jsonl", type=Path, help="one company object (or hit) per line")
    parser.add_argument("--user", default="mikrokort")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--scroll-ttl", type=float, default=300.0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also serve the register's awkward cases (secret and fax numbers, ended contacts, "
        "Uoplyst industries, every status, ...): tests/standins/cvr_documents.variant_documents",
    )
    args = parser.parse_args(argv)
    companies = load_jsonl(args.jsonl) if args.jsonl else []
    units = load_jsonl_units(args.jsonl) if args.jsonl else []
    if args.variants:
        from tests.standins.cvr_documents import variant_documents

        companies += list(variant_documents().values())
    standin = CvrStandIn(
        companies, user=args.user, password=args.password, scroll_ttl=args.scroll_ttl
    )
    for unit in units:  # beside the seat units every company has
        standin.add({UNIT_ROOT_KEY: unit})
    standin.delay = args.delay
    url = standin.start(port=args.port, host=args.host)
    print(f"{len(companies)} companies, serving on {url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
