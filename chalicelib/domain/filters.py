"""A checked attribute and spatial filter over public features, and its one reading in Python.

The API parses CQL2 (text or JSON) into this small form (`chalicelib.features.cql`); each store
answers it in its own language (SQLite's WHERE clause, DynamoDB's index plan with this module's
`matches` on the candidates), and the contract tests hold them to one answer. Everything is
decided on the *public* properties, after the privacy rules: a filter can only select on what
the public sees, so it cannot reveal what is hidden.

The form is plain JSON (lists, strings, numbers), so a cursor can be bound to it:

    ["and", f, f, ...]   ["or", f, f, ...]   ["not", f]   ["const", true | false]
    ["cmp", op, property, value]     op: "=", "<>", "<", "<=", ">", ">="
    ["like", property, pattern]      CQL2 LIKE: % any run, _ one character, \\ escapes
    ["ilike", property, pattern]     the same, case ignored (CQL text's ILIKE)
    ["in", property, [value, ...]]
    ["null", property]
    ["bbox", [minx, miny, maxx, maxy]]          the geometry intersects the box (CRS84)
    ["intersects", geojson-geometry]             the geometry intersects a geometry (CRS84)
    ["utm32box", [minE, minN, maxE, maxN]]       the geometry meets an EPSG:25832 rectangle

Values are typed by the property (see `Queryable`): dates and date-times as ISO 8601 text,
which compares in time order. Comparisons follow SQL's three-valued logic, as CQL2 does: a
comparison with a missing value is unknown, `NOT unknown` is unknown, and a feature is selected
only when the whole filter is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from chalicelib.domain.geo import geometry_bounds, geometry_intersects_bbox

Filter = list[Any]
QueryableType = Literal["string", "date", "date-time", "integer", "number", "boolean"]
ORDER_OPS = ("<", "<=", ">", ">=")
COMPARISON_OPS = ("=", "<>", *ORDER_OPS)


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name, with the type its values have in the public features."""

    name: str
    type: QueryableType
    description: str = ""
    enum: tuple[str, ...] | None = None


# -- the reading in Python ----------------------------------------------------------------------


def matches(feature: dict[str, Any], f: Filter) -> bool:
    """Whether a public feature is selected by the filter (true, not unknown)."""
    return _truth(feature, f) is True


def _value(feature: dict[str, Any], name: str) -> Any:
    if name == "id":
        return feature.get("id")
    if name == "geometry":
        return feature.get("geometry")
    return (feature.get("properties") or {}).get(name)


def _truth(feature: dict[str, Any], f: Filter) -> bool | None:
    kind = f[0]
    if kind == "and":
        result: bool | None = True
        for part in f[1:]:
            t = _truth(feature, part)
            if t is False:
                return False
            if t is None:
                result = None
        return result
    if kind == "or":
        result = False
        for part in f[1:]:
            t = _truth(feature, part)
            if t is True:
                return True
            if t is None:
                result = None
        return result
    if kind == "not":
        t = _truth(feature, f[1])
        return None if t is None else not t
    if kind == "const":
        return bool(f[1])
    if kind == "null":
        return _value(feature, f[1]) is None
    if kind in ("bbox", "intersects", "utm32box"):
        geometry = feature.get("geometry")
        if geometry is None:
            return None
        if kind == "bbox":
            return _geometry_in_box(geometry, f[1])
        if kind == "utm32box":
            from chalicelib.domain.crs import EPSG25832, geometry_intersects_crs_bbox

            return geometry_intersects_crs_bbox(geometry, tuple(f[1]), EPSG25832)
        return _geometries_intersect(geometry, f[1])
    value = _value(feature, f[1] if kind != "cmp" else f[2])
    if value is None:
        return None
    if kind == "cmp":
        return _compare(value, f[1], f[3])
    if kind == "like":
        return like_regex(f[2]).fullmatch(str(value)) is not None
    if kind == "ilike":
        return like_regex(f[2].casefold()).fullmatch(str(value).casefold()) is not None
    if kind == "in":
        return value in f[2]
    raise ValueError(f"unknown filter term {kind!r}")


def _compare(value: Any, op: str, literal: Any) -> bool:
    if op == "=":
        return bool(value == literal)
    if op == "<>":
        return bool(value != literal)
    if op == "<":
        return bool(value < literal)
    if op == "<=":
        return bool(value <= literal)
    if op == ">":
        return bool(value > literal)
    return bool(value >= literal)


def _geometry_in_box(geometry: dict[str, Any], box: list[float]) -> bool:
    minx, miny, maxx, maxy = geometry_bounds(geometry)
    if minx > box[2] or maxx < box[0] or miny > box[3] or maxy < box[1]:
        return False
    return geometry_intersects_bbox(geometry, (box[0], box[1], box[2], box[3]))


def _geometries_intersect(geometry: dict[str, Any], other: dict[str, Any]) -> bool:
    from shapely.geometry import shape

    return bool(shape(geometry).intersects(_shape_of(orjson_key(other))))


def orjson_key(geometry: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(geometry, option=orjson.OPT_SORT_KEYS).decode()


@lru_cache(maxsize=64)
def _shape_of(key: str) -> Any:
    """A filter's geometry as a prepared shape, built once per distinct geometry."""
    import orjson
    from shapely import prepare
    from shapely.geometry import shape

    geometry = shape(orjson.loads(key))
    prepare(geometry)
    return geometry


def like_tokens(pattern: str) -> list[tuple[str, str]]:
    """A CQL2 LIKE pattern read once for every translation: ("any", "%"), ("one", "_") and
    ("literal", ch); `\\` escapes the next character, and a trailing one is itself a literal."""
    out: list[tuple[str, str]] = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(("literal", ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(("any", ch))
        elif ch == "_":
            out.append(("one", ch))
        else:
            out.append(("literal", ch))
    if escaped:
        out.append(("literal", "\\"))
    return out


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    """CQL2 LIKE as a regular expression: `%` any run, `_` one character; case and accents
    count, as in CQL2 without CASEI/ACCENTI."""
    parts = {"any": lambda _: ".*", "one": lambda _: ".", "literal": re.escape}
    return re.compile("".join(parts[kind](ch) for kind, ch in like_tokens(pattern)), re.DOTALL)


# -- what an index can use ------------------------------------------------------------------------


def conjuncts(f: Filter | None) -> list[Filter]:
    """The terms that must all hold (the top-level AND), flattened."""
    if f is None:
        return []
    if f[0] == "and":
        return [t for part in f[1:] for t in conjuncts(part)]
    return [f]


def required_values(f: Filter | None, name: str) -> list[Any] | None:
    """The values a property must take for the filter to hold (from a top-level `=` or IN),
    or None when the filter does not pin it down. An index on the property can then read just
    those values."""
    found: set[Any] | None = None
    for term in conjuncts(f):
        values: set[Any] | None = None
        if term[0] == "cmp" and term[1] == "=" and term[2] == name:
            values = {term[3]}
        elif term[0] == "in" and term[1] == name:
            values = set(term[2])
        if values is not None:
            found = values if found is None else found & values
    return None if found is None else sorted(found)


def required_box(f: Filter | None) -> tuple[float, float, float, float] | None:
    """A box every selected feature's geometry meets (from top-level spatial terms), or None."""
    box: tuple[float, float, float, float] | None = None
    for term in conjuncts(f):
        if term[0] == "bbox":
            b = tuple(term[1])
        elif term[0] == "intersects":
            b = geometry_bounds(term[1])
        else:
            continue
        if box is None:
            box = (b[0], b[1], b[2], b[3])
        else:
            box = (max(box[0], b[0]), max(box[1], b[1]), min(box[2], b[2]), min(box[3], b[3]))
    return box


def names_in(f: Filter) -> set[str]:
    """The properties a filter reads."""
    kind = f[0]
    if kind in ("and", "or"):
        return set().union(*(names_in(p) for p in f[1:]))
    if kind == "not":
        return names_in(f[1])
    if kind == "cmp":
        return {f[2]}
    if kind in ("like", "ilike", "in", "null"):
        return {f[1]}
    return set()
