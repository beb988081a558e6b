"""The `filter` parameter: CQL2 text or JSON (OGC API - Features Part 3), parsed by pygeofilter
and checked against the collection's queryables into the stores' filter form
(`chalicelib.domain.filters`).

Why checked here and not in the stores: a filter that names a property the collection does not
have, compares a date with a number, or uses an operator the service does not offer must be a
400 that says so, the same on every store, before any store is asked.

`filter-lang=cql-text` (the draft CQL text that GDAL's OAPIF driver sends, e.g.
`founded >= '2020-01-01T'`, `name ILIKE 'a%'`) is read with pygeofilter's ECQL grammar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.filters import COMPARISON_OPS, Filter, Queryable
from chalicelib.domain.public import public_code
from chalicelib.web.params import parse_municipality

FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}


class _Bad(Exception):
    """A filter the service cannot answer; the message says why (a 400)."""


def parse_filter(
    text: str, lang: str | None, queryables: dict[str, Queryable], *, geometry: bool = True
) -> Filter:
    """The checked filter form of a `filter` parameter, or InvalidParameter (a 400)."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidParameter(
            f"filter-lang must be one of {', '.join(FILTER_LANGS)}", parameter="filter-lang"
        )
    if not text.strip():
        raise InvalidParameter("filter is empty", parameter="filter")
    if len(text) > 20_000:
        raise InvalidParameter("filter is longer than 20,000 characters", parameter="filter")
    try:
        node = _parse(text, lang)
    except _Bad as exc:
        raise InvalidParameter(f"filter: {exc}", parameter="filter") from None
    except Exception as exc:  # the parsers raise lark's and their own errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidParameter(
            f"filter is not valid {lang}: {first[:300]}", parameter="filter"
        ) from None
    try:
        return _Checker(queryables, geometry).condition(node)
    except _Bad as exc:
        raise InvalidParameter(f"filter: {exc}", parameter="filter") from None


def _parse(text: str, lang: str) -> Any:
    if lang == "cql2-json":
        import orjson

        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Bad("filter-lang is cql2-json but the filter is not JSON") from None
        from pygeofilter.parsers.cql2_json import parse

        return parse(doc)
    if lang == "cql-text":
        from pygeofilter.parsers.ecql import parse as parse_ecql

        return parse_ecql(text)
    from pygeofilter.parsers.cql2_text import parse as parse_text

    return parse_text(text)


class _Checker:
    """Walks pygeofilter's tree and builds the filter form, checking names, types and operators."""

    def __init__(self, queryables: dict[str, Queryable], geometry: bool) -> None:
        self.queryables = queryables
        self.geometry = geometry

    def condition(self, node: Any) -> Filter:
        from pygeofilter import ast

        if isinstance(node, bool):
            return ["const", node]
        if isinstance(node, ast.And):
            return ["and", self.condition(node.lhs), self.condition(node.rhs)]
        if isinstance(node, ast.Or):
            return ["or", self.condition(node.lhs), self.condition(node.rhs)]
        if isinstance(node, ast.Not):
            return ["not", self.condition(node.sub_node)]
        if isinstance(node, ast.Include):
            return ["const", not node.not_]
        if isinstance(node, ast.Comparison):
            return self.comparison(_OPS[node.op.value], node.lhs, node.rhs)
        if isinstance(node, ast.Between):
            name = self.attribute(node.lhs)
            low = self.literal(name, node.low)
            high = self.literal(name, node.high)
            both = ["and", self.compare(name, ">=", low), self.compare(name, "<=", high)]
            return ["not", both] if node.not_ else both
        if isinstance(node, ast.Like):
            name = self.attribute(node.lhs)
            if self.queryables[name].type != "string":
                raise _Bad(f"LIKE needs a text property; '{name}' is {self.queryables[name].type}")
            if not isinstance(node.pattern, str):
                raise _Bad("LIKE needs a text pattern")
            # ILIKE (CQL text) compares both sides in one case
            term: Filter = ["ilike" if node.nocase else "like", name, node.pattern]
            return ["not", term] if node.not_ else term
        if isinstance(node, ast.In):
            name = self.attribute(node.lhs)
            values = [self.literal(name, v) for v in node.sub_nodes]
            if not values:
                raise _Bad("IN needs at least one value")
            if any(isinstance(v, _Instant) for v in values):
                terms = [self.compare(name, "=", v) for v in values]
                either: Filter = ["or", *terms]
                return ["not", either] if node.not_ else either
            term = ["in", name, sorted(set(values), key=str)]
            return ["not", term] if node.not_ else term
        if isinstance(node, ast.IsNull):
            term = ["null", self.attribute(node.lhs)]
            return ["not", term] if node.not_ else term
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self.spatial(node)
        if isinstance(node, ast.Attribute):  # a boolean property on its own
            name = self.attribute(node)
            if self.queryables[name].type != "boolean":
                raise _Bad(f"'{name}' is not a condition (it is {self.queryables[name].type})")
            return ["cmp", "=", name, True]
        raise _Bad(f"{type(node).__name__} is not supported here")

    def attribute(self, node: Any) -> str:
        from pygeofilter import ast

        if not isinstance(node, ast.Attribute):
            raise _Bad("the left side of a comparison must be a property (see queryables)")
        name = node.name.strip('"')
        if name not in self.queryables:
            raise _Bad(
                f"unknown property '{name}'; the queryables are: "
                f"{', '.join(sorted(self.queryables))}"
            )
        return name

    def comparison(self, op: str, lhs: Any, rhs: Any) -> Filter:
        from pygeofilter import ast

        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs, op = rhs, lhs, _FLIP[op]
        name = self.attribute(lhs)
        return self.compare(name, op, self.literal(name, rhs))

    def compare(self, name: str, op: str, value: Any) -> Filter:
        """A comparison; an instant with a time of day against a date property is moved to the
        days it means (the property's days start at midnight UTC)."""
        if isinstance(value, _Instant):
            day, exact = value.day, value.midnight
            if exact:
                return ["cmp", op, name, day]
            if op == "=":
                return ["and", ["cmp", "=", name, day], ["const", False]]
            if op == "<>":
                return ["not", ["null", name]]
            return ["cmp", {"<": "<=", "<=": "<=", ">": ">", ">=": ">"}[op], name, day]
        return ["cmp", op, name, value]

    def literal(self, name: str, value: Any) -> Any:
        """A literal as the property's type holds it, or _Bad saying what was expected."""
        from pygeofilter import ast

        q = self.queryables[name]
        if isinstance(value, ast.Node):
            raise _Bad(f"'{name}' can only be compared with a value (no expressions)")
        kind = q.type
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise _Bad(f"'{name}' is true or false")
        if kind in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _Bad(f"'{name}' is a number")
            return value
        if kind == "date":
            return _date_literal(name, value)
        if kind == "date-time":
            return _datetime_literal(name, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _Bad(f"'{name}' is text: compare it with a quoted value")
        if name in ("municipality", "kommunekode"):
            try:  # published with four digits; 376 is read as 0376
                return public_code(parse_municipality(value.strip()))
            except InvalidParameter:
                raise _Bad(f"'{name}' is a kommunekode such as '0376'") from None
        if q.enum is not None and value not in q.enum:
            raise _Bad(f"'{name}' is one of {', '.join(q.enum)}")
        return value

    def temporal(self, node: Any) -> Filter:
        from pygeofilter import ast
        from pygeofilter.values import Interval

        name = self.attribute(node.lhs)
        if self.queryables[name].type not in ("date", "date-time"):
            raise _Bad(f"'{name}' is not a date")
        other = node.rhs
        if isinstance(other, Interval):
            start = None if other.start in (None, "..") else self.literal(name, other.start)
            end = None if other.end in (None, "..") else self.literal(name, other.end)
        else:
            start = end = self.literal(name, other)
        terms: list[Filter]
        if isinstance(node, (ast.TimeIntersects, ast.TimeEquals)) or (
            isinstance(node, ast.TimeDuring) and isinstance(other, Interval)
        ):
            terms = []
            if start is not None:
                terms.append(self.compare(name, ">=", start))
            if end is not None:
                terms.append(self.compare(name, "<=", end))
            if isinstance(node, ast.TimeEquals) and isinstance(other, Interval):
                raise _Bad("T_EQUALS of a date property and an interval is never true")
            return ["and", *terms] if terms else ["not", ["null", name]]
        if isinstance(node, ast.TimeBefore):
            if start is None:
                raise _Bad("T_BEFORE needs a bounded interval")
            return self.compare(name, "<", start)
        if isinstance(node, ast.TimeAfter):
            if end is None:
                raise _Bad("T_AFTER needs a bounded interval")
            return self.compare(name, ">", end)
        if isinstance(node, ast.TimeDisjoint):
            parts = []
            if start is not None:
                parts.append(self.compare(name, "<", start))
            if end is not None:
                parts.append(self.compare(name, ">", end))
            return ["or", *parts] if parts else ["const", False]
        raise _Bad(
            f"{type(node).__name__} is not offered: use T_INTERSECTS, T_EQUALS, T_BEFORE, "
            "T_AFTER, T_DURING or T_DISJOINT (a date property is an instant)"
        )

    def spatial(self, node: Any) -> Filter:
        from pygeofilter import ast

        if not self.geometry:
            raise _Bad("this collection has no geometry to filter on")
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name.strip('"') != "geometry":
            raise _Bad("spatial predicates compare the property 'geometry' with a geometry")
        box = _box_of(rhs)
        if isinstance(node, ast.GeometryIntersects):
            return ["bbox", box] if box is not None else ["intersects", _geometry_of(rhs)]
        if isinstance(node, ast.GeometryDisjoint):
            inner = ["bbox", box] if box is not None else ["intersects", _geometry_of(rhs)]
            return ["and", ["not", ["null", "geometry"]], ["not", inner]]
        raise _Bad(f"{type(node).__name__} is not offered: use S_INTERSECTS or S_DISJOINT")


_OPS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
assert set(_OPS.values()) == set(COMPARISON_OPS)


class _Instant:
    """A date-time literal compared with a date property: its UTC day, and whether it is that
    day's midnight (only then is it the day itself)."""

    def __init__(self, moment: datetime) -> None:
        utc = moment.astimezone(UTC) if moment.tzinfo else moment
        self.day = utc.date().isoformat()
        self.midnight = (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0)

    def __str__(self) -> str:
        return self.day


def _date_literal(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return _Instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("T", "t")):  # GDAL's date-only form: 2020-01-01T
            text = text[:-1]
        try:
            if len(text) == 10:
                return date.fromisoformat(text).isoformat()
            return _Instant(datetime.fromisoformat(text.replace("z", "Z")))
        except ValueError:
            pass
    raise _Bad(f"'{name}' is a date: compare it with DATE('2020-01-01') or '2020-01-01'")


def _datetime_literal(name: str, value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str):
        text = value.strip().rstrip("Tt")
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise _Bad(
                f"'{name}' is a date-time: compare it with TIMESTAMP('2020-01-01T00:00:00Z')"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        raise _Bad(f"'{name}' is a date-time")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _box_of(value: Any) -> list[float] | None:
    from pygeofilter import ast
    from pygeofilter.values import Envelope

    if isinstance(value, Envelope):
        box = [value.x1, value.y1, value.x2, value.y2]
    elif isinstance(value, ast.Function) and value.name.lower() == "bbox":
        args = value.arguments
        if len(args) == 6:
            args = [args[0], args[1], args[3], args[4]]
        if len(args) != 4 or not all(isinstance(a, (int, float)) for a in args):
            raise _Bad("BBOX needs 4 numbers: minLon, minLat, maxLon, maxLat")
        box = [float(a) for a in args]
    else:
        return None
    if box[0] > box[2] or box[1] > box[3]:
        raise _Bad("the box's minimum is above its maximum")
    return box


def _geometry_of(value: Any) -> dict[str, Any]:
    from pygeofilter.values import Geometry

    if not isinstance(value, Geometry):
        raise _Bad("a spatial predicate needs a geometry (WKT, GeoJSON, BBOX or ENVELOPE)")
    geometry = dict(value.geometry)
    geometry.pop("crs", None)
    if geometry.get("type") not in (
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    ):
        raise _Bad(f"geometry type {geometry.get('type')} is not supported")
    from shapely.geometry import shape

    try:
        if not shape(geometry).is_valid:
            raise _Bad("the filter's geometry is not valid (a ring crosses itself?)")
    except (ValueError, TypeError, AttributeError):
        raise _Bad("the filter's geometry cannot be read") from None
    return geometry


def equality_filter(name: str, value: str, queryables: dict[str, Queryable]) -> Filter:
    """`?property=value` (OGC API - Features Part 1, 7.15.7): the property equals the value,
    read as the property's type; a 400 naming the parameter when it cannot be."""
    checker = _Checker(queryables, geometry=False)
    kind = queryables[name].type
    literal: Any = value
    if kind in ("integer", "number"):
        try:
            literal = int(value) if kind == "integer" else float(value)
        except ValueError:
            raise InvalidParameter(f"{name} must be a number", parameter=name) from None
    try:
        return checker.compare(name, "=", checker.literal(name, literal))
    except _Bad as exc:
        raise InvalidParameter(str(exc), parameter=name) from None
